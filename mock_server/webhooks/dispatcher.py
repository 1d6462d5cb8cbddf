"""The webhook delivery engine: one signed POST per job status change.

The dispatcher subscribes to the engine. Its subscriber runs synchronously inside the engine's
transition, on the server's event loop thread: it renders the job as of that transition, serializes
the event once, takes any faults, and queues the delivery. Sending happens in tasks: one task per
job with something to send (so one job's events go out in transition order), at most
`concurrency` requests in flight overall and `per_origin` per receiver origin (so one black-hole
receiver cannot hold every slot), each with a total timeout and redirects not followed.

Retries (off by default) and the `delay` fault run on the virtual clock: they are scheduled on the
engine's heap, so they fall due when the clock is advanced, exactly like job events.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
from yarl import URL

from statemachine import TERMINAL_STATUSES, Engine, Job, Project, TransitionRecord, format_time

from ..faults.registry import FaultRegistry
from ..faults.table import FRAME_STAGES, FaultHit, Frame
from .signing import new_message_id, serialize_body, sign

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PER_ORIGIN",
    "DEFAULT_RETRY_SCHEDULE",
    "EVENT_TYPE",
    "Attempt",
    "Delivery",
    "JobRenderer",
    "WebhookDispatcher",
    "event_payload",
]

logger = logging.getLogger("mock_server.webhooks")

EVENT_TYPE = "job.status_changed"
# Virtual seconds between a failed attempt and the next, Standard Webhooks / Svix style; the last
# value repeats when more retries are configured than the schedule lists.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)
DEFAULT_CONCURRENCY = 64
DEFAULT_PER_ORIGIN = 16
DEFAULT_MAX_DELIVERIES = 100_000
USER_AGENT = "plangrep-mock-webhooks/0.1"

JobRenderer = Callable[[Job, str], dict[str, Any]]
"""`render(job, status) -> Job JSON` as the public API shows it, with `status` forced."""


class Attempt:
    """One HTTP attempt (or a drop) of one delivery."""

    __slots__ = (
        "attempt",
        "error",
        "error_detail",
        "faults",
        "http_status",
        "kind",
        "latency_ms",
        "outcome",
        "virtual_time",
        "wall_time",
    )

    def __init__(
        self,
        attempt: int,
        kind: str,
        wall_time: float,
        virtual_time: float,
        http_status: int | None,
        error: str | None,
        error_detail: str | None,
        latency_ms: float,
        outcome: str,
        faults: tuple[str, ...],
    ) -> None:
        self.attempt = attempt
        self.kind = kind  # first | retry | duplicate | redelivery
        self.wall_time = wall_time
        self.virtual_time = virtual_time
        self.http_status = http_status
        self.error = error  # refused | timeout | reset | dns | tls | invalid_url | ...
        self.error_detail = error_detail
        self.latency_ms = latency_ms
        self.outcome = outcome  # delivered | failed | dropped
        self.faults = faults

    def as_json(self, delivery: Delivery) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "deliveryId": delivery.id,
            "eventId": delivery.event_id,
            "jobId": delivery.job_id,
            "kind": self.kind,
            "wallTime": format_time(self.wall_time),
            "virtualTime": format_time(self.virtual_time),
            "httpStatus": self.http_status,
            "error": self.error,
            "errorDetail": self.error_detail,
            "latencyMs": round(self.latency_ms, 3),
            "outcome": self.outcome,
            "faults": list(self.faults),
        }


class Delivery:
    """One event on its way to one job's webhook URL, with every attempt made."""

    __slots__ = (
        "at",
        "attempts",
        "body",
        "event_id",
        "faults",
        "id",
        "job_id",
        "next_attempt_at",
        "origin",
        "previous_status",
        "retries_left",
        "secret",
        "sequence",
        "state",
        "status",
        "url",
    )

    def __init__(
        self,
        delivery_id: str,
        event_id: str,
        record: TransitionRecord,
        url: str,
        secret: str,
        body: bytes,
        retries: int,
    ) -> None:
        self.id = delivery_id
        self.event_id = event_id
        self.job_id = record.object_id
        self.status = record.dst
        self.previous_status = record.src
        self.sequence = record.sequence
        self.at = record.at
        self.url = url
        self.secret = secret
        self.body = body
        self.retries_left = retries
        self.attempts: list[Attempt] = []
        # queued | held | delivered | failed | retrying | dropped | disabled
        self.state = "queued"
        self.faults: list[str] = []
        self.next_attempt_at: float | None = None
        try:
            self.origin = str(URL(url).origin())
        except ValueError:
            self.origin = url

    def as_json(self, *, payload: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "eventId": self.event_id,
            "jobId": self.job_id,
            "url": self.url,
            "type": EVENT_TYPE,
            "jobStatus": self.status,
            "previousStatus": self.previous_status,
            "sequence": self.sequence,
            "timestamp": format_time(self.at),
            "state": self.state,
            "faults": list(self.faults),
            "nextAttemptAt": (
                format_time(self.next_attempt_at) if self.next_attempt_at is not None else None
            ),
            "attempts": [a.as_json(self) for a in self.attempts],
        }
        if payload:
            out["payload"] = json.loads(self.body)
        return out


