"""`Idempotency-Key` replays (API.md part B): per organisation and route, kept 24 virtual hours."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["IDEMPOTENCY_TTL", "MAX_IDEMPOTENCY_KEY", "IdempotencyStore", "StoredResponse"]

IDEMPOTENCY_TTL = 24 * 3600.0
MAX_IDEMPOTENCY_KEY = 256


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: dict[str, Any]
    at: float


def fingerprint(method: str, route: str, body: Any) -> str:
    """A digest of what the request asked for: a reused key with another request is caught."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method} {route}\n{canonical}".encode()).hexdigest()


class IdempotencyStore:
    """Answers stored under (organisation, route, key); entries older than the TTL are gone."""

    def __init__(self, ttl: float = IDEMPOTENCY_TTL) -> None:
        self.ttl = ttl
        self._items: dict[tuple[str, str, str], StoredResponse] = {}

    def get(self, org: str, route: str, key: str, now: float) -> StoredResponse | None:
        item = self._items.get((org, route, key))
        if item is None:
            return None
        if now - item.at >= self.ttl:
            del self._items[(org, route, key)]
            return None
        return item

    def put(
        self,
        org: str,
        route: str,
        key: str,
        *,
        fingerprint: str,
        status: int,
        body: dict[str, Any],
        now: float,
    ) -> None:
        self._items[(org, route, key)] = StoredResponse(fingerprint, status, body, now)
        if len(self._items) > 1024 and len(self._items) % 1024 == 0:
            self.prune(now)

    def prune(self, now: float) -> None:
        stale = [k for k, v in self._items.items() if now - v.at >= self.ttl]
        for k in stale:
            del self._items[k]

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
