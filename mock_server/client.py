"""A reference client for Plangrep's job API: the waiting loop integrators can copy.

Two flavours with the same behaviour: `PlangrepClient` (standard library only: `urllib.request`)
and `AsyncPlangrepClient` (aiohttp). `wait_for_job()` and `wait_for_job_async()` wrap them in the
shape `mock_server.contract.check_client` takes: `(base_url, api_key, job_id, sleep) -> job`.

How it waits, and why:

- It polls `GET /jobs/{jobId}` every `interval` seconds (default 15 s, never below Plangrep's 5 s
  floor) plus up to `jitter` x interval of random jitter, so many clients do not poll in step.
- It stops at the first terminal status and returns that job (completed, completed_with_errors,
  failed, cancelled and expired are all answers, not errors: the caller decides what they mean).
- A 429 or 503 with `Retry-After` is honoured: the next request waits at least that long.
- 5xx answers and network errors are transient: it backs off exponentially (up to `max_backoff`)
  and tries again. Other 4xx answers (401, 403, 404, ...) are permanent and raised at once.
- In `blocked_insufficient_credits` it calls the optional `on_blocked(job)` hook; when the hook
  returns True (it topped the account up) the client resumes the job right away.
- `cancel_and_confirm()` cancels, then polls until a terminal status confirms it: a cancel while
  processing may lag, or lose the race against the end of processing.
- It gives up with `JobTimeout` once it has waited `timeout` seconds (default 600 s, as in
  Plangrep's own example).
- Webhook-first: given `events` (anything with `latest(job_id)` returning the newest webhook
  event's `data`), it checks the inbox every 5 s and polls only when a webhook says the job moved,
  or every `fallback_interval` seconds in case a delivery was lost.

Time is counted as the seconds the client spent in `sleep`, so an injected sleep that advances a
virtual clock (the `plangrep_mock` fixture's `sleep`) drives the client exactly like real time.

The whole submission, `submit_and_wait()` (and `submit_and_wait_async()`): create the job with an
`Idempotency-Key` (a retry after a lost answer gets the same job back), upload every file as a
form upload with a `clientUploadFlowId` (a retried upload is stored once), complete once with an
`Idempotency-Key`, wait by verified webhook with polling as the fallback (Plangrep: failed
deliveries may not be retried), and fetch the result only for completed / completed_with_errors.
Every call is retried on transient errors with growing pauses, at least `Retry-After`, at most
`max_attempts` times. `submit_workflow(env)` / `submit_workflow_async(env)` are the same in the
shape `mock_server.contract.check_workflow` takes. The logic is written once, as a generator of
steps (requests, pauses, webhook waits) that a sync and an async driver carry out.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import queue
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol

__all__ = [
    "BLOCKED_STATUS",
    "MIN_POLL_INTERVAL",
    "RESULT_STATUSES",
    "TERMINAL_STATUSES",
    "WEBHOOK_TOLERANCE",
    "AsyncPlangrepClient",
    "AsyncWebhookQueue",
    "Delivery",
    "JobEvents",
    "JobTimeout",
    "PlangrepApiError",
    "PlangrepClient",
    "PlangrepConnectionError",
    "PlangrepError",
    "WaitPolicy",
    "WebhookInbox",
    "WebhookQueue",
    "WebhookVerificationFailed",
    "submit_and_wait",
    "submit_and_wait_async",
    "submit_workflow",
    "submit_workflow_async",
    "verify_webhook",
    "wait_for_job",
    "wait_for_job_async",
]

# Copied here on purpose: this module is meant to be read and copied without the rest of the repo.
TERMINAL_STATUSES: frozenset[str] = frozenset(
    {"completed", "completed_with_errors", "failed", "cancelled", "expired"}
)
RESULT_STATUSES: frozenset[str] = frozenset({"completed", "completed_with_errors"})
BLOCKED_STATUS = "blocked_insufficient_credits"
MIN_POLL_INTERVAL = 5.0  # Plangrep: never poll one job more often than every 5 s
WEBHOOK_TOLERANCE = 300.0  # Standard Webhooks: reject a webhook-timestamp further off than this

Job = dict[str, Any]
Sleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]


# --------------------------------------------------------------------------- errors


class PlangrepError(Exception):
    """Base of every error this client raises."""


class PlangrepApiError(PlangrepError):
    """Plangrep answered with an error status. `code` is what to branch on (the message may
    change); `retry_after` is the `Retry-After` header in seconds, when there was one."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        method: str,
        path: str,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        self.retry_after = retry_after
        self.body = body
        super().__init__(f"{method} {path} answered {status} {code}: {message}")

    @property
    def transient(self) -> bool:
        """Worth retrying later: rate limited (429) or a server-side failure (5xx)."""
        return self.status == 429 or self.status >= 500


class PlangrepConnectionError(PlangrepError):
    """The request did not get an answer (refused, reset, timed out, not JSON); transient."""

    transient = True
    retry_after: float | None = None


class WebhookVerificationFailed(PlangrepError):
    """A webhook delivery that does not verify with the job's secret: never act on it."""


