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
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol

__all__ = [
    "BLOCKED_STATUS",
    "MIN_POLL_INTERVAL",
    "TERMINAL_STATUSES",
    "AsyncPlangrepClient",
    "JobEvents",
    "JobTimeout",
    "PlangrepApiError",
    "PlangrepClient",
    "PlangrepConnectionError",
    "PlangrepError",
    "WaitPolicy",
    "WebhookInbox",
    "wait_for_job",
    "wait_for_job_async",
]

# Copied here on purpose: this module is meant to be read and copied without the rest of the repo.
TERMINAL_STATUSES: frozenset[str] = frozenset(
    {"completed", "completed_with_errors", "failed", "cancelled", "expired"}
)
BLOCKED_STATUS = "blocked_insufficient_credits"
MIN_POLL_INTERVAL = 5.0  # Plangrep: never poll one job more often than every 5 s

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
    file_name: str, data: bytes, content_type: str, classification: str | None
) -> tuple[bytes, str]:
    """A form upload body: a `metadata` part (a JSON string) and one file part `file0`."""
    boundary = uuid.uuid4().hex
    meta: dict[str, Any] = {
        "partName": "file0",
        "fileName": file_name,
        "contentType": content_type,
    }
    if classification:
        meta["classification"] = classification
    metadata = json.dumps({"files": [meta]})
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
    ) -> dict[str, Any]:
        """A form upload of one file (`multipart/form-data`)."""
        payload, ctype = _multipart(file_name, data, content_type, classification)
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
    ) -> dict[str, Any]:
        payload, ctype = _multipart(file_name, data, content_type, classification)
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
