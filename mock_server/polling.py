"""What each API key has been shown and asked: the server's memory for the contract rules.

One `contract.rules.Seen` per (API key, job), one `SeenIndex` per (API key, project) for source
search's index readiness, one `Creates` per (API key, project) and one `RetryAfters` per API key,
judged by the rule registry's functions; the polling interval and its policy (enforce, record,
off) are in the configuration (API.md part B).
"""

from __future__ import annotations

from .contract.rules import Creates, RetryAfters, Seen, SeenIndex

__all__ = ["SeenBook"]


class SeenBook:
    """`Seen` per (API key, job), `SeenIndex` and `Creates` per (API key, project),
    `RetryAfters` per API key, each created on first use."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._seen: dict[tuple[str, str], Seen] = {}
        self._index: dict[tuple[str, str], SeenIndex] = {}
        self._creates: dict[tuple[str, str], Creates] = {}
        self._retries: dict[str, RetryAfters] = {}

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

    def creates(self, api_key: str, project_id: str) -> Creates:
        k = (api_key, project_id)
        creates = self._creates.get(k)
        if creates is None:
            creates = self._creates[k] = Creates()
        return creates

    def lost_creates(self, api_key: str, project_id: str) -> Creates | None:
        """The key's `Creates` in the project if one of its create answers was ever lost."""
        return self._creates.get((api_key, project_id))

    def retries(self, api_key: str) -> RetryAfters:
        asked = self._retries.get(api_key)
        if asked is None:
            asked = self._retries[api_key] = RetryAfters()
        return asked

    def asked_retry(self, api_key: str) -> RetryAfters | None:
        """The key's `RetryAfters` if it was ever given one (every request asks: kept cheap)."""
        return self._retries.get(api_key) if self._retries else None

    def clear(self) -> None:
        self._seen.clear()
        self._index.clear()
        self._creates.clear()
        self._retries.clear()
