"""What the index holds: one `SearchSource` per searchable entity, independent of how the
entities are modelled elsewhere (the content package converts its regions, specifications and
docs into these).

A source is searched as one or more *chunks*: the entity itself (title, text, keywords) and one
chunk per facet (facet label and facet text). A hit names the chunk's source and, for a facet
chunk, the facet.

`sourceCatalogUri` values are opaque to clients. The docs' only example is
`pgcat://proj_abc123/spec/07210/...`; the mock follows that shape (see `region_uri`,
`specification_uri`, `doc_uri`), but the index treats a URI as any string unique in a project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from .errors import SearchValidationError
from .normalize import match_form

__all__ = [
    "CLASSIFICATIONS",
    "SearchSource",
    "SourceFacet",
    "SourceType",
    "TextKind",
    "doc_uri",
    "region_uri",
    "specification_uri",
]

# file classifications the docs list for the classification filter
CLASSIFICATIONS: frozenset[str] = frozenset(
    {"plans", "specifications", "documents", "addenda", "mixed", "other"}
)


class SourceType(StrEnum):
    """The entity types source search covers (the docs' `entityTypes` values)."""

    REGION = "region"
    SPECIFICATION = "specification"
    DOC = "doc"


class TextKind(StrEnum):
    """The documented `textKind` values of source-text."""

    TEXT = "text"
    MARKDOWN = "markdown"
    PAGE_REGIONS = "page_regions"
    FACET_SOURCE_TEXT = "facet_source_text"
    FACET_MATCH_TEXT = "facet_match_text"

    @property
    def needs_facet(self) -> bool:
        return self in (TextKind.FACET_SOURCE_TEXT, TextKind.FACET_MATCH_TEXT)


def _part(value: str) -> str:
    return quote(value, safe="")


def region_uri(project_id: str, region_id: str) -> str:
    return f"pgcat://{_part(project_id)}/region/{_part(region_id)}"


def specification_uri(project_id: str, section_number: str | None, specification_id: str) -> str:
    """`pgcat://{projectId}/spec/{section number, digits only}/{specificationId}`, as the docs'
    example (`pgcat://proj_abc123/spec/07210/...`); `-` when there is no section number."""
    digits = "".join(ch for ch in section_number or "" if ch.isascii() and ch.isalnum())
    return f"pgcat://{_part(project_id)}/spec/{digits or '-'}/{_part(specification_id)}"


def doc_uri(project_id: str, doc_id: str) -> str:
    return f"pgcat://{_part(project_id)}/doc/{_part(doc_id)}"


@dataclass(frozen=True, slots=True)
class SourceFacet:
    """A facet of a specification (a part such as products or execution), searched on its own.

    `match_text` is the facet_match_text; None derives it from `source_text` (NFKC, case-folded,
    whitespace collapsed). `extra` goes into a facet hit's `source` beside `facetId` and
    `facetLabel` (e.g. `{"facetKey": "part_2_products", "facetKind": "part"}`).
    """

    facet_id: str
    label: str
    source_text: str
    match_text: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def text_for(self, kind: TextKind) -> str:
        if kind is TextKind.FACET_MATCH_TEXT:
            return match_form(self.source_text) if self.match_text is None else self.match_text
        return self.source_text


@dataclass(frozen=True, slots=True)
class SearchSource:
    """One searchable entity of a project.

    Searched: `title` (a region's label, a section's number and title, a doc's name), `text`
    (its body), `keywords` (sheet number, section number, doc type, ...: short strings matched
    as words, and also with their separators removed, so `A101` finds `A-101`) and each facet.
    Filtered: the `*_type` fields, `sheet_number`, `file_name`, `classification` and the pages
    `page_start`..`page_end` (a region's page is both). A filter on a field the source lacks
    (None) excludes it. Shown: `source`, the hit's `source` object (its `type` is added).
    Read back by source-text: `text`, `markdown` (None: derived from title and text),
    `page_regions` and the facets' texts.
    """

    uri: str
    type: SourceType
    title: str
    text: str
    source: Mapping[str, Any] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()
    facets: tuple[SourceFacet, ...] = ()
    region_type: str | None = None
    layout_type: str | None = None
    drawing_type: str | None = None
    sheet_number: str | None = None
    file_name: str | None = None
    classification: str | None = None
    page_start: int | None = None
    page_end: int | None = None
    markdown: str | None = None
    page_regions: str = ""

    def __post_init__(self) -> None:
        if not self.uri:
            raise SearchValidationError(field="uri", message="a source needs a non-empty uri")
        try:
            object.__setattr__(self, "type", SourceType(self.type))
        except ValueError:
            allowed = ", ".join(t.value for t in SourceType)
            raise SearchValidationError(
                field="type", message=f"{self.type!r} is not a source type; use one of {allowed}"
            ) from None
        ids = [f.facet_id for f in self.facets]
        if len(set(ids)) != len(ids):
            raise SearchValidationError(
                field="facets", message=f"facet ids repeat in {self.uri}: {sorted(ids)}"
            )
        if self.page_end is not None and self.page_start is None:
            raise SearchValidationError(field="page_end", message="page_end needs page_start")
        start, end = self.page_start, self.page_end
        if start is not None and end is not None and end < start:
            raise SearchValidationError(
                field="page_end",
                message=f"page_end {self.page_end} is before page_start {self.page_start}",
            )

    @property
    def last_page(self) -> int | None:
        return self.page_start if self.page_end is None else self.page_end

    def facet(self, facet_id: str) -> SourceFacet | None:
        for f in self.facets:
            if f.facet_id == facet_id:
                return f
        return None

    def text_for(self, kind: TextKind, facet: SourceFacet | None = None) -> str:
        """The whole text of a kind ("" when the source has none of it)."""
        if kind.needs_facet:
            assert facet is not None, "facet kinds need a facet"
            return facet.text_for(kind)
        if kind is TextKind.MARKDOWN:
            if self.markdown is not None:
                return self.markdown
            return f"# {self.title}\n\n{self.text}" if self.title else self.text
        if kind is TextKind.PAGE_REGIONS:
            return self.page_regions
        return self.text

    def hit_source(self, facet: SourceFacet | None = None) -> dict[str, Any]:
        """The `source` object of a hit on this source (or on one of its facets)."""
        out: dict[str, Any] = {"type": self.type.value}
        out.update(self.source)
        out["type"] = self.type.value
        if facet is not None:
            out["facetId"] = facet.facet_id
            out["facetLabel"] = facet.label
            out.update(facet.extra)
        return out
