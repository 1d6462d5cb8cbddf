"""Plangrep's list envelope with opaque cursors (API.md part A, "Entity lists").

    {total, limit, cursor, nextCursor, returnedCount, hasMore,
     pageInfo {startCursor, endCursor, hasPreviousPage, hasNextPage}, <items>: [...]}

A cursor is opaque to clients: the position in the list and a digest of what the list is (its
name, its project and its filters), so a cursor from another list, another project or other
filters is refused with 400 `invalid_cursor` instead of silently paging the wrong list. Lists only
grow at their end (entities appear as jobs finish), so a cursor stays valid while the project
changes. `startCursor` points at the page's first item, `endCursor` just after its last one (pass
it as `cursor` to continue); both are null on an empty page. Defined by the mock: the cursor
format and the pageInfo semantics (the docs show the fields, not their encoding).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..errors import BadRequest, field_error
from .endpoints import Param

__all__ = [
    "CURSOR_PARAM",
    "DEFAULT_LIMIT",
    "LIMIT_PARAM",
    "MAX_LIMIT",
    "Page",
    "list_key",
    "paginate",
    "parse_limit",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
_PREFIX = "c1."
T = TypeVar("T")

LIMIT_PARAM = Param(
    "limit",
    f"Page size, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})",
    schema=(("type", "integer"), ("minimum", 1), ("maximum", MAX_LIMIT)),
)
CURSOR_PARAM = Param(
    "cursor",
    "nextCursor (or a pageInfo cursor) of a previous page of the same list; omit for the first",
    schema=(("type", "string"), ("minLength", 1)),
)


def parse_limit(raw: str | None, *, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    """The `limit` query parameter: a whole number from 1 to `maximum` (422 otherwise)."""
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= maximum:
        raise field_error("limit", f"must be a whole number from 1 to {maximum}, got {raw[:40]!r}")
    return int(text)


def _digest(list_key: str) -> str:
    return hashlib.sha256(list_key.encode()).hexdigest()[:16]


def _encode(offset: int, digest: str) -> str:
    raw = f"{offset}:{digest}".encode()
    return _PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(cursor: str, digest: str) -> int:
    def invalid(why: str) -> BadRequest:
        return BadRequest(
            code="invalid_cursor",
            message=f"the cursor {cursor[:60]!r} {why}; pass a nextCursor (or pageInfo cursor) "
            "this same list returned, with the same filters, or omit cursor for the first page",
        )

    if not cursor.startswith(_PREFIX) or len(cursor) > 200:
        raise invalid("is not a cursor of this API")
    body = cursor[len(_PREFIX) :]
    try:
        text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise invalid("is malformed") from None
    offset_text, sep, got = text.partition(":")
    if not sep or not (offset_text.isascii() and offset_text.isdigit()):
        raise invalid("is malformed")
    if got != digest:
        raise invalid("belongs to another list, project or set of filters")
    return int(offset_text)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the envelope fields that describe it."""

    items: Sequence[T]
    total: int
    limit: int
    cursor: str | None
    next_cursor: str | None
    start_cursor: str | None
    end_cursor: str | None
    offset: int

    def envelope(self, name: str, items: Any) -> dict[str, Any]:
        """The documented list body with `items` (already serialized) under `name`."""
        returned = len(self.items)
        has_more = self.next_cursor is not None
        return {
            "total": self.total,
            "limit": self.limit,
            "cursor": self.cursor,
            "nextCursor": self.next_cursor,
            "returnedCount": returned,
            "hasMore": has_more,
            "pageInfo": {
                "startCursor": self.start_cursor,
                "endCursor": self.end_cursor,
                "hasPreviousPage": self.offset > 0,
                "hasNextPage": has_more,
            },
            name: items,
        }


def paginate(
    items: Sequence[T],
    *,
    list_key: str,
    limit: int,
    cursor: str | None,
) -> Page[T]:
    """The page of `items` that `cursor` (None: the first page) and `limit` ask for.

    `list_key` names the list exactly (list name, project, filters): cursors carry its digest.
    """
    digest = _digest(list_key)
    offset = 0 if cursor is None else _decode(cursor, digest)
    total = len(items)
    offset = min(offset, total)
    end = min(offset + limit, total)
    chunk = items[offset:end]
    return Page(
        items=chunk,
        total=total,
        limit=limit,
        cursor=cursor,
        next_cursor=_encode(end, digest) if end < total else None,
        start_cursor=_encode(offset, digest) if chunk else None,
        end_cursor=_encode(end, digest) if chunk else None,
        offset=offset,
    )


def list_key(name: str, scope: str, filters: Mapping[str, object]) -> str:
    """The identity of a filtered list, for `paginate(list_key=...)`."""
    parts = [f"{k}={filters[k]!r}" for k in sorted(filters) if filters[k] is not None]
    return "\n".join([name, scope, *parts])
