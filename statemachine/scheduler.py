"""The engine's clock and event queue: a heap of due events, and a FIFO for expiries.

Commands act at the clock's current time; `advance()` / `run_until()` fire due events in time
order. Work per advance is proportional to the events fired: nothing scans all jobs.
Subscribers are called once per transition, in order, as `fn(record, obj)`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

from .clock import Clock
from .objects import Job, Project, TransitionRecord

__all__ = ["Scheduler", "Subscriber"]

Subscriber = Callable[[TransitionRecord, "Job | Project"], None]
_Due = Callable[[Any, int], None]
_Entry = tuple[float, int, _Due, Any, int]


class Scheduler:
    """Virtual time, due events and transition subscribers (the engine's plumbing)."""

    if TYPE_CHECKING:

        def _due_expire(self, job_id: str, _gen: int) -> None: ...

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.now = self.clock.now()
        self._heap: list[_Entry] = []
        # Expiries (created + TTL) come in time order when jobs share a TTL: they wait in this
        # FIFO instead of the heap, which they would otherwise fill with an entry per job for the
        # whole TTL (at 100k jobs that made every push and pop about twice as slow). Entries are
        # (at, seq, job id): plain values, which the garbage collector stops tracking.
        self._expiries: deque[tuple[float, int, str]] = deque()
        self._seq = 0  # scheduling order: ties in time fire in the order they were scheduled
        self._firing = 0  # run_until depth: > 0 while due events fire
        self._subscribers: list[Subscriber] = []
        self._capture: list[TransitionRecord] | None = None

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn)

    def schedule(self, at: float, fn: _Due, obj: Any, gen: int = 0) -> None:
        """Call fn(obj, gen) at virtual time `at` (never before now)."""
        seq = self._seq = self._seq + 1
        now = self.now
        heappush(self._heap, (at if at > now else now, seq, fn, obj, gen))

    def _schedule_expiry(self, job: Job) -> None:
        """`schedule(job.expires_at, _due_expire, job.id)`; in time order, into the FIFO."""
        seq = self._seq = self._seq + 1
        at = job.expires_at if job.expires_at > self.now else self.now
        fifo = self._expiries
        if not fifo or at >= fifo[-1][0]:
            fifo.append((at, seq, job.id))
        else:
            heappush(self._heap, (at, seq, self._due_expire, job.id, 0))

    def pending_events(self) -> int:
        return len(self._heap) + len(self._expiries)

    def next_due(self) -> float | None:
        heap, fifo = self._heap, self._expiries
        if heap and fifo:
            return min(heap[0][0], fifo[0][0])
        if heap:
            return heap[0][0]
        return fifo[0][0] if fifo else None

    def run_until(self, t: float) -> None:
        """Fire every event due at or before `t`, in time order; then now = t.

        Heap entries are (at, seq, fn, obj, gen) and FIFO entries (at, seq, job id), `seq`
        unique: comparing heads orders them exactly as one heap would, by time, then by
        scheduling order."""
        heap = self._heap
        fifo = self._expiries
        if not ((heap and heap[0][0] <= t) or (fifo and fifo[0][0] <= t)):
            if t > self.now:  # nothing due (most polls): skip the loop's setup
                self.now = t
            return
        pop = heappop
        popleft = fifo.popleft
        expire = self._due_expire
        self._firing += 1
        try:
            while True:
                if fifo and fifo[0][0] <= t and (not heap or fifo[0] < heap[0]):
                    at, _, job_id = popleft()
                    if at > self.now:
                        self.now = at
                    expire(job_id, 0)
                    continue
                if not heap or heap[0][0] > t:
                    break
                at, _, fn, obj, gen = pop(heap)
                if at > self.now:
                    self.now = at
                fn(obj, gen)
        finally:
            self._firing -= 1
        if t > self.now:
            self.now = t

    def sync(self) -> None:
        """Catch up with the clock (the realtime clock moves on its own)."""
        self.run_until(self.clock.now())

    def advance(self, seconds: float) -> list[TransitionRecord]:
        """Move the clock forward and fire what fell due; returns the transitions fired."""
        target = self.clock.advance(seconds)
        outer = self._capture
        captured: list[TransitionRecord] = []
        self._capture = captured
        try:
            self.run_until(target)
        finally:
            self._capture = outer
            if outer is not None:
                outer.extend(captured)
        return captured

    def sync_if_behind(self) -> None:
        """Fire what the clock has made due before a command acts. Not while events are firing:
        a command a due event or a subscriber issues acts at that event's time, and catching up
        there would fire later events in the middle of an earlier one."""
        if not self._firing:
            self.run_until(self.clock.now())

    def _notify(self, rec: TransitionRecord, obj: Job | Project) -> None:
        if self._capture is not None:
            self._capture.append(rec)
        for fn in self._subscribers:
            fn(rec, obj)
