"""What each API key has been shown of each job: the server's memory for the contract rules.

One `contract.rules.Seen` per (API key, job), and one `contract.rules.SeenIndex` per (API key,
project) for source search's index readiness, judged by the rule registry's functions; the
polling interval and its policy (enforce, record, off) are in the configuration (API.md part B).
"""

from __future__ import annotations

from .contract.rules import Seen, SeenIndex

__all__ = ["SeenBook"]


class SeenBook:
    """`Seen` per (API key, job) and `SeenIndex` per (API key, project), created on first
    use."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._seen: dict[tuple[str, str], Seen] = {}
        self._index: dict[tuple[str, str], SeenIndex] = {}

    def of(self, api_key: str, job_id: str) -> Seen:
        k = (api_key, job_id)
        seen = self._seen.get(k)
        if seen is None:
            seen = self._seen[k] = Seen()
        return seen

    def index_of(self, api_key: str, project_id: str) -> SeenIndex:
        k = (api_key, project_id)
        seen = self._index.get(k)
        if seen is None:
            seen = self._index[k] = SeenIndex()
        return seen

    def clear(self) -> None:
        self._seen.clear()
        self._index.clear()
