"""The dashboard's live feed: server-sent events, at no cost while no page is open.

With no page connected there is nothing: no engine subscriber, no task, no work in the request
path. The first page to connect subscribes the feed to the engine's transitions (a set insert
per transition) and starts one task that wakes every `interval` seconds and pushes what changed
since the last wake, coalesced: the changed job rows (at most `MAX_ROWS`, else `overflow` and
the page reloads its window), the status counts, the clock, the violation count, the faults.
A page showing one job (`?job=`) also gets a `job` note when that job's history, requests or
webhook deliveries moved; requests are looked at only then, and only the ones journalled since
the last wake. The last page to leave unsubscribes and stops the task.

Messages are JSON objects with a `type`: hello, jobs, clock, projects, violations, faults, job,
reset (the state was reset: reload everything), resync (this page fell behind: reload).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from statemachine import Engine, Job, Project, TransitionRecord, format_time

from ..errors import ServerError
from ..state import MockState

__all__ = ["FEED_KEY", "MAX_ROWS", "LiveFeed", "job_row", "status_counts"]

MAX_ROWS = 500  # changed rows in one push; beyond that the page reloads its window
_QUEUE = 64  # messages a page may lag behind before it is told to resync
_KEEPALIVE = 10.0  # seconds between comment lines on an idle stream (finds closed pages)


def job_row(engine: Engine, job: Job) -> dict[str, Any]:
    """A job as one row of the dashboard's table (`MockJobRow`)."""
    prog = engine.progress(job)
    return {
        "id": job.id,
        "projectId": job.project_id,
        "organisation": job.org,
        "externalId": job.external_id,
        "scenario": job.scenario.name,
        "status": job.state,
        "pagesDone": prog.pages_done,
        "pageCount": job.page_count,
        "creditsReserved": prog.credits_held,
        "creditsDebited": prog.credits_debited,
        "createdAt": format_time(job.created_at),
        "updatedAt": format_time(job.updated_at),
    }


def status_counts(jobs: Any) -> dict[str, int]:
    return dict(Counter(j.state for j in jobs))


