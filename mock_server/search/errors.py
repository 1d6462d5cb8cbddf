"""Errors raised by the search package (each carries the API error code the HTTP layer answers).

SearchError
 +-- SearchValidationError  a request field out of its documented range    422 validation_error
 +-- InvalidCursor          a source-text cursor this index did not issue  400 invalid_cursor
 +-- SourceNotFound         a sourceCatalogUri the project does not hold   404 source_not_found
 +-- IndexNotReady          a job wrote to the project moments ago         409 index_not_ready
 +-- SearchUnavailable      this Python's sqlite3 was built without FTS5   (a setup error, no code)
"""

from __future__ import annotations

__all__ = [
    "IndexNotReady",
    "InvalidCursor",
    "SearchError",
    "SearchUnavailable",
    "SearchValidationError",
    "SourceNotFound",
]


def _short(text: str, limit: int = 80) -> str:
    """A value fit for an error message (clients may send megabytes)."""
    return text if len(text) <= limit else text[:limit] + "..."


class SearchError(Exception):
    """Base of every error this package raises; `code` is the API error code."""

    code = "search_error"


class SearchValidationError(SearchError):
    """A field outside its documented range; `field` uses the wire name (e.g. `maxHits`)."""

    code = "validation_error"

    def __init__(self, *, field: str, message: str) -> None:
        self.field = field
        self.detail = message
        super().__init__(f"{field}: {message}")


class InvalidCursor(SearchError):
    code = "invalid_cursor"

    def __init__(self, *, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"cursor is not valid here: {reason}; pass a nextCursor from a response for the same "
            "sourceCatalogUri, textKind and facetId, or omit cursor to start at the beginning"
        )


class SourceNotFound(SearchError):
    code = "source_not_found"

    def __init__(self, *, uri: str) -> None:
        self.uri = uri
        super().__init__(
            f"no source {_short(uri)!r} in this project; use a sourceCatalogUri from a "
            "source-search hit of the same project"
        )


class IndexNotReady(SearchError):
    """The project's index is still being built; `retry_after` is whole seconds (>= 1)."""

    code = "index_not_ready"

    def __init__(self, *, retry_after: int, ready_at: float) -> None:
        self.retry_after = retry_after
        self.ready_at = ready_at
        super().__init__(
            f"the project's search index is being built after a job wrote to it; "
            f"retry in {retry_after} s"
        )


class SearchUnavailable(SearchError):
    """sqlite3 lacks FTS5: the mock's search cannot run on this Python build."""

    def __init__(self, *, sqlite_version: str, reason: str) -> None:
        self.sqlite_version = sqlite_version
        super().__init__(
            f"source search needs SQLite's FTS5 extension, which this Python's sqlite3 "
            f"(SQLite {sqlite_version}) lacks ({reason}); use a Python whose SQLite is built "
            "with FTS5 (python.org and most distribution builds are)"
        )
