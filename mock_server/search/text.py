"""Bounded source text: one page of a text and an opaque cursor to the next.

A *character* is a Unicode code point (a Python `str` element), so a page never splits one;
clients counting UTF-16 units (JavaScript's `length`) see astral characters such as emoji as
two. Pages are consecutive slices: concatenating every page's text from the first request to
the one whose `nextCursor` is null gives the whole text exactly, whatever `maxChars` each
request used.

A cursor is base64url of `<offset>:<digest>`, where the digest covers the URI, the text kind,
the facet and the text itself; a cursor from another source, kind or facet, or from a source
a later job replaced, is refused (400 `invalid_cursor`) instead of paging the wrong text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from .errors import InvalidCursor, SearchValidationError

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MAX_CHARS",
    "SourceText",
    "decode_cursor",
    "encode_cursor",
    "page",
    "text_digest",
]

MAX_CHARS = 50_000  # documented
DEFAULT_MAX_CHARS = 10_000  # the docs say "the system default" without a number
_MAX_CURSOR_CHARS = 200


def text_digest(uri: str, kind: str, facet_id: str | None, text: str) -> str:
    h = hashlib.blake2b(digest_size=9)
    for part in (uri, kind, facet_id or ""):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    h.update(text.encode("utf-8", "surrogatepass"))
    return base64.urlsafe_b64encode(h.digest()).decode("ascii")


def encode_cursor(offset: int, digest: str) -> str:
    raw = f"{offset}:{digest}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, *, digest: str, length: int) -> int:
    """The offset a cursor points at; InvalidCursor unless this very text issued it."""
    if not cursor or len(cursor) > _MAX_CURSOR_CHARS or not cursor.isascii():
        raise InvalidCursor(reason="it is not a cursor this API issued")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise InvalidCursor(reason="it is not a cursor this API issued") from None
    offset_text, sep, got = raw.partition(":")
    if not sep or not offset_text.isdigit() or len(offset_text) > 12:
        raise InvalidCursor(reason="it is not a cursor this API issued")
    if got != digest:
        raise InvalidCursor(
            reason="it belongs to another source, textKind or facetId, or the source changed"
        )
    offset = int(offset_text)
    if not 0 < offset < length:
        raise InvalidCursor(reason=f"offset {offset} is outside the text ({length} characters)")
    return offset


@dataclass(frozen=True, slots=True)
class SourceText:
    """One page of a source's text; `next_cursor` is None on the last page."""

    uri: str
    text_kind: str
    facet_id: str | None
    text: str
    offset: int
    total_chars: int
    cursor: str | None
    next_cursor: str | None
    source: dict[str, Any]

    def to_wire(self) -> dict[str, Any]:
        """The response fields the docs name, plus the mock's paging details."""
        return {
            "sourceCatalogUri": self.uri,
            "source": self.source,
            "textKind": self.text_kind,
            "facetId": self.facet_id,
            "text": self.text,
            "cursor": self.cursor,
            "nextCursor": self.next_cursor,
            "offset": self.offset,
            "returnedChars": len(self.text),
            "totalChars": self.total_chars,
            "truncated": self.next_cursor is not None,
        }


def page(
    text: str, *, digest: str, max_chars: int, cursor: str | None
) -> tuple[str, int, str | None]:
    """(page text, its offset, next cursor) of `text` from `cursor`."""
    if isinstance(max_chars, bool) or not isinstance(max_chars, int):
        raise SearchValidationError(field="maxChars", message="must be an integer")
    if not 1 <= max_chars <= MAX_CHARS:
        raise SearchValidationError(
            field="maxChars", message=f"must be between 1 and {MAX_CHARS:,}; got {max_chars}"
        )
    offset = 0 if cursor is None else decode_cursor(cursor, digest=digest, length=len(text))
    end = offset + max_chars
    nxt = encode_cursor(end, digest) if end < len(text) else None
    return text[offset:end], offset, nxt
