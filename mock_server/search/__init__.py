"""Source search, source text and project search on SQLite FTS5 (pure: no aiohttp, no HTTP).

The HTTP layer holds one `SearchIndexes`, feeds it `SearchSource`s when a job writes entities,
and answers source-search, source-text and project search from it. Errors carry the API error
code they map to (`SearchError.code`). See docs/search.md.
"""

from __future__ import annotations

from .errors import (
    IndexNotReady,
    InvalidCursor,
    SearchError,
    SearchUnavailable,
    SearchValidationError,
    SourceNotFound,
)
from .index import (
    DEFAULT_MAX_HITS,
    MAX_HITS,
    SearchFilters,
    SearchHit,
    SearchResult,
    SourceIndex,
    check_fts5,
    parse_entity_types,
)
from .projects import MatchReason, ProjectCatalog, ProjectMatch, ProjectProfile, ProjectSearch
from .query import ParsedQuery, QueryTerm, parse_query
from .readiness import DEFAULT_INDEX_DELAY, IndexReadiness
from .registry import SearchIndexes
from .sources import (
    CLASSIFICATIONS,
    SearchSource,
    SourceFacet,
    SourceType,
    TextKind,
    doc_uri,
    region_uri,
    specification_uri,
)
from .text import DEFAULT_MAX_CHARS, MAX_CHARS, SourceText

__all__ = [
    "CLASSIFICATIONS",
    "DEFAULT_INDEX_DELAY",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_MAX_HITS",
    "MAX_CHARS",
    "MAX_HITS",
    "IndexNotReady",
    "IndexReadiness",
    "InvalidCursor",
    "MatchReason",
    "ParsedQuery",
    "ProjectCatalog",
    "ProjectMatch",
    "ProjectProfile",
    "ProjectSearch",
    "QueryTerm",
    "SearchError",
    "SearchFilters",
    "SearchHit",
    "SearchIndexes",
    "SearchResult",
    "SearchSource",
    "SearchUnavailable",
    "SearchValidationError",
    "SourceFacet",
    "SourceIndex",
    "SourceNotFound",
    "SourceText",
    "SourceType",
    "TextKind",
    "check_fts5",
    "doc_uri",
    "parse_entity_types",
    "parse_query",
    "region_uri",
    "specification_uri",
]