class _Work:
    """One queued send of a delivery."""

    __slots__ = ("delivery", "dropped", "faults", "hold_for_next", "kind", "release_at", "twice")

    def __init__(
        self,
        delivery: Delivery,
        kind: str,
        faults: tuple[FaultHit, ...] = (),
        release_at: float | None = None,
        hold_for_next: bool = False,
    ) -> None:
        self.delivery = delivery
        self.kind = kind
        self.faults = faults  # faults on how the attempt is signed or framed
        self.release_at = release_at  # delay fault: held until this virtual time
        self.hold_for_next = hold_for_next  # reorder fault: sent after the job's next event
        self.twice = False  # duplicate fault: sent again right after
        self.dropped = False  # drop fault: never sent


class _Queueing:
    """What a queue-stage fault (`faults/table.py`) may do to one event's first send."""

    __slots__ = ("dispatcher", "work")

    def __init__(self, dispatcher: WebhookDispatcher, work: _Work) -> None:
        self.dispatcher = dispatcher
        self.work = work

    def drop(self) -> None:
        self.work.dropped = True

    def send_twice(self) -> None:
        self.work.twice = True

    def send_after_next(self) -> None:
        self.work.hold_for_next = True
        self.work.delivery.state = "held"

    def hold_until(self, seconds: float) -> None:
        d = self.dispatcher
        release_at = d.engine.now + seconds
        self.work.release_at = release_at
        self.work.delivery.state = "held"
        self.work.delivery.next_attempt_at = release_at
        d.engine.schedule(release_at, d._due_release, self.work, d._generation)


def _classify(exc: BaseException) -> str:
    """A short name for why an attempt got no HTTP answer."""
    if isinstance(exc, TimeoutError):  # asyncio's and aiohttp's timeouts
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return "tls"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
            return "refused"
        return "connect_error"
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError
        | aiohttp.ClientPayloadError
        | ConnectionResetError
        | BrokenPipeError,
    ):
        return "reset"
    if isinstance(exc, aiohttp.ClientOSError):
        if exc.errno in (errno.ECONNRESET, errno.EPIPE):
            return "reset"
        return "os_error"
    if isinstance(exc, aiohttp.InvalidURL):
        return "invalid_url"
    if isinstance(exc, aiohttp.ClientError):
        return "client_error"
    return "error"


def event_payload(record: TransitionRecord, job: dict[str, Any]) -> dict[str, Any]:
    """The body of one event (API.md part B): the job as rendered for `record.dst`, the status
    it left and its 1-based position in the job's history."""
    return {
        "type": EVENT_TYPE,
        "timestamp": format_time(record.at),
        "data": {"job": job, "previousStatus": record.src, "sequence": record.sequence},
    }


