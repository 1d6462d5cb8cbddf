"""The polling rule on `GET /jobs/{jobId}` (API.md part B), per (API key, job), virtual time."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["PollDecision", "PollTracker"]


@dataclass(frozen=True, slots=True)
class PollDecision:
    """What the rule says about one poll: too fast (seconds left) and/or after terminal."""

    too_fast: bool
    since_last: float | None
    retry_after: int
    after_terminal: bool


_OK = PollDecision(False, None, 0, False)


class PollTracker:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: dict[tuple[str, str], float] = {}
        self._terminal_served: set[tuple[str, str]] = set()
        self._last_status: dict[tuple[str, str], str] = {}
        # terminal statuses shown by other answers (cancel): they do not make a confirming poll
        # a poll after terminal (the docs ask clients to poll to confirm a cancel)
        self._terminal_shown: set[tuple[str, str]] = set()

    def check(self, api_key: str, job_id: str, now: float) -> PollDecision:
        k = (api_key, job_id)
        last = self._last.get(k)
        after_terminal = k in self._terminal_served
        if last is None:
            return PollDecision(False, None, 0, after_terminal) if after_terminal else _OK
        since = now - last
        if since < self.interval:
            retry = max(1, math.ceil(self.interval - since - 1e-9))
            return PollDecision(True, since, retry, after_terminal)
        return PollDecision(False, since, 0, after_terminal)

    def answered(
        self, api_key: str, job_id: str, now: float, *, terminal: bool, status: str = ""
    ) -> None:
        k = (api_key, job_id)
        self._last[k] = now
        self._last_status[k] = status
        if terminal:
            self._terminal_served.add(k)

    def shown(self, api_key: str, job_id: str, status: str, *, terminal: bool) -> None:
        """A response other than a poll (cancel, resume) showed the key this status."""
        k = (api_key, job_id)
        self._last_status[k] = status
        if terminal:
            self._terminal_shown.add(k)

    def served_terminal(self, api_key: str, job_id: str) -> bool:
        """Whether any answer (a poll, a cancel) showed this key a terminal status of the job."""
        k = (api_key, job_id)
        return k in self._terminal_served or k in self._terminal_shown

    def last_status(self, api_key: str, job_id: str) -> str | None:
        """The status the key's last answered poll of the job showed (None: never polled)."""
        return self._last_status.get((api_key, job_id))

    def clear(self) -> None:
        self._last.clear()
        self._terminal_served.clear()
        self._last_status.clear()
        self._terminal_shown.clear()
