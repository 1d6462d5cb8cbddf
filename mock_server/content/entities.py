"""The extracted entities as typed values, each with its wire JSON.

`wire(url_prefix)` is the entity as the project reads show it (API.md part A, "Entities"): the
documented camelCase fields, in the documented order; `url_prefix=None` is `compact=true` (the
`artifacts` field is left out). `result_wire(url_prefix)` is the element of a v1 result
(`documents[].sheets`, `.specifications`, `.docs`; `evidence`; `errors`; `warnings`), whose shape
the docs only sketch: the fields they name, plus the ids that tie it to the project reads.

Fields beyond the documented lists are marked "mock" below; each is what a documented filter
selects on, so a client can see why a filter matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

__all__ = [
    "Artifact",
    "ArtifactType",
    "Box",
    "Doc",
    "Entity",
    "EntityKind",
    "Evidence",
    "Facet",
    "FileEntity",
    "FileRef",
    "PageError",
    "Part",
    "Product",
    "Region",
    "Requirement",
    "ResultWarning",
    "Sheet",
    "SpecSection",
    "Specification",
    "Warning",
    "sheet_display_name",
]


class EntityKind(StrEnum):
    """The entity lists a project serves (the list key of each envelope)."""

    FILES = "files"
    SHEETS = "sheets"
    REGIONS = "regions"
    SPECIFICATIONS = "specifications"
    SECTIONS = "sections"
    DOCS = "docs"


class ArtifactType(StrEnum):
    THUMBNAIL = "thumbnail"
    EXTRACTED_JSON = "extracted_json"
    VECTOR_CROP = "vector_crop"


@dataclass(frozen=True, slots=True)
class Artifact:
    """One artifact of an entity: its type and the `path=` value that fetches its bytes."""

    type: ArtifactType
    path: str

    def wire(self, url_prefix: str) -> dict[str, str]:
        return {"type": self.type.value, "url": url_prefix + quote(self.path, safe="/")}


def _with_artifacts(
    body: dict[str, Any], artifacts: tuple[Artifact, ...], url_prefix: str | None
) -> dict[str, Any]:
    if url_prefix is not None:
        body["artifacts"] = [a.wire(url_prefix) for a in artifacts]
    return body


@dataclass(frozen=True, slots=True)
class Box:
    """A box in page coordinates normalized to [0, 1]: left < right, top < bottom."""

    left: float
    top: float
    right: float
    bottom: float

    def __post_init__(self) -> None:
        if not (0 <= self.left < self.right <= 1 and 0 <= self.top < self.bottom <= 1):
            raise ValueError(
                f"box {self.left},{self.top},{self.right},{self.bottom}: need "
                "0 <= left < right <= 1 and 0 <= top < bottom <= 1"
            )

    def wire(self) -> dict[str, float]:
        return {"left": self.left, "top": self.top, "right": self.right, "bottom": self.bottom}


@dataclass(frozen=True, slots=True)
class FileRef:
    """The file an entity was extracted from (shared by all of that file's entities)."""

    file_id: str
    document_id: str
    job_id: str
    file_name: str
    classification: str
    status: str


@dataclass(frozen=True, slots=True)
class FileEntity:
    file: FileRef
    page_count: int
    artifacts: tuple[Artifact, ...]

    @property
    def entity_id(self) -> str:
        return self.file.file_id

    def wire(self, url_prefix: str | None) -> dict[str, Any]:
        f = self.file
        body = {
            "fileId": f.file_id,
            "fileName": f.file_name,
            "classification": f.classification,
            "status": f.status,
            "pageCount": self.page_count,
        }
        return _with_artifacts(body, self.artifacts, url_prefix)


def sheet_display_name(sheet_number: str | None, sheet_name: str) -> str:
    """`A-101`, an en dash, `Level 1 Floor Plan` (as the docs' example joins them)."""
    return f"{sheet_number} \u2013 {sheet_name}" if sheet_number else sheet_name


@dataclass(frozen=True, slots=True)
class Region:
    region_id: str
    sheet_id: str
    file: FileRef
    page_number: int
    sheet_number: str | None
    region_type: str
    layout_type: str
    drawing_type: str  # the sheet's
    discipline: str  # the sheet's
    label: str
    text: str  # "" when the region has no text
    display_box: Box
    title_box: Box | None
    artifacts: tuple[Artifact, ...]

    @property
    def entity_id(self) -> str:
        return self.region_id

    def wire(self, url_prefix: str | None) -> dict[str, Any]:
        body = {
            "regionId": self.region_id,
            "sheetId": self.sheet_id,
            "fileId": self.file.file_id,  # in the docs' example, not their field list
            "fileName": self.file.file_name,  # likewise
            "pageNumber": self.page_number,
            "sheetNumber": self.sheet_number,
            "regionType": self.region_type,  # mock
            "drawingType": self.drawing_type,  # mock
            "layoutType": self.layout_type,  # mock
            "label": self.label,
            "text": self.text,
            "displayBox": self.display_box.wire(),
            "titleBox": None if self.title_box is None else self.title_box.wire(),
        }
        return _with_artifacts(body, self.artifacts, url_prefix)


@dataclass(frozen=True, slots=True)
class Sheet:
    sheet_id: str
    file: FileRef
    page_number: int
    sheet_number: str | None
    sheet_name: str
    discipline: str
    drawing_type: str
    regions: tuple[Region, ...]
    artifacts: tuple[Artifact, ...]

    @property
    def entity_id(self) -> str:
        return self.sheet_id

    @property
    def sheet_display_name(self) -> str:
        return sheet_display_name(self.sheet_number, self.sheet_name)

    def wire(self, url_prefix: str | None) -> dict[str, Any]:
        body = {
            "sheetId": self.sheet_id,
            "fileId": self.file.file_id,
            "fileName": self.file.file_name,
            "pageNumber": self.page_number,
            "sheetNumber": self.sheet_number,
            "sheetName": self.sheet_name,
            "sheetDisplayName": self.sheet_display_name,
        }
        return _with_artifacts(body, self.artifacts, url_prefix)

    def result_wire(self, url_prefix: str) -> dict[str, Any]:
        body = {
            "sheetId": self.sheet_id,
            "sheetNumber": self.sheet_number,
            "sheetName": self.sheet_name,
            "sheetDisplayName": self.sheet_display_name,
            "pageNumber": self.page_number,
            "drawingType": self.drawing_type,
            "discipline": self.discipline,
        }
        return _with_artifacts(body, self.artifacts, url_prefix)


@dataclass(frozen=True, slots=True)
class Requirement:
    """A normalized requirement (submittal, reference, quality, execution, facet requirement)."""

    label: str
    text: str
    page_number: int
    kind: str = ""  # facet requirements only: submittal, quality, execution, ...

    def wire(self) -> dict[str, Any]:
        body: dict[str, Any] = {"label": self.label, "text": self.text}
        if self.kind:
            body["kind"] = self.kind
        body["pageNumber"] = self.page_number
        return body


@dataclass(frozen=True, slots=True)
class Facet:
    facet_id: str
    facet_key: str
    facet_kind: str  # part, article, paragraph
    facet_label: str
    coverage_kind: str  # full | partial (a page of the facet failed)
    text: str  # <= 50,000 characters
    page_start: int
    page_end: int
    requirements: tuple[Requirement, ...] = ()

    def wire(self) -> dict[str, Any]:
        """As a specification's facet (`text`)."""
        return {
            "facetId": self.facet_id,
            "facetKey": self.facet_key,
            "facetKind": self.facet_kind,
            "facetLabel": self.facet_label,
            "coverageKind": self.coverage_kind,
            "text": self.text,
            "pageStart": self.page_start,
            "pageEnd": self.page_end,
        }

    def section_wire(self) -> dict[str, Any]:
        """As a section's facet (`facetText`, `requirements`), as the section detail page names
        them."""
        return {
            "facetId": self.facet_id,
            "facetKey": self.facet_key,
            "facetKind": self.facet_kind,
            "facetLabel": self.facet_label,
            "coverageKind": self.coverage_kind,
            "facetText": self.text,
            "requirements": [r.wire() for r in self.requirements],
            "pageStart": self.page_start,
            "pageEnd": self.page_end,
        }


@dataclass(frozen=True, slots=True)
class Part:
    label: str  # PART 1
    title: str  # GENERAL
    text: str
    page_start: int
    page_end: int

    def wire(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "title": self.title,
            "text": self.text,
            "pageStart": self.page_start,
            "pageEnd": self.page_end,
        }


@dataclass(frozen=True, slots=True)
class Product:
    name: str
    description: str
    requirements: tuple[str, ...]

    def wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "requirements": list(self.requirements),
        }


