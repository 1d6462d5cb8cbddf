"""When a project's index answers: a pure function of virtual time (defined by the mock).

The docs say source-search answers 409 while the index is being built after a job finishes
and to retry after 5-10 s. The mock makes that a delay after each write: a job that writes
entities at virtual time t makes the index ready at t + delay (a scenario setting, default
10 s). Writes move the ready time later, never earlier: an index is ready when every write has
been indexed. A project no job has written to is ready (its index is empty).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import IndexNotReady, SearchValidationError

__all__ = ["DEFAULT_INDEX_DELAY", "IndexReadiness"]

DEFAULT_INDEX_DELAY = 10.0


@dataclass(frozen=True, slots=True)
class IndexReadiness:
    ready_at: float | None = None  # virtual time; None: nothing written yet
    written_at: float | None = None  # virtual time of the last write

    def after_write(self, now: float, delay: float = DEFAULT_INDEX_DELAY) -> IndexReadiness:
        if not delay >= 0 or math.isinf(delay):
            raise SearchValidationError(
                field="indexDelay", message=f"must be a finite number >= 0; got {delay!r}"
            )
        due = now + delay
        ready_at = due if self.ready_at is None else max(self.ready_at, due)
        return IndexReadiness(ready_at=ready_at, written_at=now)

    def is_ready(self, now: float) -> bool:
        return self.ready_at is None or now >= self.ready_at

    def retry_after(self, now: float) -> int:
        """Whole seconds until ready, rounded up: at least 1 while not ready, 0 once ready."""
        if self.ready_at is None or now >= self.ready_at:
            return 0
        return max(1, math.ceil(self.ready_at - now))

    def check(self, now: float) -> None:
        """Raise IndexNotReady (with `retry_after`) unless the index is ready at `now`."""
        if not self.is_ready(now):
            assert self.ready_at is not None
            raise IndexNotReady(retry_after=self.retry_after(now), ready_at=self.ready_at)
