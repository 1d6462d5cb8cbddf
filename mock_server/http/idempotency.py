"""`Idempotency-Key` replays (API.md part B): per organisation and route, kept 24 virtual hours."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ..errors import Conflict, field_error, json_response, short

__all__ = [
    "IDEMPOTENCY_TTL",
    "MAX_IDEMPOTENCY_KEY",
    "IdempotencyStore",
    "Idempotent",
    "StoredResponse",
    "fingerprint",
    "idempotency_key",
]

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


# --------------------------------------------------------------------------- per request


def idempotency_key(request: web.Request) -> str | None:
    """The request's `Idempotency-Key` header (1-256 characters), or None."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise field_error(
            "Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters, got {len(key)}"
        )
    return key


@dataclass(frozen=True, slots=True)
class Idempotent:
    """One request's idempotency: `replay()` answers a repeated key (409 when the request
    differs), `remember()` keeps the first answer. A request without a key does neither."""

    store: IdempotencyStore
    org: str
    route: str
    key: str | None
    fingerprint: str

    def replay(
        self, now: float, current_status: Callable[[str | None], str]
    ) -> web.Response | None:
        """The stored answer as a response, or None. `current_status(job_id)` names the status
        the 409 of a reused key carries."""
        if self.key is None:
            return None
        stored = self.store.get(self.org, self.route, self.key, now)
        if stored is None:
            return None
        if stored.fingerprint != self.fingerprint:
            job_id = stored.body.get("job", {}).get("id")
            raise Conflict(
                code="idempotency_key_reused",
                message=f"the Idempotency-Key {short(self.key, 40)!r} was used for a different "
                "request on this route; use a new key for a new request",
                current_status=current_status(job_id if isinstance(job_id, str) else None),
            )
        return json_response({**stored.body, "idempotent": True}, status=stored.status)

    def remember(self, now: float, status: int, body: dict[str, Any]) -> None:
        if self.key is None:
            return
        kept = {k: v for k, v in body.items() if k != "webhookSigningSecret"}
        self.store.put(
            self.org,
            self.route,
            self.key,
            fingerprint=self.fingerprint,
            status=status,
            body=kept,
            now=now,
        )