def _event(msg: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(msg, separators=(",", ":")).encode() + b"\n\n"


class _Page:
    """One connected page."""

    __slots__ = ("deliveries_seen", "job_id", "queue", "request")

    def __init__(self, request: web.Request, job_id: str | None) -> None:
        self.request = request
        self.job_id = job_id
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(_QUEUE)
        self.deliveries_seen: tuple[Any, ...] = ()

    def send(self, data: bytes) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:  # a slow page: drop what it has not read, tell it to reload
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(_event({"type": "resync"}))

    @property
    def gone(self) -> bool:
        transport = self.request.transport
        return transport is None or transport.is_closing()


class LiveFeed:
    """Pushes the server's changes to the connected dashboard pages (see the module docstring).
    Runs on the server's loop, like the engine."""

    def __init__(
        self,
        state: MockState,
        *,
        interval: float = 0.1,
        clock_interval: float = 1.0,
    ) -> None:
        self.state = state
        self.interval = interval
        # a clock that moves on its own (realtime) is pushed at most this often unless jobs move
        self.clock_interval = clock_interval
        self.pages: set[_Page] = set()
        self._engine: Engine | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed: set[str] = set()
        self._projects_changed = False
        self._closed = False
        self._marks()

    # ------------------------------------------------------------------ what was last pushed

    def _marks(self) -> None:
        state = self.state
        self._now = state.engine.now
        self._clock_pushed = time.monotonic()
        self._total = len(state.engine.jobs)
        self._projects = len(state.engine.projects)
        self._violations = len(state.violations)
        self._journal_total = state.journal.total
        self._faults_seen = self._faults_signature()

    def deliveries(self, job_id: str) -> list[Any]:
        return self.state.webhooks.deliveries(job_id)

    def _faults_signature(self) -> tuple[Any, ...]:
        return tuple((f.id, f.remaining) for f in self.state.faults.faults())

    def _faults_json(self) -> list[dict[str, Any]]:
        return [f.as_json() for f in self.state.faults.faults()]

    def snapshot(self) -> dict[str, Any]:
        """The `hello` message: what a page needs before the first change."""
        state = self.state
        engine = state.engine
        return {
            "type": "hello",
            "now": format_time(engine.now),
            "clock": state.config.clock,
            "speed": state.clock.speed,
            "totalJobs": len(engine.jobs),
            "counts": status_counts(engine.jobs.values()),
            "violations": len(state.violations),
            "faults": self._faults_json(),
            "interval": self.interval,
        }

    @property
    def active(self) -> bool:
        """Whether the feed is subscribed to the engine (only while a page is connected)."""
        return self._unsubscribe is not None

    # ------------------------------------------------------------------ engine side

    def _on_transition(self, record: TransitionRecord, _obj: Job | Project) -> None:
        if record.kind == "job":
            self._changed.add(record.object_id)
        else:
            self._projects_changed = True

    def _follow(self, engine: Engine) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._engine = engine
        self._unsubscribe = engine.subscribe(self._on_transition)

    def _start(self) -> None:
        self._changed.clear()
        self._projects_changed = False
        self._marks()
        self._follow(self.state.engine)
        self._task = asyncio.get_running_loop().create_task(self._run(), name="plangrep-mock-ui")

    def _stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = None
        self._engine = None
        if self._task is not None:
            self._task.cancel()
        self._task = None
        self._changed.clear()

    async def _run(self) -> None:
        while self.pages:
            await asyncio.sleep(self.interval)
            try:
                self.flush()
            except Exception as exc:  # recorded like any server bug; the feed goes on
                self.state.server_errors.append(exc)

    # ------------------------------------------------------------------ one push

    def _broadcast(self, msg: dict[str, Any]) -> None:
        data = _event(msg)
        for page in self.pages:
            page.send(data)

    def flush(self) -> None:
        """Push what changed since the last flush to every page."""
        for page in [p for p in self.pages if p.gone]:
            page.send(b"")  # wakes its handler, which notices the closed transport and leaves
        state = self.state
        engine = state.engine
        if engine is not self._engine:  # POST /_mock/reset built a new engine
            self._follow(engine)
            self._changed.clear()
            self._projects_changed = False
            self._marks()
            self._broadcast({**self.snapshot(), "type": "reset"})
            return
        changed, self._changed = self._changed, set()
        total = len(engine.jobs)
        now = engine.now
        jobs_moved = bool(changed) or total != self._total
        if jobs_moved:
            jobs = engine.jobs
            rows = [job_row(engine, jobs[i]) for i in list(changed)[:MAX_ROWS] if i in jobs]
            self._broadcast(
                {
                    "type": "jobs",
                    "rows": rows,
                    "overflow": len(changed) > MAX_ROWS,
                    "added": total - self._total,
                    "totalJobs": total,
                    "counts": status_counts(jobs.values()),
                    "now": format_time(now),
                }
            )
            self._total = total
        wall = time.monotonic()
        if now != self._now and (
            jobs_moved
            or state.config.clock == "manual"
            or wall - self._clock_pushed >= self.clock_interval
        ):
            self._broadcast({"type": "clock", "now": format_time(now), "epochSeconds": now})
            self._now = now
            self._clock_pushed = wall
        projects = len(engine.projects)
        if self._projects_changed or projects != self._projects:
            self._broadcast({"type": "projects", "total": projects})
            self._projects = projects
            self._projects_changed = False
        violations = len(state.violations)
        if violations != self._violations:
            self._broadcast({"type": "violations", "count": violations})
            self._violations = violations
        faults = self._faults_signature()
        if faults != self._faults_seen:
            self._broadcast({"type": "faults", "faults": self._faults_json()})
            self._faults_seen = faults
        self._flush_job_pages(changed)

    def _flush_job_pages(self, changed: set[str]) -> None:
        watchers = [p for p in self.pages if p.job_id is not None]
        journal = self.state.journal
        new = journal.total - self._journal_total
        self._journal_total = journal.total
        if not watchers:
            return
        requested = {e.job_id for e in journal.recent(new)} if new > 0 else set()
        for page in watchers:
            job_id = page.job_id
            assert job_id is not None
            found = self.deliveries(job_id)
            seen = tuple((d.id, d.state, len(d.attempts)) for d in found)
            moved = seen != page.deliveries_seen
            page.deliveries_seen = seen
            if moved or job_id in changed or job_id in requested:
                page.send(_event({"type": "job", "id": job_id}))

    # ------------------------------------------------------------------ the HTTP side

    async def stream(self, request: web.Request, job_id: str | None) -> web.StreamResponse:
        """Serve one page's event stream until it goes away or the server stops."""
        if self._closed:
            raise ServerError(
                status=503, code="shutting_down", message="the server is stopping; no new feeds"
            )
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        # registered before the headers go out: once the page sees the stream open, every
        # change from then on reaches it
        page = _Page(request, job_id)
        if job_id is not None:
            page.deliveries_seen = tuple(
                (d.id, d.state, len(d.attempts)) for d in self.deliveries(job_id)
            )
        if not self.pages:
            self._start()
        self.pages.add(page)
        try:
            await resp.prepare(request)
            await resp.write(b"retry: 1000\n\n" + _event(self.snapshot()))
            while not page.gone:
                try:
                    data = await asyncio.wait_for(page.queue.get(), _KEEPALIVE)
                except TimeoutError:
                    data = b": keep-alive\n\n"
                if data is None:
                    break
                if data:
                    await resp.write(data)
        except (ConnectionResetError, ConnectionError):
            pass  # the page went away while we wrote to it
        finally:
            self.pages.discard(page)
            if not self.pages:
                self._stop()
        return resp

    async def close(self) -> None:
        """End every stream (the server is stopping)."""
        self._closed = True
        for page in list(self.pages):
            while not page.queue.empty():
                page.queue.get_nowait()
            page.queue.put_nowait(None)
        await asyncio.sleep(0)
        self._stop()


FEED_KEY: web.AppKey[LiveFeed] = web.AppKey("plangrep_mock_ui_feed", LiveFeed)