class WebhookDispatcher:
    """Signed Standard Webhooks deliveries of an engine's job transitions.

    Construct, then `await start()` on the loop that owns the engine; `await close()` at
    shutdown. A job takes part when `job.webhook_url` is set; `job.webhook_secret` (`wss_...`)
    signs its events.
    """

    def __init__(
        self,
        engine: Engine,
        render_job: JobRenderer,
        *,
        faults: FaultRegistry | None = None,
        timeout: float = 10.0,
        retries: int = 0,
        retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE,
        concurrency: int = DEFAULT_CONCURRENCY,
        per_origin: int = DEFAULT_PER_ORIGIN,
        max_deliveries: int = DEFAULT_MAX_DELIVERIES,
        subscribe: bool = True,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"webhook timeout must be > 0 seconds, got {timeout}")
        if retries < 0:
            raise ValueError(f"webhook retries must be >= 0, got {retries}")
        if retries and not retry_schedule:
            raise ValueError("a retry schedule needs at least one delay")
        if concurrency < 1 or per_origin < 1:
            raise ValueError(
                f"concurrency and per_origin must be >= 1, got {concurrency} and {per_origin}"
            )
        self.engine = engine
        self.render_job = render_job
        self.faults = faults if faults is not None else FaultRegistry()
        self.timeout = float(timeout)
        self.retries = retries
        self.retry_schedule = retry_schedule
        self.concurrency = concurrency
        self.per_origin = per_origin
        self.max_deliveries = max_deliveries
        self.on_error = on_error
        self.errors: list[BaseException] = []
        self._deliveries: dict[str, Delivery] = {}
        self._by_job: dict[str, list[Delivery]] = {}
        self._queues: dict[str, deque[_Work]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._disabled: set[str] = set()
        self._origin_sems: dict[str, asyncio.Semaphore] = {}
        self._global_sem: asyncio.Semaphore | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._idle: asyncio.Event | None = None
        self._generation = 0
        self._closed = False
        self._unsubscribe: Callable[[], None] | None = None
        if subscribe:
            self._unsubscribe = engine.subscribe(self.on_transition)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Open the shared HTTP session on the running loop and send anything already queued."""
        if self._session is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._global_sem = asyncio.Semaphore(self.concurrency)
        self._idle = asyncio.Event()
        self._idle.set()
        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )
        self._closed = False
        for job_id in list(self._queues):
            self._kick(job_id)

    async def close(self) -> None:
        """Stop promptly: cancel every send in flight, then close the session."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self._idle is not None:
            self._idle.set()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def reset(self, engine: Engine | None = None) -> None:
        """Forget every delivery, queue and disabled webhook (`POST /_mock/reset`); sends in
        flight are cancelled. With `engine`, follow that engine from now on (the caller
        subscribes `on_transition` to it unless this dispatcher subscribed itself)."""
        self._generation += 1
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()
        self._queues.clear()
        self._deliveries.clear()
        self._by_job.clear()
        self._disabled.clear()
        if self._idle is not None:
            self._idle.set()
        if engine is not None and engine is not self.engine:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = engine.subscribe(self.on_transition)
            self.engine = engine

    async def drain(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is being sent or ready to send; False if `timeout` passed first.

        Deliveries held by the virtual clock (retries, the `delay` fault) or waiting for the
        job's next event (`reorder`) do not count: they move only when the clock or the job does.
        """
        if self._idle is None:
            return not any(self._ready(q) for q in self._queues.values())
        await asyncio.sleep(0)  # let kicks scheduled from other threads run
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------------ queries

    def deliveries(self, job_id: str | None = None) -> list[Delivery]:
        if job_id is None:
            return list(self._deliveries.values())
        return list(self._by_job.get(job_id, ()))

    def get(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

    def is_disabled(self, job_id: str) -> bool:
        return job_id in self._disabled

    @property
    def pending(self) -> int:
        """Sends queued (held ones included) or in flight."""
        return sum(len(q) for q in self._queues.values()) + len(self._tasks)

    # ------------------------------------------------------------------ engine side

    def on_transition(self, record: TransitionRecord, obj: Job | Project) -> None:
        """Engine subscriber: queue one signed event for a job with a webhook URL."""
        if record.kind != "job" or not isinstance(obj, Job):
            return
        url = obj.webhook_url
        if not url:
            return
        try:
            self._enqueue_event(record, obj, url, obj.webhook_secret)
        except Exception as exc:  # a subscriber must never break the engine's transition
            logger.exception("webhook for %s %s could not be queued", record.object_id, record.dst)
            self.errors.append(exc)
            if self.on_error is not None:
                self.on_error(exc)

    def _enqueue_event(
        self, record: TransitionRecord, job: Job, url: str, secret: str | None
    ) -> None:
        body = serialize_body(event_payload(record, self.render_job(job, record.dst)))
        delivery = Delivery(
            "dlv_" + new_message_id()[4:],
            new_message_id(),
            record,
            url,
            secret or "",
            body,
            self.retries,
        )
        self._remember(delivery)
        if not delivery.secret:
            self._record(
                delivery,
                1,
                "first",
                None,
                "no_secret",
                "the job has no webhook_secret",
                0.0,
                "failed",
                (),
            )
            delivery.state = "failed"
            return
        if job.id in self._disabled:
            delivery.state = "disabled"
            return
        hits = self.faults.take_webhook_faults(job.id, final=record.dst in TERMINAL_STATUSES)
        delivery.faults = [h.mode for h in hits]
        work = _Work(delivery, "first", tuple(h for h in hits if h.row.stage != "queue"))
        queueing = _Queueing(self, work)
        for h in hits:
            if h.row.stage == "queue":
                h.row.apply(queueing, h)
        if work.dropped:
            modes = tuple(h.mode for h in hits if h.mode == "drop")
            self._record(delivery, 1, "first", None, None, None, 0.0, "dropped", modes)
            delivery.state = "dropped"
            return
        self._push(work)

    def _remember(self, delivery: Delivery) -> None:
        self._deliveries[delivery.id] = delivery
        self._by_job.setdefault(delivery.job_id, []).append(delivery)
        while len(self._deliveries) > self.max_deliveries:
            oldest = next(iter(self._deliveries.values()))
            del self._deliveries[oldest.id]
            same_job = self._by_job.get(oldest.job_id)
            if same_job:
                same_job.pop(0)
                if not same_job:
                    del self._by_job[oldest.job_id]

    def _due_release(self, work: _Work, generation: int) -> None:
        """Engine heap callback: a delayed event's virtual time has come."""
        if generation != self._generation:
            return
        work.release_at = None
        if work.delivery.state == "held" and not work.hold_for_next:
            work.delivery.state = "queued"
            work.delivery.next_attempt_at = None
        self._kick_threadsafe(work.delivery.job_id)

    def _due_retry(self, delivery: Delivery, generation: int) -> None:
        """Engine heap callback: a failed delivery's next attempt is due."""
        if generation != self._generation or delivery.state != "retrying":
            return
        delivery.next_attempt_at = None
        if delivery.job_id in self._disabled:
            delivery.state = "disabled"
            return
        delivery.state = "queued"
        self._push(_Work(delivery, "retry"))

    # ------------------------------------------------------------------ control side

    def redeliver(self, delivery_id: str) -> Delivery:
        """Send a logged event again: same `webhook-id`, a fresh timestamp and signature, no
        faults; sent even when a 410 disabled the job's webhook. KeyError if unknown."""
        delivery = self._deliveries[delivery_id]
        if not delivery.secret:
            raise KeyError(delivery_id)
        delivery.state = "queued"
        delivery.next_attempt_at = None
        self._push(_Work(delivery, "redelivery"))
        return delivery

    # ------------------------------------------------------------------ queue and tasks

    def _push(self, work: _Work, *, front: bool = False) -> None:
        job_id = work.delivery.job_id
        q = self._queues.get(job_id)
        if q is None:
            q = self._queues[job_id] = deque()
        if front:
            q.appendleft(work)
        elif work.kind == "first":
            # keep unsent events in transition order even if a subscriber caused a nested
            # transition whose record reached us before the outer one
            i = len(q)
            seq = work.delivery.sequence
            while i > 0 and q[i - 1].kind == "first" and q[i - 1].delivery.sequence > seq:
                i -= 1
            q.insert(i, work)
        else:
            q.append(work)
        self._kick_threadsafe(job_id)

    def _kick_threadsafe(self, job_id: str) -> None:
        loop = self._loop
        if loop is None or self._closed:
            return  # start() sends what was queued before it
        if threading.get_ident() == self._loop_thread:
            self._kick(job_id)
        else:  # the engine was touched off the loop thread: hop over
            loop.call_soon_threadsafe(self._kick, job_id)

    def _kick(self, job_id: str) -> None:
        if self._closed or job_id in self._tasks:
            return
        q = self._queues.get(job_id)
        if not q or not self._ready(q):
            return
        assert self._loop is not None
        task = self._loop.create_task(self._run_job(job_id, q), name=f"webhooks:{job_id}")
        self._tasks[job_id] = task
        if self._idle is not None:
            self._idle.clear()

    @staticmethod
    def _ready(q: deque[_Work]) -> bool:
        if not q:
            return False
        head = q[0]
        if head.release_at is not None:
            return False
        return not (head.hold_for_next and len(q) < 2)

    async def _run_job(self, job_id: str, q: deque[_Work]) -> None:
        me = asyncio.current_task()
        try:
            while self._ready(q):
                work = q[0]
                if work.hold_for_next:  # reorder: the job's next event overtakes this one
                    work.hold_for_next = False
                    if work.delivery.state == "held":
                        work.delivery.state = "queued"
                    q[0], q[1] = q[1], work
                    continue
                q.popleft()
                if await self._send(work):
                    # duplicate fault: the same event again, right away (same webhook-id,
                    # a fresh signature)
                    q.appendleft(_Work(work.delivery, "duplicate"))
        except Exception as exc:  # never let one job's task die silently
            logger.exception("webhook task for %s failed", job_id)
            self.errors.append(exc)
            if self.on_error is not None:
                self.on_error(exc)
        finally:
            if self._tasks.get(job_id) is me:
                del self._tasks[job_id]
            if not q and self._queues.get(job_id) is q:
                del self._queues[job_id]
            if not self._tasks and self._idle is not None:
                self._idle.set()

    def _origin_sem(self, origin: str) -> asyncio.Semaphore:
        sem = self._origin_sems.get(origin)
        if sem is None:
            sem = self._origin_sems[origin] = asyncio.Semaphore(self.per_origin)
        return sem

    def _frame(
        self, delivery: Delivery, faults: tuple[FaultHit, ...]
    ) -> tuple[bytes, dict[str, str]]:
        """Body and headers of one attempt: signed now, with the wall clock's timestamp; the
        attempt's faults act before signing (timestamp, key) and after (signature, body,
        headers), each as its row in `faults/table.py` says."""
        frame = Frame(delivery.event_id, delivery.body, int(time.time()), delivery.secret)
        for stage in FRAME_STAGES:
            if stage == "body":  # the signature is final: set its header
                frame.headers["webhook-signature"] = frame.signature
            elif stage == "signature":  # the timestamp and key are final: sign
                frame.signature = sign(frame.key, frame.event_id, frame.timestamp, frame.body)
                frame.headers = {
                    "content-type": "application/json",
                    "webhook-id": frame.event_id,
                    "webhook-timestamp": str(frame.timestamp),
                }
            for h in faults:
                if h.row.stage == stage:
                    h.row.apply(frame, h)
        return frame.body, frame.headers

    async def _send(self, work: _Work) -> bool:
        """One attempt; True when the duplicate fault asks for the event to be sent again."""
        delivery = work.delivery
        if delivery.job_id in self._disabled and work.kind != "redelivery":
            delivery.state = "disabled"
            return False
        session = self._session
        assert session is not None and self._global_sem is not None
        attempt_no = len(delivery.attempts) + 1
        fault_modes = tuple(h.mode for h in work.faults)
        async with self._origin_sem(delivery.origin), self._global_sem:
            body, headers = self._frame(delivery, work.faults)
            wall = time.time()
            virtual = self.engine.clock.now()
            started = time.perf_counter()
            status: int | None = None
            error: str | None = None
            detail: str | None = None
            try:
                async with session.post(
                    delivery.url,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as resp:
                    status = resp.status
            except Exception as exc:  # every failure is an outcome, never an error of ours
                error = _classify(exc)
                detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            latency_ms = (time.perf_counter() - started) * 1000.0
        delivered = status is not None and 200 <= status < 300
        outcome = "delivered" if delivered else "failed"
        self._record(
            delivery,
            attempt_no,
            work.kind,
            status,
            error,
            detail,
            latency_ms,
            outcome,
            fault_modes,
            wall=wall,
            virtual=virtual,
        )
        if delivered:
            delivery.state = "delivered"
        elif delivery.state != "delivered":  # a failed duplicate does not undo a delivery
            delivery.state = "failed"
        if status == 410:
            self._disable(delivery.job_id)
            return False
        if not delivered and work.kind in ("first", "retry") and delivery.retries_left > 0:
            self._schedule_retry(delivery)
        return work.twice

    def _schedule_retry(self, delivery: Delivery) -> None:
        failed = sum(1 for a in delivery.attempts if a.kind in ("first", "retry"))
        delay = self.retry_schedule[min(failed - 1, len(self.retry_schedule) - 1)]
        delivery.retries_left -= 1
        delivery.state = "retrying"
        due = self.engine.now + delay
        delivery.next_attempt_at = due
        self.engine.schedule(due, self._due_retry, delivery, self._generation)

    def _disable(self, job_id: str) -> None:
        """A 410 Gone: the receiver wants no more events for this job."""
        self._disabled.add(job_id)
        q = self._queues.get(job_id)
        if q:
            kept = deque(w for w in q if w.kind == "redelivery")
            for w in q:
                if w.kind != "redelivery" and w.delivery.state != "delivered":
                    w.delivery.state = "disabled"
                    w.delivery.next_attempt_at = None
            q.clear()
            q.extend(kept)
        for d in self._by_job.get(job_id, ()):
            if d.state == "retrying":
                d.state = "disabled"
                d.next_attempt_at = None
        logger.info("webhook of %s disabled: the receiver answered 410 Gone", job_id)

    def _record(
        self,
        delivery: Delivery,
        attempt_no: int,
        kind: str,
        status: int | None,
        error: str | None,
        detail: str | None,
        latency_ms: float,
        outcome: str,
        faults: tuple[str, ...],
        *,
        wall: float | None = None,
        virtual: float | None = None,
    ) -> None:
        attempt = Attempt(
            attempt_no,
            kind,
            time.time() if wall is None else wall,
            self.engine.clock.now() if virtual is None else virtual,
            status,
            error,
            detail,
            latency_ms,
            outcome,
            faults,
        )
        delivery.attempts.append(attempt)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "webhook %s event=%s job=%s attempt=%d kind=%s status=%s error=%s "
                "latency_ms=%.1f outcome=%s faults=%s",
                delivery.id,
                delivery.event_id,
                delivery.job_id,
                attempt_no,
                kind,
                status,
                error,
                latency_ms,
                outcome,
                ",".join(faults) or "-",
            )
