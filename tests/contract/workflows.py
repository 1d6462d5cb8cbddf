"""Whole-submission workflows for `check_workflow`: a second right one, written independently of
`mock_server.client` (requests for HTTP, the `standardwebhooks` library to verify deliveries,
webhook-first with a polling fallback), and a catalogue of workflows an integrator might write
first, each the right one with one mistake, with the rule `check_workflow` must catch it by.

Every workflow has check_workflow's shape: `workflow(env) -> dict`.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from standardwebhooks.webhooks import Webhook

from mock_server.contract import WorkflowEnv

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled", "expired"}
RESULT = {"completed", "completed_with_errors"}
BLOCKED = "blocked_insufficient_credits"
Job = dict[str, Any]


class GaveUp(Exception):
    """A call kept failing, or the job took too long."""


class WebhookFirst:
    """A submission with requests: webhook-first, polling as the fallback.

    Create with an Idempotency-Key, one form upload per file with a clientUploadFlowId, complete
    with an Idempotency-Key, then wait: take deliveries (verified with `standardwebhooks`) and
    poll every `fallback` seconds anyway, never twice within 5 s; a verified event that says the
    job ended is confirmed by a poll. Transient errors (no answer, 429, 5xx) are retried with
    doubling pauses, at least Retry-After, at most `attempts` times.
    """

    attempts = 6
    fallback = 30.0
    timeout = 900.0

    def __init__(self, env: WorkflowEnv) -> None:
        self.env = env
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {env.api_key}"
        self.key = uuid.uuid4().hex
        self.secret: str | None = None
        self.last_poll = -math.inf
        self.sequence = 0

    # -- the steps, each overridable by a broken variant --------------------------------------

    def run(self) -> Job:
        try:
            job = self.create()
            if job["status"] == "provisioning":
                job = self.wait(job["id"], lambda s: s != "provisioning")
            if job["status"] not in TERMINAL:
                self.upload_all(job["id"])
                job = self.wait(job["id"], lambda s: s in TERMINAL)
            return self.finish(job)
        finally:
            self.http.close()

    def create(self) -> Job:
        answer = self.call(
            "POST",
            f"/projects/{self.env.project_id}/jobs",
            json={"webhookUrl": self.env.webhook_url, "externalId": "order-1"},
            headers=self.create_headers(),
        )
        body = answer.json()
        self.secret = body.get("webhookSigningSecret")  # absent on a replay: poll only
        job: Job = body["job"]
        return job

    def create_headers(self) -> dict[str, str]:
        return {"Idempotency-Key": f"{self.key}-create"}

    def upload_all(self, job_id: str) -> None:
        for i, (name, data, ctype) in enumerate(self.files()):
            meta: dict[str, Any] = {
                "files": [{"partName": "file0", "fileName": name, "contentType": ctype}]
            }
            flow = self.flow_id(i)
            if flow is not None:
                meta["clientUploadFlowId"] = flow
            answer = self.call(
                "POST",
                f"/jobs/{job_id}/files",
                files={
                    "metadata": (None, json.dumps(meta), "application/json"),
                    "file0": (name, data, ctype),
                },
                ok=(409,),
            )
            if answer.status_code == 409:
                return  # cancelled or expired meanwhile: the wait reports it
        answer = self.call(
            "POST",
            f"/jobs/{job_id}/uploads/complete",
            json={},
            headers=self.complete_headers(),
            ok=(409,),
        )
        code = answer.json().get("error", {}).get("code") if answer.status_code == 409 else None
        if code not in (None, "uploads_closed"):
            raise GaveUp(f"complete refused: {answer.text}")

    def files(self) -> list[tuple[str, bytes, str]]:
        return list(self.env.files)

    def flow_id(self, i: int) -> str | None:
        return f"{self.key}-file{i}"

    def complete_headers(self) -> dict[str, str]:
        return {"Idempotency-Key": f"{self.key}-complete"}

    def wait(self, job_id: str, done: Callable[[str], bool]) -> Job:
        start = self.env.monotonic()
        next_poll = start
        while True:
            now = self.env.monotonic()
            if now >= next_poll - 1e-3:
                job = self.poll(job_id)
                if done(job["status"]):
                    return job
                self.on_status(job)
                next_poll = self.env.monotonic() + self.fallback
            now = self.env.monotonic()
            if now - start >= self.timeout:
                raise GaveUp(f"{job_id} not done after {self.timeout:g} s")
            status = self.next_event(job_id, max(0.0, min(next_poll, start + self.timeout) - now))
            if status is not None and (done(status) or status == BLOCKED):
                next_poll = self.env.monotonic()  # confirm by polling, as soon as allowed

    def poll(self, job_id: str) -> Job:
        answer = self.call("GET", f"/jobs/{job_id}", floor=5.0)
        job: Job = answer.json()["job"]
        return job

    def on_status(self, job: Job) -> None:
        """What to do about a non-terminal status a poll showed (nothing, by default)."""

    def next_event(self, job_id: str, timeout: float) -> str | None:
        """The status a new verified event of this job announces, or None."""
        if self.secret is None:
            self.env.sleep(timeout)
            return None
        delivery = self.env.next_webhook(timeout)
        if delivery is None:
            return None
        payload = self.verify(delivery.headers, delivery.body)
        if payload is None:
            return None
        data = payload.get("data", {})
        job = data.get("job", {})
        if job.get("id") != job_id or int(data.get("sequence", 0)) <= self.sequence:
            return None  # another job's, a duplicate, or older than what we know
        self.sequence = int(data["sequence"])
        status = job.get("status")
        return status if isinstance(status, str) else None

    def verify(self, headers: dict[str, str], body: bytes) -> dict[str, Any] | None:
        assert self.secret is not None
        try:
            payload: dict[str, Any] = Webhook(self.secret.replace("wss_", "whsec_", 1)).verify(
                body, headers
            )
        except Exception:  # the library raises ValueError too, for a malformed header
            return None
        return payload

    def finish(self, job: Job) -> Job:
        if job["status"] in RESULT:
            result: Job = self.call("GET", f"/jobs/{job['id']}/result").json()
            return result
        return job

    # -- one call, retried -------------------------------------------------------------------

    def call(
        self, method: str, path: str, *, floor: float = 0.0, ok: tuple[int, ...] = (), **kw: Any
    ) -> requests.Response:
        """One request, retried on transient errors; `floor`: the spacing the call needs anyway
        (polls: 5 s since the last poll)."""
        for attempt in range(1, self.attempts + 1):
            if floor:
                gap = self.last_poll + floor - self.env.monotonic()
                if gap > 0:
                    self.env.sleep(gap)
                self.last_poll = self.env.monotonic()
            try:
                answer: requests.Response | None = self.http.request(
                    method, self.env.base_url + path, timeout=30, **kw
                )
            except requests.ConnectionError:
                answer = None
            if answer is not None and answer.status_code < 500 and answer.status_code != 429:
                if answer.status_code >= 400 and answer.status_code not in ok:
                    raise GaveUp(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
                return answer
            if attempt == self.attempts:
                raise GaveUp(f"{method} {path} failed {attempt} times")
            self.env.sleep(self.pause(attempt, answer))
        raise AssertionError("unreachable")

    def pause(self, attempt: int, answer: requests.Response | None) -> float:
        asked = float(answer.headers.get("Retry-After", 0)) if answer is not None else 0.0
        return max(2.0**attempt, asked)


def webhook_first(env: WorkflowEnv) -> Job:
    """The second right workflow."""
    return WebhookFirst(env).run()


# --------------------------------------------------------------------------- broken


class CreateRetriedWithoutKey(WebhookFirst):
    """Creates without an Idempotency-Key: a retry after a lost answer makes a second job."""

    def create_headers(self) -> dict[str, str]:
        return {}


class UploadsTheFirstFileOnly(WebhookFirst):
    """Completes once the first file is up."""

    def files(self) -> list[tuple[str, bytes, str]]:
        return list(self.env.files)[:1]


class UploadRetriedWithoutFlowId(WebhookFirst):
    """Uploads without a clientUploadFlowId: a retry after a lost answer stores the file twice."""

    def flow_id(self, i: int) -> str | None:
        return None


class CompleteRetriedWithoutKey(WebhookFirst):
    """Completes without an Idempotency-Key: a retry after a lost answer completes again."""

    def complete_headers(self) -> dict[str, str]:
        return {}


class IgnoresRetryAfter(WebhookFirst):
    """Retries after its own doubling pause, whatever Retry-After says."""

    def pause(self, attempt: int, answer: requests.Response | None) -> float:
        return 2.0**attempt


class RetriesAtOnce(WebhookFirst):
    """Retries a failed call right away (no back-off), honouring only Retry-After."""

    def pause(self, attempt: int, answer: requests.Response | None) -> float:
        return float(answer.headers.get("Retry-After", 0)) if answer is not None else 0.0


class RetriesWithoutBound(WebhookFirst):
    """Backs off, but never gives up on a call."""

    attempts = 1000

    def pause(self, attempt: int, answer: requests.Response | None) -> float:
        return max(super().pause(min(attempt, 4), answer), 1.0)


class WebhooksOnly(WebhookFirst):
    """Waits on webhooks alone: polls once, then never again."""

    fallback = 10**9


class TrustsUnsignedWebhooks(WebhookFirst):
    """Takes every delivery at its word (no signature check)."""

    def verify(self, headers: dict[str, str], body: bytes) -> dict[str, Any] | None:
        payload: dict[str, Any] = json.loads(body)
        return payload

    def wait(self, job_id: str, done: Callable[[str], bool]) -> Job:
        # ... and believes the event's job instead of confirming by a poll
        start = self.env.monotonic()
        next_poll = start
        while True:
            if self.env.monotonic() >= next_poll - 1e-3:
                job = self.poll(job_id)
                if done(job["status"]):
                    return job
                next_poll = self.env.monotonic() + self.fallback
            if self.env.monotonic() - start > self.timeout:
                raise GaveUp(job_id)
            delivery = self.env.next_webhook(max(0.0, next_poll - self.env.monotonic()))
            if delivery is not None:
                event: Job = json.loads(delivery.body)["data"]["job"]
                if done(event["status"]):
                    return event


class FetchesAnyTerminalResult(WebhookFirst):
    """Asks for the result of every terminal job, failed and cancelled ones included."""

    def finish(self, job: Job) -> Job:
        answer = self.call("GET", f"/jobs/{job['id']}/result", ok=(409,))
        return job if answer.status_code == 409 else answer.json()


class ReturnsTheJob(WebhookFirst):
    """Returns the terminal job even when there is a result."""

    def finish(self, job: Job) -> Job:
        return job


class PollsEvery2s(WebhookFirst):
    """Polls every 2 s (no webhooks): too fast."""

    def next_event(self, job_id: str, timeout: float) -> str | None:
        self.env.sleep(2.0)
        return None

    def wait(self, job_id: str, done: Callable[[str], bool]) -> Job:
        while True:
            job: Job = self.http.get(f"{self.env.base_url}/jobs/{job_id}", timeout=30).json()[
                "job"
            ]
            if done(job["status"]):
                return job
            self.env.sleep(2.0)


class ConfirmsTwice(WebhookFirst):
    """Polls the job once more after it was served terminal, "to be sure"."""

    def finish(self, job: Job) -> Job:
        job = self.poll(job["id"])
        return super().finish(job)


class ResumesWhatIsNotMoving(WebhookFirst):
    """Resumes the job whenever a poll shows it is not processing."""

    fallback = 5.0

    def on_status(self, job: Job) -> None:
        if job["status"] != "processing":
            self.http.post(f"{self.env.base_url}/jobs/{job['id']}/resume", timeout=30)


class CancelsWhatDidNotComplete(WebhookFirst):
    """Cleans up: cancels every job that did not complete, terminal or not."""

    def finish(self, job: Job) -> Job:
        if job["status"] != "completed":
            self.http.post(f"{self.env.base_url}/jobs/{job['id']}/cancel", timeout=30)
        return super().finish(job)


class WaitsForever(WebhookFirst):
    """No timeout at all: a job blocked for credits that nobody tops up is waited on for days."""

    timeout = math.inf


@dataclass(frozen=True)
class BrokenWorkflow:
    cls: type[WebhookFirst]
    rule: str

    def __call__(self, env: WorkflowEnv) -> Job:
        return self.cls(env).run()

    @property
    def name(self) -> str:
        return self.cls.__name__


CATALOGUE: list[BrokenWorkflow] = [
    BrokenWorkflow(CreateRetriedWithoutKey, "duplicate_job"),
    BrokenWorkflow(UploadsTheFirstFileOnly, "upload_incomplete"),
    BrokenWorkflow(UploadRetriedWithoutFlowId, "upload_incomplete"),
    BrokenWorkflow(CompleteRetriedWithoutKey, "complete_repeated"),
    BrokenWorkflow(IgnoresRetryAfter, "retry_after_ignored"),
    BrokenWorkflow(RetriesAtOnce, "retry_storm"),
    BrokenWorkflow(RetriesWithoutBound, "retry_storm"),
    BrokenWorkflow(WebhooksOnly, "no_polling_fallback"),
    BrokenWorkflow(TrustsUnsignedWebhooks, "forged_webhook_trusted"),
    BrokenWorkflow(FetchesAnyTerminalResult, "result_not_available"),
    BrokenWorkflow(ReturnsTheJob, "wrong_result"),
    BrokenWorkflow(PollsEvery2s, "polling_too_fast"),
    BrokenWorkflow(ConfirmsTwice, "poll_after_terminal"),
    BrokenWorkflow(ResumesWhatIsNotMoving, "resume_not_blocked"),
    BrokenWorkflow(CancelsWhatDidNotComplete, "cancel_not_cancellable"),
    BrokenWorkflow(WaitsForever, "unbounded"),
]