@dataclass(frozen=True, slots=True)
class Warning:
    code: str
    message: str

    def wire(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class SpecSection:
    """A section of a specification. An outline-only heading (`1.0 GENERAL`) has no body: the
    sections list leaves it out and reading it by id is a 404, as the docs describe."""

    section_id: str
    spec_id: str
    file: FileRef
    section_number: str
    title: str
    page_start: int
    page_end: int
    outline_only: bool
    text: str
    parts: tuple[Part, ...]
    products: tuple[Product, ...]
    submittals: tuple[Requirement, ...]
    references: tuple[Requirement, ...]
    related_sections: tuple[tuple[str, str], ...]  # (sectionNumber, title)
    quality_requirements: tuple[Requirement, ...]
    execution_requirements: tuple[Requirement, ...]
    warnings: tuple[Warning, ...]
    facets: tuple[Facet, ...]
    artifacts: tuple[Artifact, ...]

    @property
    def entity_id(self) -> str:
        return self.section_id

    def wire(self, url_prefix: str | None) -> dict[str, Any]:
        body = {
            "sectionId": self.section_id,
            "specId": self.spec_id,
            "sectionNumber": self.section_number,
            "title": self.title,
            "pageStart": self.page_start,
            "pageEnd": self.page_end,
            "text": self.text,
            "textLength": len(self.text),
            "parts": [p.wire() for p in self.parts],
            "products": [p.wire() for p in self.products],
            "submittals": [r.wire() for r in self.submittals],
            "references": [r.wire() for r in self.references],
            "relatedSections": [
                {"sectionNumber": n, "title": t} for n, t in self.related_sections
            ],
            "qualityRequirements": [r.wire() for r in self.quality_requirements],
            "executionRequirements": [r.wire() for r in self.execution_requirements],
            "warnings": [w.wire() for w in self.warnings],
            "facets": [f.section_wire() for f in self.facets],
        }
        return _with_artifacts(body, self.artifacts, url_prefix)

    def outline_wire(self) -> dict[str, Any]:
        """The section's line in a specification's outline (a result element; mock)."""
        return {
            "sectionId": self.section_id,
            "sectionNumber": self.section_number,
            "title": self.title,
            "pageStart": self.page_start,
            "pageEnd": self.page_end,
            "outlineOnly": self.outline_only,
        }


@dataclass(frozen=True, slots=True)
class Specification:
    """One CSI MasterFormat section of a specification book, as the project's specification
    list shows it; `sections` is its outline (its CSI-like sections, then outline-only
    headings)."""

    specification_id: str
    file: FileRef
    section_number: str
    section_title: str
    page_start: int
    page_end: int
    facets: tuple[Facet, ...]
    sections: tuple[SpecSection, ...]
    artifacts: tuple[Artifact, ...]

    @property
    def entity_id(self) -> str:
        return self.specification_id

    def wire(self, url_prefix: str | None) -> dict[str, Any]:
        body = {
            "specificationId": self.specification_id,
            "fileId": self.file.file_id,
            "fileName": self.file.file_name,
            "sectionNumber": self.section_number,
            "sectionTitle": self.section_title,
            "pageStart": self.page_start,
            "pageEnd": self.page_end,
            "facets": [f.wire() for f in self.facets],
        }
        return _with_artifacts(body, self.artifacts, url_prefix)

    def result_wire(self, url_prefix: str) -> dict[str, Any]:
        body = self.wire(url_prefix)
        body["sections"] = [s.outline_wire() for s in self.sections]  # mock
        return body


@dataclass(frozen=True, slots=True)
class Doc:
    doc_id: str
    file: FileRef
    doc_type: str
    status: str  # complete
    title: str
    page_start: int
    page_end: int
    text: str
    artifacts: tuple[Artifact, ...]

    @property
    def entity_id(self) -> str:
        return self.doc_id

    def wire(self, url_prefix: str | None) -> dict[str, Any]:
        body = {
            "docId": self.doc_id,
            "fileId": self.file.file_id,
            "fileName": self.file.file_name,
            "docType": self.doc_type,
            "status": self.status,
        }
        return _with_artifacts(body, self.artifacts, url_prefix)

    def result_wire(self, url_prefix: str) -> dict[str, Any]:
        body = {
            "docId": self.doc_id,
            "docType": self.doc_type,
            "title": self.title,
            "status": self.status,
            "pageStart": self.page_start,
            "pageEnd": self.page_end,
        }
        return _with_artifacts(body, self.artifacts, url_prefix)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A citable record: the text of one region."""

    evidence_id: str
    region: Region

    def result_wire(self) -> dict[str, Any]:
        r = self.region
        return {
            "id": self.evidence_id,
            "type": "region",
            "regionType": r.region_type,
            "text": r.text,
            "regionId": r.region_id,
            "sheetId": r.sheet_id,
            "documentId": r.file.document_id,
            "fileName": r.file.file_name,
            "pageNumber": r.page_number,
            "sheetNumber": r.sheet_number,
        }


@dataclass(frozen=True, slots=True)
class PageError:
    """A result `errors` entry: a failed page, or a file-level failure (`pageNumber` null)."""

    code: str  # page_failed | upload_failed
    message: str
    document_id: str
    file_name: str
    page_number: int | None

    def result_wire(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "documentId": self.document_id,
            "fileName": self.file_name,
            "pageNumber": self.page_number,
        }


@dataclass(frozen=True, slots=True)
class ResultWarning:
    """A result `warnings` entry (mock): something extracted only in part."""

    code: str  # sheet_number_not_detected | section_incomplete
    message: str
    document_id: str
    file_name: str
    page_number: int | None

    def result_wire(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "documentId": self.document_id,
            "fileName": self.file_name,
            "pageNumber": self.page_number,
        }


Entity = FileEntity | Sheet | Region | Specification | SpecSection | Doc