class JobTimeout(PlangrepError, TimeoutError):
    """The job was not terminal after waiting `waited` seconds (at least the policy's timeout)."""

    def __init__(
        self, *, job_id: str, waited: float, last_status: str | None, last_error: str | None
    ) -> None:
        self.job_id = job_id
        self.waited = waited
        self.last_status = last_status
        self.last_error = last_error
        seen = f"last status {last_status}" if last_status else "no status seen"
        err = f"; last error: {last_error}" if last_error else ""
        super().__init__(f"job {job_id} not terminal after waiting {waited:.0f} s ({seen}{err})")


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True, slots=True)
class WaitPolicy:
    """How long to wait between requests and when to give up (seconds)."""

    interval: float = 15.0
    jitter: float = 0.2
    timeout: float = 600.0
    max_backoff: float = 300.0
    fallback_interval: float = 60.0  # with webhooks: poll at least this often anyway
    max_attempts: int = 8  # submit_and_wait: attempts at one call before giving up
    retry_backoff: float = 1.0  # submit_and_wait: the first pause before retrying a call

    def __post_init__(self) -> None:
        if not self.interval >= MIN_POLL_INTERVAL:
            raise ValueError(
                f"interval must be >= {MIN_POLL_INTERVAL} s (Plangrep asks for at least 5 s "
                f"between polls of one job), got {self.interval}"
            )
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter is a fraction of the interval in [0, 1], got {self.jitter}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 s, got {self.timeout}")
        if not self.max_backoff >= self.interval:
            raise ValueError(
                f"max_backoff ({self.max_backoff}) must be >= interval ({self.interval})"
            )
        if not self.fallback_interval >= MIN_POLL_INTERVAL:
            raise ValueError(f"fallback_interval must be >= 5 s, got {self.fallback_interval}")
        if not self.max_attempts >= 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if not 0 < self.retry_backoff <= self.max_backoff:
            raise ValueError(
                f"retry_backoff must be > 0 and <= max_backoff, got {self.retry_backoff}"
            )


class JobEvents(Protocol):
    """A webhook inbox: the `data` object (`job`, `previousStatus`, `sequence`) of the newest
    verified event about a job, or None when none arrived."""

    def latest(self, job_id: str) -> Mapping[str, Any] | None: ...


class WebhookInbox:
    """A minimal `JobEvents`: your webhook endpoint verifies a delivery, then calls `feed()`."""

    def __init__(self) -> None:
        self._latest: dict[str, Mapping[str, Any]] = {}

    def feed(self, payload: Mapping[str, Any]) -> None:
        """Keep a verified `job.status_changed` payload if it is the newest for its job."""
        data = payload.get("data")
        if not isinstance(data, Mapping) or not isinstance(data.get("job"), Mapping):
            return
        job_id = str(data["job"].get("id"))
        current = self._latest.get(job_id)
        if current is None or int(data.get("sequence", 0)) > int(current.get("sequence", 0)):
            self._latest[job_id] = data  # a dict assignment is atomic: safe across threads

    def latest(self, job_id: str) -> Mapping[str, Any] | None:
        return self._latest.get(job_id)


class _Pacer:
    """The waiting arithmetic both clients share: jitter, backoff, Retry-After, the 5 s spacing
    between polls of one job, and the timeout. Time is the total the client has slept."""

    def __init__(self, policy: WaitPolicy, rng: random.Random) -> None:
        self.policy = policy
        self.rng = rng
        self.slept = 0.0
        self._last_poll: dict[str, float] = {}

    def next_delay(self, errors_in_a_row: int, retry_after: float | None) -> float:
        p = self.policy
        base = p.interval if errors_in_a_row == 0 else p.interval * 2 ** (errors_in_a_row - 1)
        delay = min(base, p.max_backoff) * (1 + self.rng.uniform(0, p.jitter))
        return max(delay, retry_after or 0.0)

    def until_poll_allowed(self, job_id: str) -> float:
        last = self._last_poll.get(job_id)
        return 0.0 if last is None else max(0.0, last + MIN_POLL_INTERVAL - self.slept)

    def polled(self, job_id: str) -> None:
        self._last_poll[job_id] = self.slept


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _api_error(
    status: int, raw: bytes, method: str, path: str, retry_after: str | None
) -> PlangrepApiError:
    try:
        body = json.loads(raw)
        err = body["error"]
        code, message = str(err["code"]), str(err.get("message", ""))
    except (ValueError, KeyError, TypeError):
        body, code, message = None, f"http_{status}", raw[:200].decode("utf-8", "replace")
    return PlangrepApiError(
        status=status,
        code=code,
        message=message,
        method=method,
        path=path,
        retry_after=_retry_after(retry_after),
        body=body,
    )


def _multipart(
    file_name: str,
    data: bytes,
    content_type: str,
    classification: str | None,
    flow_id: str | None = None,
) -> tuple[bytes, str]:
    """A form upload body: a `metadata` part (a JSON string) and one file part `file0`; with
    `flow_id`, a retry of the same body is stored once (`clientUploadFlowId`)."""
    boundary = uuid.uuid4().hex
    meta: dict[str, Any] = {
        "partName": "file0",
        "fileName": file_name,
        "contentType": content_type,
    }
    if classification:
        meta["classification"] = classification
    form: dict[str, Any] = {"files": [meta]}
    if flow_id:
        form["clientUploadFlowId"] = flow_id
    metadata = json.dumps(form)
    quoted = file_name.replace('"', "%22")
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n'
            f"Content-Type: application/json\r\n\r\n{metadata}\r\n"
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file0"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def _job_of(answer: Any, path: str) -> Job:
    job = answer.get("job") if isinstance(answer, dict) else None
    if not isinstance(job, dict) or not isinstance(job.get("status"), str):
        raise PlangrepConnectionError(f"{path}: the answer holds no job: {str(answer)[:200]}")
    return job


