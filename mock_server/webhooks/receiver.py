"""A webhook receiver for tests: verifies every delivery and records what it saw.

    receiver = WebhookReceiver()
    with receiver.running():                    # or `async with receiver:` on your own loop
        job = create_job(webhook_url=receiver.url)
        receiver.register(job["id"], secret)    # the job's webhookSigningSecret
        event = receiver.wait_for(job["id"], "completed", timeout=5)

Verification uses the `standardwebhooks` library unchanged, with the `wss_` secret's prefix swapped
for `whsec_`. A delivery that does not verify is recorded in `rejected` with the reason and
answered 400; a verified one is recorded in `events` and answered 200, or as `respond()` asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import WebhookVerificationError

from .signing import InvalidSecret, verify

__all__ = ["ReceivedEvent", "RejectedDelivery", "WebhookReceiver"]

SecretLookup = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class ReceivedEvent:
    """A delivery that verified."""

    event_id: str  # webhook-id
    job_id: str
    status: str
    previous_status: str
    sequence: int
    timestamp: str  # the payload's (virtual) timestamp
    payload: dict[str, Any]
    headers: dict[str, str]
    received_at: float  # wall clock
    duplicate: bool  # this webhook-id was received (and verified) before
    answered: int  # the HTTP status the receiver answered

    @property
    def job(self) -> dict[str, Any]:
        job: dict[str, Any] = self.payload["data"]["job"]
        return job


@dataclass(frozen=True, slots=True)
class RejectedDelivery:
    """A delivery that did not verify, and why."""

    reason: str  # missing_header | malformed_signature | bad_signature | timestamp_too_old |
    # timestamp_too_new | invalid_timestamp | invalid_json | no_job_id | unknown_job | bad_secret
    detail: str
    job_id: str | None
    event_id: str | None
    headers: dict[str, str]
    body: bytes
    received_at: float


@dataclass(slots=True)
class _Rule:
    status: int
    delay: float
    headers: dict[str, str]
    job_id: str | None
    remaining: int | None  # None: until reset_responses()


@dataclass(slots=True)
class _Waiters:
    cond: threading.Condition = field(default_factory=threading.Condition)
    futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = field(
        default_factory=list
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, WebhookVerificationError):
        text = str(exc).lower()
        if "missing" in text:
            return "missing_header"
        if "too old" in text:
            return "timestamp_too_old"
        if "too new" in text:
            return "timestamp_too_new"
        if "no matching signature" in text:
            return "bad_signature"
        return "invalid_timestamp"
    # the library raises ValueError (not its own error) for a header it cannot split
    return "malformed_signature"


class WebhookReceiver:
    """A small aiohttp app on 127.0.0.1 that verifies Standard Webhooks deliveries.

    Secrets come from `register(job_id, secret)` or from `secret_lookup(job_id)`. The job id is
    read from the (not yet trusted) body to pick the secret; nothing is recorded as an event
    before the signature verified.
    """

    def __init__(
        self,
        secrets: Mapping[str, str] | None = None,
        *,
        secret_lookup: SecretLookup | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/webhooks",
        reject_status: int = 400,
        secret_grace: float = 2.0,
    ) -> None:
        self.host = host
        self.port = port
        self.path = path if path.startswith("/") else "/" + path
        self.reject_status = reject_status
        self.secret_grace = secret_grace
        self.secret_lookup = secret_lookup
        self._secrets: dict[str, str] = dict(secrets or {})
        self._lock = threading.Lock()
        self._events: list[ReceivedEvent] = []
        self._rejected: list[RejectedDelivery] = []
        self._seen: set[str] = set()
        self._rules: list[_Rule] = []
        self._waiters = _Waiters()
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ configuration

    def register(self, job_id: str, secret: str) -> None:
        """The job's `webhookSigningSecret` (`wss_...`; a `whsec_...` secret works too)."""
        with self._lock:
            self._secrets[job_id] = secret
        self._notify()

    def respond(
        self,
        status: int = 200,
        *,
        delay: float = 0.0,
        count: int | None = None,
        job_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer verified deliveries (of `job_id`, or all) with `status` after `delay` seconds,
        for the next `count` of them (None: until `reset_responses()`). Rules added later are
        consulted first."""
        if not 100 <= status <= 599:
            raise ValueError(f"status must be an HTTP status 100..599, got {status}")
        if delay < 0:
            raise ValueError(f"delay must be >= 0 seconds, got {delay}")
        if count is not None and count < 1:
            raise ValueError(f"count must be >= 1 or None, got {count}")
        with self._lock:
            self._rules.insert(0, _Rule(status, delay, dict(headers or {}), job_id, count))

    def reset_responses(self) -> None:
        with self._lock:
            self._rules.clear()

    def clear(self) -> None:
        """Forget every recorded event and rejection (registered secrets stay)."""
        with self._lock:
            self._events.clear()
            self._rejected.clear()
            self._seen.clear()

    # ------------------------------------------------------------------ what was received

    @property
    def url(self) -> str:
        if self._bound_port is None:
            raise RuntimeError("the webhook receiver is not running; start() it first")
        return f"http://{self.host}:{self._bound_port}{self.path}"

    @property
    def events(self) -> list[ReceivedEvent]:
        with self._lock:
            return list(self._events)

    @property
    def rejected(self) -> list[RejectedDelivery]:
        with self._lock:
            return list(self._rejected)

    def events_for(self, job_id: str) -> list[ReceivedEvent]:
        with self._lock:
            return [e for e in self._events if e.job_id == job_id]

    def statuses(self, job_id: str) -> list[str]:
        """The statuses of a job's verified events in the order they arrived (duplicates
        included)."""
        return [e.status for e in self.events_for(job_id)]

    def _find(self, job_id: str, status: str | None) -> ReceivedEvent | None:
        for e in self._events:
            if e.job_id == job_id and (status is None or e.status == status):
                return e
        return None

    def _timeout_error(self, job_id: str, status: str | None, timeout: float) -> TimeoutError:
        seen = [e.status for e in self._events if e.job_id == job_id]
        rejected = [r.reason for r in self._rejected if r.job_id == job_id]
        wanted = f"status {status!r}" if status else "any event"
        return TimeoutError(
            f"no verified webhook with {wanted} for {job_id} within {timeout} s; verified "
            f"statuses so far: {seen or 'none'}; rejected deliveries: {rejected or 'none'}"
        )

    def wait_for(
        self, job_id: str, status: str | None = None, timeout: float = 10.0
    ) -> ReceivedEvent:
        """Block until a verified event of `job_id` (with `status`) arrived; TimeoutError
        after `timeout` seconds. For sync code: the receiver must run on another thread
        (`running()` / `start_in_thread()`); async code uses `wait_for_async`."""
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None and running is self._loop:
            raise RuntimeError(
                "wait_for() would block the receiver's own event loop; use "
                "`await receiver.wait_for_async(...)` in async code"
            )
        deadline = time.monotonic() + timeout
        cond = self._waiters.cond
        with cond:
            while True:
                with self._lock:
                    found = self._find(job_id, status)
                    if found is not None:
                        return found
                left = deadline - time.monotonic()
                if left <= 0:
                    with self._lock:
                        raise self._timeout_error(job_id, status, timeout)
                cond.wait(left)

    async def wait_for_async(
        self, job_id: str, status: str | None = None, timeout: float = 10.0
    ) -> ReceivedEvent:
        """`wait_for` for async code, on any loop (the receiver's own included)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            fut: asyncio.Future[None] = loop.create_future()
            with self._lock:
                found = self._find(job_id, status)
                if found is not None:
                    return found
                self._waiters.futures.append((loop, fut))
            left = deadline - loop.time()
            if left <= 0:
                with self._lock:
                    raise self._timeout_error(job_id, status, timeout)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, left)

    def _notify(self) -> None:
        with self._lock:
            futures, self._waiters.futures = self._waiters.futures, []
        for loop, fut in futures:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits
                loop.call_soon_threadsafe(_resolve, fut)
        with self._waiters.cond:
            self._waiters.cond.notify_all()

    # ------------------------------------------------------------------ HTTP

    def _secret_for(self, job_id: str) -> str | None:
        with self._lock:
            secret = self._secrets.get(job_id)
        if secret is None and self.secret_lookup is not None:
            secret = self.secret_lookup(job_id)
        return secret

    async def _await_secret(self, job_id: str) -> str | None:
        """The job's secret; a delivery may race the test's `register()` call (the first event
        can leave before the create-job response is read), so wait `secret_grace` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.secret_grace
        while True:
            fut: asyncio.Future[None] = loop.create_future()
            with self._lock:
                self._waiters.futures.append((loop, fut))
            secret = self._secret_for(job_id)
            left = deadline - loop.time()
            if secret is not None or left <= 0:
                return secret
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, left)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        now = time.time()
        event_id = headers.get("webhook-id")
        job_id: str | None = None

        def reject(reason: str, detail: str) -> web.Response:
            with self._lock:
                self._rejected.append(
                    RejectedDelivery(reason, detail, job_id, event_id, headers, body, now)
                )
            self._notify()
            return web.json_response(
                {"error": reason, "detail": detail}, status=self.reject_status
            )

        try:
            unverified = json.loads(body)
            job_id = str(unverified["data"]["job"]["id"])
        except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: RecursionError
            return reject("invalid_json", "the body is not JSON")
        except (KeyError, TypeError):
            return reject("no_job_id", "the body has no data.job.id")
        secret = await self._await_secret(job_id)
        if secret is None:
            return reject(
                "unknown_job",
                f"no secret registered for {job_id} within {self.secret_grace} s; call "
                "register(job_id, secret) or pass secret_lookup",
            )
        try:
            payload = verify(secret, body, headers)
        except InvalidSecret as exc:
            return reject("bad_secret", str(exc))
        except Exception as exc:  # any failure to verify is a rejection, whatever its type
            return reject(_reason(exc), f"{type(exc).__name__}: {exc}")
        answer = self._answer_for(job_id)
        data = payload["data"]
        with self._lock:
            duplicate = event_id in self._seen
            self._seen.add(event_id or "")
            self._events.append(
                ReceivedEvent(
                    event_id=event_id or "",
                    job_id=job_id,
                    status=str(data["job"].get("status")),
                    previous_status=str(data.get("previousStatus")),
                    sequence=int(data.get("sequence", 0)),
                    timestamp=str(payload.get("timestamp")),
                    payload=payload,
                    headers=headers,
                    received_at=now,
                    duplicate=duplicate,
                    answered=answer.status,
                )
            )
        self._notify()
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.json_response(
            {"received": event_id}, status=answer.status, headers=answer.headers
        )

    def _answer_for(self, job_id: str) -> _Rule:
        with self._lock:
            for rule in self._rules:
                if rule.job_id not in (None, job_id):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                return rule
        return _Rule(200, 0.0, {}, None, None)

    # ------------------------------------------------------------------ lifecycle (async)

    async def start(self) -> None:
        """Serve on the running loop (127.0.0.1 and a free port unless told otherwise)."""
        if self._runner is not None:
            return
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self._bound_port = sockets[0].getsockname()[1] if sockets else self.port
        self._runner = runner
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._bound_port = None
        self._loop = None

    async def __aenter__(self) -> WebhookReceiver:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ lifecycle (sync)

    def start_in_thread(self) -> WebhookReceiver:
        """Serve from a background thread with its own event loop (for sync tests)."""
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=run, name="webhook-receiver", daemon=True)
        thread.start()
        ready.wait()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(timeout=10)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            raise
        self._thread = thread
        return self

    def stop_thread(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.stop(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            self._thread = None
            self._loop = None

    @contextlib.contextmanager
    def running(self) -> Iterator[WebhookReceiver]:
        """`with receiver.running():` serve from a background thread for the block."""
        self.start_in_thread()
        try:
            yield self
        finally:
            self.stop_thread()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[WebhookReceiver]:
        """`async with receiver.serving():` serve on the current loop for the block."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