def _sequence(data: Mapping[str, Any] | None) -> int:
    return -1 if data is None else int(data.get("sequence", 0))


def _is_transient(exc: PlangrepError) -> bool:
    return bool(getattr(exc, "transient", False))


def _already_terminal(exc: PlangrepError) -> bool:
    """A cancel answered 409 job_not_cancellable: the job is terminal already."""
    return isinstance(exc, PlangrepApiError) and exc.code == "job_not_cancellable"


def _resumed_by_someone_else(exc: PlangrepApiError) -> bool:
    return exc.code == "job_not_blocked"


def _request_parts(
    api_key: str,
    body: Any,
    data: bytes | None,
    content_type: str,
    headers: Mapping[str, str] | None,
) -> tuple[bytes | None, dict[str, str]]:
    """The payload and headers of one request: `body` (JSON) wins over raw `data`."""
    if body is not None:
        data = json.dumps(body).encode()
    all_headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    if data is not None:
        all_headers["Content-Type"] = content_type
    all_headers.update(headers or {})
    return data, all_headers


def _json_answer(raw: bytes, method: str, path: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise PlangrepConnectionError(f"{method} {path}: the answer is not JSON") from exc


def _create_job_body(external_id: str | None, webhook_url: str | None) -> dict[str, Any]:
    body = {"externalId": external_id, "webhookUrl": webhook_url}
    return {k: v for k, v in body.items() if v is not None}


def _idempotency(key: str | None) -> dict[str, str] | None:
    return {"Idempotency-Key": key} if key else None


class _Attempts:
    """One `wait()` or `cancel_and_confirm()` call's bookkeeping and decisions, shared by both
    clients (they only do the requests and the sleeping): errors in a row, the last status and
    error seen, Retry-After, the timeout, and which pauses come before the next attempt."""

    def __init__(
        self, pacer: _Pacer, policy: WaitPolicy, job_id: str, events: JobEvents | None = None
    ) -> None:
        self.pacer = pacer
        self.policy = policy
        self.job_id = job_id
        self.events = events
        self.started = pacer.slept
        self.errors = 0
        self.last_status: str | None = None
        self.last_error: str | None = None
        self.retry_after: float | None = None
        # events that arrived before the first poll tell nothing the poll will not
        self.seen_sequence = _sequence(events.latest(job_id)) if events is not None else -1

    def failed(self, exc: PlangrepError) -> None:
        """A transient error: back off, honouring its Retry-After."""
        self.errors, self.last_error = self.errors + 1, str(exc)
        self.retry_after = getattr(exc, "retry_after", None)

    def answered(self, job: Job) -> bool:
        """A poll answered; True when the job is terminal (the answer `wait()` returns)."""
        self.errors, self.last_status, self.retry_after = 0, job["status"], None
        return self.last_status in TERMINAL_STATUSES

    def pauses(self) -> Iterator[float]:
        """The pauses before the next attempt; `JobTimeout` once `timeout` seconds have passed."""
        pacer, policy = self.pacer, self.policy
        if pacer.slept - self.started >= policy.timeout:
            raise JobTimeout(
                job_id=self.job_id,
                waited=pacer.slept - self.started,
                last_status=self.last_status,
                last_error=self.last_error,
            )
        if self.events is None or self.errors:
            yield pacer.next_delay(self.errors, self.retry_after)
            return
        # webhook-first: look at the inbox every 5 s, poll when an event says the job moved
        # (or after fallback_interval, in case a delivery was lost)
        waited = 0.0
        while waited < policy.fallback_interval:
            yield MIN_POLL_INTERVAL
            waited += MIN_POLL_INTERVAL
            sequence = _sequence(self.events.latest(self.job_id))
            if sequence > self.seen_sequence:
                self.seen_sequence = sequence
                return


# --------------------------------------------------------------------------- sync client


class PlangrepClient:
    """Plangrep's job API over `urllib.request`. `base_url` ends in `/api/open/v1`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: WaitPolicy | None = None,
        sleep: Sleep = time.sleep,
        request_timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.policy = policy or WaitPolicy()
        self.request_timeout = request_timeout
        self._sleep = sleep
        self._pacer = _Pacer(self.policy, rng or random.Random())

    # -- plain calls ----------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """One request; returns the decoded JSON body or raises a `PlangrepError`."""
        data, all_headers = _request_parts(self.api_key, body, data, content_type, headers)
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        for name, value in all_headers.items():
            req.add_header(name, value)
        try:
            with urllib.request.urlopen(req, timeout=self.request_timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise _api_error(
                exc.code, exc.read(), method, path, exc.headers.get("Retry-After")
            ) from None
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out
            raise PlangrepConnectionError(f"{method} {path}: no answer: {exc}") from exc
        return _json_answer(raw, method, path)

    def get_job(self, job_id: str) -> Job:
        """One poll; `wait()` keeps later polls of this job 5 s after it."""
        try:
            return _job_of(self.request("GET", f"/jobs/{job_id}"), f"GET /jobs/{job_id}")
        finally:
            self._pacer.polled(job_id)

    def create_job(
        self,
        project_id: str,
        *,
        external_id: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """The whole 202 answer: `job` and (once only) `webhookSigningSecret`."""
        answer: dict[str, Any] = self.request(
            "POST",
            f"/projects/{project_id}/jobs",
            _create_job_body(external_id, webhook_url),
            headers=_idempotency(idempotency_key),
        )
        return answer

    def upload_file(
        self,
        job_id: str,
        file_name: str,
        data: bytes,
        *,
        content_type: str = "application/pdf",
        classification: str | None = None,
        flow_id: str | None = None,
    ) -> dict[str, Any]:
        """A form upload of one file (`multipart/form-data`); `flow_id` makes a retry safe."""
        payload, ctype = _multipart(file_name, data, content_type, classification, flow_id)
        answer: dict[str, Any] = self.request(
            "POST", f"/jobs/{job_id}/files", data=payload, content_type=ctype
        )
        return answer

    def complete_uploads(self, job_id: str, *, idempotency_key: str | None = None) -> Job:
        headers = _idempotency(idempotency_key)
        job: Job = self.request("POST", f"/jobs/{job_id}/uploads/complete", {}, headers=headers)[
            "job"
        ]
        return job

    def resume(self, job_id: str) -> Job:
        job: Job = self.request("POST", f"/jobs/{job_id}/resume")["job"]
        return job

    def cancel(self, job_id: str) -> Job:
        job: Job = self.request("POST", f"/jobs/{job_id}/cancel")["job"]
        return job

    # -- waiting --------------------------------------------------------------

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)
            self._pacer.slept += seconds

    def _poll(self, job_id: str) -> Job:
        self._pause(self._pacer.until_poll_allowed(job_id))
        return self.get_job(job_id)

    def wait(
        self,
        job_id: str,
        *,
        on_blocked: Callable[[Job], bool] | None = None,
        events: JobEvents | None = None,
    ) -> Job:
        """Poll until the job is terminal and return it; `JobTimeout` after `policy.timeout`."""
        attempts = _Attempts(self._pacer, self.policy, job_id, events)
        while True:
            try:
                job = self._poll(job_id)
            except PlangrepError as exc:
                if not _is_transient(exc):
                    raise
                attempts.failed(exc)
            else:
                if attempts.answered(job):
                    return job
                if job["status"] == BLOCKED_STATUS and on_blocked is not None and on_blocked(job):
                    self._resume_quietly(job_id)
            for seconds in attempts.pauses():
                self._pause(seconds)

    def _resume_quietly(self, job_id: str) -> None:
        try:
            self.resume(job_id)
        except PlangrepApiError as exc:
            if not _resumed_by_someone_else(exc):  # someone else resumed it first: fine
                raise

    def cancel_and_confirm(self, job_id: str) -> Job:
        """Cancel, then poll until a terminal status confirms it; return the final job (which may
        be `completed` when processing won the race)."""
        attempts = _Attempts(self._pacer, self.policy, job_id)
        while True:
            try:
                self.cancel(job_id)
                break
            except PlangrepError as exc:
                if _already_terminal(exc):
                    break
                if not _is_transient(exc):
                    raise
                attempts.failed(exc)
            for seconds in attempts.pauses():
                self._pause(seconds)
        return self.wait(job_id)


def wait_for_job(
    base_url: str,
    api_key: str,
    job_id: str,
    sleep: Sleep = time.sleep,
    *,
    policy: WaitPolicy | None = None,
    on_blocked: Callable[[Job], bool] | None = None,
    events: JobEvents | None = None,
) -> Job:
    """Wait for one job and return it at its first terminal status (check_client's shape)."""
    client = PlangrepClient(base_url, api_key, policy=policy, sleep=sleep)
    return client.wait(job_id, on_blocked=on_blocked, events=events)


# --------------------------------------------------------------------------- async client


class AsyncPlangrepClient:
    """The same client on aiohttp; use it as `async with AsyncPlangrepClient(...) as client`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: WaitPolicy | None = None,
        sleep: AsyncSleep = asyncio.sleep,
        request_timeout: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        import aiohttp  # imported here so the sync client needs only the standard library

        self._aiohttp = aiohttp
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.policy = policy or WaitPolicy()
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._sleep = sleep
        self._pacer = _Pacer(self.policy, rng or random.Random())
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AsyncPlangrepClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        aiohttp = self._aiohttp
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        data, all_headers = _request_parts(self.api_key, body, data, content_type, headers)
        try:
            async with self._session.request(
                method, self.base_url + path, data=data, headers=all_headers
            ) as resp:
                raw = await resp.read()
                if resp.status >= 400:
                    raise _api_error(
                        resp.status, raw, method, path, resp.headers.get("Retry-After")
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PlangrepConnectionError(f"{method} {path}: no answer: {exc}") from exc
        return _json_answer(raw, method, path)

    async def get_job(self, job_id: str) -> Job:
        try:
            return _job_of(await self.request("GET", f"/jobs/{job_id}"), f"GET /jobs/{job_id}")
        finally:
            self._pacer.polled(job_id)

    async def create_job(
        self,
        project_id: str,
        *,
        external_id: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        answer: dict[str, Any] = await self.request(
            "POST",
            f"/projects/{project_id}/jobs",
            _create_job_body(external_id, webhook_url),
            headers=_idempotency(idempotency_key),
        )
        return answer

    async def upload_file(
        self,
        job_id: str,
        file_name: str,
        data: bytes,
        *,
        content_type: str = "application/pdf",
        classification: str | None = None,
        flow_id: str | None = None,
    ) -> dict[str, Any]:
        payload, ctype = _multipart(file_name, data, content_type, classification, flow_id)
        answer: dict[str, Any] = await self.request(
            "POST", f"/jobs/{job_id}/files", data=payload, content_type=ctype
        )
        return answer

    async def complete_uploads(self, job_id: str, *, idempotency_key: str | None = None) -> Job:
        headers = _idempotency(idempotency_key)
        answer = await self.request(
            "POST", f"/jobs/{job_id}/uploads/complete", {}, headers=headers
        )
        job: Job = answer["job"]
        return job

    async def resume(self, job_id: str) -> Job:
        job: Job = (await self.request("POST", f"/jobs/{job_id}/resume"))["job"]
        return job

    async def cancel(self, job_id: str) -> Job:
        job: Job = (await self.request("POST", f"/jobs/{job_id}/cancel"))["job"]
        return job

    async def _pause(self, seconds: float) -> None:
        if seconds > 0:
            await self._sleep(seconds)
            self._pacer.slept += seconds

    async def _poll(self, job_id: str) -> Job:
        await self._pause(self._pacer.until_poll_allowed(job_id))
        return await self.get_job(job_id)

    async def wait(
        self,
        job_id: str,
        *,
        on_blocked: Callable[[Job], bool | Awaitable[bool]] | None = None,
        events: JobEvents | None = None,
    ) -> Job:
        """As `PlangrepClient.wait`; `on_blocked` may be a coroutine function."""
        attempts = _Attempts(self._pacer, self.policy, job_id, events)
        while True:
            try:
                job = await self._poll(job_id)
            except PlangrepError as exc:
                if not _is_transient(exc):
                    raise
                attempts.failed(exc)
            else:
                if attempts.answered(job):
                    return job
                if job["status"] == BLOCKED_STATUS and on_blocked is not None:
                    topped_up = on_blocked(job)
                    if not isinstance(topped_up, bool):
                        topped_up = await topped_up
                    if topped_up:
                        await self._resume_quietly(job_id)
            for seconds in attempts.pauses():
                await self._pause(seconds)

    async def _resume_quietly(self, job_id: str) -> None:
        try:
            await self.resume(job_id)
        except PlangrepApiError as exc:
            if not _resumed_by_someone_else(exc):
                raise

    async def cancel_and_confirm(self, job_id: str) -> Job:
        attempts = _Attempts(self._pacer, self.policy, job_id)
        while True:
            try:
                await self.cancel(job_id)
                break
            except PlangrepError as exc:
                if _already_terminal(exc):
                    break
                if not _is_transient(exc):
                    raise
                attempts.failed(exc)
            for seconds in attempts.pauses():
                await self._pause(seconds)
        return await self.wait(job_id)


async def wait_for_job_async(
    base_url: str,
    api_key: str,
    job_id: str,
    sleep: AsyncSleep = asyncio.sleep,
    *,
    policy: WaitPolicy | None = None,
    on_blocked: Callable[[Job], bool | Awaitable[bool]] | None = None,
    events: JobEvents | None = None,
) -> Job:
    """The async `wait_for_job`."""
    async with AsyncPlangrepClient(base_url, api_key, policy=policy, sleep=sleep) as client:
        return await client.wait(job_id, on_blocked=on_blocked, events=events)


# --------------------------------------------------------------------------- webhooks


class Delivery(Protocol):
    """One webhook delivery as your endpoint received it: the raw headers and body bytes."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def body(self) -> bytes: ...


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = WEBHOOK_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a delivery (Standard Webhooks: `v1,` base64 HMAC-SHA256 of `id.timestamp.body`,
    keyed by the bytes after `wss_`) and return its payload; `WebhookVerificationFailed`
    otherwise. Verify the raw body bytes, before parsing them; `now` is the wall clock."""
    h = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp, signatures = (
        h.get("webhook-id"),
        h.get("webhook-timestamp"),
        h.get("webhook-signature"),
    )
    if not msg_id or not stamp or not signatures:
        raise WebhookVerificationFailed("a webhook-id, -timestamp or -signature header is missing")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationFailed(
            f"webhook-timestamp {stamp[:20]!r} is no integer"
        ) from None
    wall = time.time() if now is None else now
    if abs(wall - timestamp) > tolerance:
        raise WebhookVerificationFailed(f"webhook-timestamp is {wall - timestamp:.0f} s off")
    prefix, _, encoded = secret.partition("_")
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if prefix not in ("wss", "whsec") or not key:
        raise WebhookVerificationFailed("the secret is not wss_ followed by base64")
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode()
    for candidate in signatures.split():  # several during a key rotation
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature.encode(), expected.encode()):
            try:
                payload = json.loads(body)
            except ValueError:
                raise WebhookVerificationFailed("the signed body is not JSON") from None
            if not isinstance(payload, dict):
                raise WebhookVerificationFailed("the signed body is not a JSON object")
            return payload
    raise WebhookVerificationFailed("no signature matches the job's secret")


@dataclass(frozen=True, slots=True)
class _Received:
    headers: Mapping[str, str]
    body: bytes


class WebhookQueue:
    """Deliveries your webhook endpoint received, for one submission: the endpoint calls
    `put(headers, body)` (any thread) and answers 2xx at once; `submit_and_wait(...,
    next_webhook=queue.next)` takes them. Give each submission its own URL (a path with its own
    id) and queue, so one submission never takes another's deliveries."""

    def __init__(self) -> None:
        self._items: queue.Queue[_Received] = queue.Queue()

    def put(self, headers: Mapping[str, str], body: bytes) -> None:
        self._items.put(_Received(dict(headers), bytes(body)))

    def next(self, timeout: float) -> Delivery | None:
        """The oldest delivery not taken yet; None after `timeout` seconds without one."""
        try:
            return self._items.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None


class AsyncWebhookQueue:
    """`WebhookQueue` for one event loop: `put()` from your aiohttp handler, `await next(t)`."""

    def __init__(self) -> None:
        self._items: asyncio.Queue[_Received] = asyncio.Queue()

    def put(self, headers: Mapping[str, str], body: bytes) -> None:
        self._items.put_nowait(_Received(dict(headers), bytes(body)))

    async def next(self, timeout: float) -> Delivery | None:
        try:
            return await asyncio.wait_for(self._items.get(), max(0.0, timeout))
        except TimeoutError:
            return None


# --------------------------------------------------------------------------- whole submission

# The steps the submission logic asks its driver to carry out; the driver sends back the answer
# (or throws the PlangrepError the request raised).


@dataclass(frozen=True, slots=True)
class _Call:
    method: str
    path: str
    body: Any = None
    data: bytes | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class _Pause:
    seconds: float


@dataclass(frozen=True, slots=True)
class _NextWebhook:
    timeout: float


class _Now:
    pass


_Step = _Call | _Pause | _NextWebhook | _Now
# clocks are floats: a deadline this close counts as reached (no wait shorter than a millisecond)
_SLACK = 1e-3
_Steps = Generator[_Step, Any, Any]


def _backoff(
    policy: WaitPolicy, rng: random.Random, failures: int, retry_after: float | None
) -> float:
    """The pause before the next attempt after `failures` failures in a row: doubling from
    `retry_backoff` up to `max_backoff`, with jitter, and never shorter than Retry-After."""
    base: float = min(policy.retry_backoff * 2.0 ** (failures - 1), policy.max_backoff)
    return max(base * (1 + rng.uniform(0, policy.jitter)), retry_after or 0.0)


def _attempts(call: _Call, policy: WaitPolicy, rng: random.Random) -> _Steps:
    """One call, retried on transient errors (5xx, 429, no answer) at most `max_attempts` times;
    a permanent error (another 4xx) is raised at once."""
    failures = 0
    while True:
        try:
            return (yield call)
        except PlangrepError as exc:
            if not _is_transient(exc):
                raise
            failures += 1
            if failures >= policy.max_attempts:
                raise
            yield _Pause(_backoff(policy, rng, failures, getattr(exc, "retry_after", None)))


class _Waiter:
    """Waits for one job: by verified webhook when it has the job's secret, polling at least
    every `fallback_interval` anyway; by polling every `interval` without one. Never two polls
    within 5 s, at least Retry-After after a 429/503, `JobTimeout` after `timeout`."""

    def __init__(
        self,
        job_id: str,
        secret: str | None,
        policy: WaitPolicy,
        rng: random.Random,
        on_blocked: Callable[[Job], bool] | None,
    ) -> None:
        self.job_id = job_id
        self.secret = secret
        self.policy = policy
        self.rng = rng
        self.on_blocked = on_blocked
        self.last_poll: float | None = None
        self.sequence = -1  # the newest verified event taken

    def until(self, done: Callable[[str], bool]) -> _Steps:
        """Poll (and listen) until `done(status)`; return that job."""
        p = self.policy
        start: float = yield _Now()
        next_poll, errors, last_status, last_error = start, 0, None, None
        not_before = start  # a failed poll's back-off (and Retry-After) holds every next poll
        spacing = p.fallback_interval if self.secret else p.interval
        while True:
            now: float = yield _Now()
            if now + _SLACK >= next_poll:
                if self.last_poll is not None and now < self.last_poll + MIN_POLL_INTERVAL:
                    yield _Pause(self.last_poll + MIN_POLL_INTERVAL - now)
                    now = yield _Now()
                self.last_poll = now
                try:
                    job = _job_of((yield _Call("GET", f"/jobs/{self.job_id}")), "GET job")
                except PlangrepError as exc:
                    if not _is_transient(exc):
                        raise
                    errors, last_error = errors + 1, str(exc)
                    if errors >= p.max_attempts:
                        raise
                    retry_after = getattr(exc, "retry_after", None)
                    next_poll = not_before = now + max(
                        MIN_POLL_INTERVAL, _backoff(p, self.rng, errors, retry_after)
                    )
                else:
                    errors, last_status = 0, job["status"]
                    if done(last_status):
                        return job
                    if last_status == BLOCKED_STATUS and self.on_blocked and self.on_blocked(job):
                        yield from self._resume()
                    next_poll = now + spacing * (1 + self.rng.uniform(0, p.jitter))
            if now - start + _SLACK >= p.timeout:
                raise JobTimeout(
                    job_id=self.job_id, waited=now - start, last_status=last_status,
                    last_error=last_error,
                )  # fmt: skip
            wait = min(next_poll, start + p.timeout) - now
            if wait <= _SLACK:
                continue
            if self.secret is None:
                yield _Pause(wait)
                continue
            delivery = yield _NextWebhook(wait)
            status = self._verified_status(delivery) if delivery is not None else None
            if status is not None and (done(status) or status == BLOCKED_STATUS):
                # the webhook says when; a poll (as soon as allowed) says what
                next_poll = max((yield _Now()), not_before)

    def _verified_status(self, delivery: Delivery) -> str | None:
        """The status a delivery announces if it verifies, is about this job and is newer than
        every event taken so far (duplicates and late, reordered events say nothing new)."""
        assert self.secret is not None
        try:
            payload = verify_webhook(self.secret, delivery.headers, delivery.body)
            data = payload["data"]
            job, sequence = data["job"], int(data["sequence"])
        except (PlangrepError, KeyError, TypeError, ValueError):
            return None  # unverifiable or not an event: never acted on
        if not isinstance(job, dict) or job.get("id") != self.job_id or sequence <= self.sequence:
            return None
        self.sequence = sequence
        status = job.get("status")
        return status if isinstance(status, str) else None

    def _resume(self) -> _Steps:
        try:
            yield from _attempts(
                _Call("POST", f"/jobs/{self.job_id}/resume"), self.policy, self.rng
            )
        except PlangrepApiError as exc:
            if not _resumed_by_someone_else(exc):
                raise


def _submission(
    project_id: str,
    files: Sequence[tuple[str, bytes, str]],
    *,
    external_id: str | None,
    webhook_url: str | None,
    listen: bool,
    policy: WaitPolicy,
    rng: random.Random,
    submission_id: str | None,
    on_blocked: Callable[[Job], bool] | None,
) -> _Steps:
    """The whole submission, as steps for a driver (see `submit_and_wait`)."""
    sid = submission_id or uuid.uuid4().hex
    create = _Call(
        "POST",
        f"/projects/{project_id}/jobs",
        _create_job_body(external_id, webhook_url),
        headers={"Idempotency-Key": f"{sid}-create"},
    )
    created = yield from _attempts(create, policy, rng)
    job = _job_of(created, "create job")
    # The secret is shown once: a replay after a lost answer has none, and a webhook that cannot
    # be verified is worth nothing, so without it the wait polls alone.
    secret = created.get("webhookSigningSecret") if listen and webhook_url else None
    waiter = _Waiter(
        job["id"], secret if isinstance(secret, str) else None, policy, rng, on_blocked
    )
    if job["status"] == "provisioning":
        job = yield from waiter.until(lambda s: s != "provisioning")
    if job["status"] not in TERMINAL_STATUSES:  # (cancelled or expired while provisioning)
        yield from _upload_all(job["id"], files, sid, policy, rng)
        job = yield from waiter.until(lambda s: s in TERMINAL_STATUSES)
    if job["status"] in RESULT_STATUSES:
        result: dict[str, Any] = yield from _attempts(
            _Call("GET", f"/jobs/{job['id']}/result"), policy, rng
        )
        return result
    return job


def _upload_all(
    job_id: str,
    files: Sequence[tuple[str, bytes, str]],
    sid: str,
    policy: WaitPolicy,
    rng: random.Random,
) -> _Steps:
    """Every file (one form upload each, retried safely), then complete once. A job that left
    its upload window meanwhile (cancelled, expired) is not an error: the wait reports it."""
    for i, (file_name, data, content_type) in enumerate(files):
        payload, ctype = _multipart(file_name, data, content_type, None, f"{sid}-file{i}")
        upload = _Call("POST", f"/jobs/{job_id}/files", data=payload, content_type=ctype)
        try:
            yield from _attempts(upload, policy, rng)
        except PlangrepApiError as exc:
            if exc.code == "uploads_closed":
                return
            raise
    complete = _Call(
        "POST",
        f"/jobs/{job_id}/uploads/complete",
        {},
        headers={"Idempotency-Key": f"{sid}-complete"},
    )
    try:
        yield from _attempts(complete, policy, rng)
    except PlangrepApiError as exc:
        if exc.code != "uploads_closed":
            raise


def _drive(
    steps: _Steps,
    client: PlangrepClient,
    sleep: Sleep,
    next_webhook: Callable[[float], Delivery | None] | None,
    monotonic: Callable[[], float],
) -> Any:
    answer: Any = None
    error: PlangrepError | None = None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(answer)
        except StopIteration as done:
            return done.value
        answer, error = None, None
        if isinstance(step, _Call):
            try:
                answer = client.request(
                    step.method, step.path, step.body, headers=step.headers, data=step.data,
                    content_type=step.content_type,
                )  # fmt: skip
            except PlangrepError as exc:
                error = exc
        elif isinstance(step, _Pause):
            if step.seconds > 0:
                sleep(step.seconds)
        elif isinstance(step, _NextWebhook):
            if next_webhook is not None:
                answer = next_webhook(step.timeout)
            elif step.timeout > 0:
                sleep(step.timeout)
        else:
            answer = monotonic()


async def _drive_async(
    steps: _Steps,
    client: AsyncPlangrepClient,
    sleep: AsyncSleep,
    next_webhook: Callable[[float], Awaitable[Delivery | None]] | None,
    monotonic: Callable[[], float],
) -> Any:
    answer: Any = None
    error: PlangrepError | None = None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(answer)
        except StopIteration as done:
            return done.value
        answer, error = None, None
        if isinstance(step, _Call):
            try:
                answer = await client.request(
                    step.method, step.path, step.body, headers=step.headers, data=step.data,
                    content_type=step.content_type,
                )  # fmt: skip
            except PlangrepError as exc:
                error = exc
        elif isinstance(step, _Pause):
            if step.seconds > 0:
                await sleep(step.seconds)
        elif isinstance(step, _NextWebhook):
            if next_webhook is not None:
                answer = await next_webhook(step.timeout)
            elif step.timeout > 0:
                await sleep(step.timeout)
        else:
            answer = monotonic()


def submit_and_wait(
    base_url: str,
    api_key: str,
    project_id: str,
    files: Sequence[tuple[str, bytes, str]],
    *,
    webhook_url: str | None = None,
    next_webhook: Callable[[float], Delivery | None] | None = None,
    external_id: str | None = None,
    policy: WaitPolicy | None = None,
    sleep: Sleep = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    submission_id: str | None = None,
    on_blocked: Callable[[Job], bool] | None = None,
) -> dict[str, Any]:
    """Submit `files` (`(file_name, bytes, content_type)`) as one job of a ready project and
    wait for it: the result document for a completed or completed_with_errors job, else the
    terminal job. `JobTimeout` after `policy.timeout` of waiting; a `PlangrepError` when a call
    keeps failing (`policy.max_attempts`) or is refused for good.

    With `webhook_url` and `next_webhook(timeout) -> delivery or None` (e.g. a `WebhookQueue`'s
    `next`) it waits by webhook, verifying each delivery with the job's secret, and polls every
    `policy.fallback_interval` anyway. `submission_id` (default random) makes the idempotency
    keys: reuse it to resume a submission after a crash.
    """
    p = policy or WaitPolicy()
    steps = _submission(
        project_id, files, external_id=external_id, webhook_url=webhook_url,
        listen=next_webhook is not None, policy=p, rng=rng or random.Random(),
        submission_id=submission_id, on_blocked=on_blocked,
    )  # fmt: skip
    client = PlangrepClient(base_url, api_key, policy=p, sleep=sleep)
    result: dict[str, Any] = _drive(steps, client, sleep, next_webhook, monotonic)
    return result


async def submit_and_wait_async(
    base_url: str,
    api_key: str,
    project_id: str,
    files: Sequence[tuple[str, bytes, str]],
    *,
    webhook_url: str | None = None,
    next_webhook: Callable[[float], Awaitable[Delivery | None]] | None = None,
    external_id: str | None = None,
    policy: WaitPolicy | None = None,
    sleep: AsyncSleep = asyncio.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    submission_id: str | None = None,
    on_blocked: Callable[[Job], bool] | None = None,
) -> dict[str, Any]:
    """`submit_and_wait` on aiohttp: `sleep` and `next_webhook` are coroutine functions."""
    p = policy or WaitPolicy()
    steps = _submission(
        project_id, files, external_id=external_id, webhook_url=webhook_url,
        listen=next_webhook is not None, policy=p, rng=rng or random.Random(),
        submission_id=submission_id, on_blocked=on_blocked,
    )  # fmt: skip
    async with AsyncPlangrepClient(base_url, api_key, policy=p, sleep=sleep) as client:
        result: dict[str, Any] = await _drive_async(steps, client, sleep, next_webhook, monotonic)
    return result


def submit_workflow(env: Any) -> dict[str, Any]:
    """`submit_and_wait` in `check_workflow`'s shape: everything from the kit's `env`."""
    return submit_and_wait(
        env.base_url, env.api_key, env.project_id, env.files, webhook_url=env.webhook_url,
        next_webhook=env.next_webhook, sleep=env.sleep, monotonic=env.monotonic,
        rng=random.Random(0),
    )  # fmt: skip


async def submit_workflow_async(env: Any) -> dict[str, Any]:
    """`submit_and_wait_async` in `check_workflow`'s shape."""
    return await submit_and_wait_async(
        env.base_url, env.api_key, env.project_id, env.files, webhook_url=env.webhook_url,
        next_webhook=env.anext_webhook, sleep=env.asleep, monotonic=env.monotonic,
        rng=random.Random(0),
    )  # fmt: skip
