"""A project's entities: what its finished jobs extracted, in a stable order.

Order: jobs in completion order (ties in creation order), each job's documents in upload order,
each document's entities in page order. Lists are built once per set of finished jobs (the store
caches a `ProjectContent` until another job of the project finishes) and each entity's JSON is
encoded once per URL prefix, so serving a page of a 10,000-sheet list costs the page, not the
list. The HTTP layer keeps whole response bodies here too (`keep_body`): they cannot change
while this object lives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from .artifacts import ArtifactIndex
from .entities import (
    Doc,
    Entity,
    EntityKind,
    FileEntity,
    Region,
    Sheet,
    Specification,
    SpecSection,
)
from .generate import DocumentContent
from .query import EntityQuery

__all__ = ["ProjectContent"]

_WORD = re.compile(r"[A-Za-z0-9]+")
_KEY_FILES = 5
_KEPT_BODY_BYTES = 16 * 1024 * 1024  # response bodies kept per project content, at most


class ProjectContent:
    """The entities of one project's finished jobs (see the module's docstring for the order)."""

    def __init__(
        self, project_id: str, project_name: str, documents: Iterable[DocumentContent]
    ) -> None:
        self.project_id = project_id
        self.project_name = project_name
        docs = tuple(documents)
        self.documents = docs
        self.files: tuple[FileEntity, ...] = tuple(d.file for d in docs)
        self.sheets: tuple[Sheet, ...] = tuple(s for d in docs for s in d.sheets)
        self.regions: tuple[Region, ...] = tuple(r for d in docs for r in d.regions)
        self.specifications: tuple[Specification, ...] = tuple(
            s for d in docs for s in d.specifications
        )
        self.sections: tuple[SpecSection, ...] = tuple(
            s for spec in self.specifications for s in spec.sections if not s.outline_only
        )
        self.docs: tuple[Doc, ...] = tuple(d for doc in docs for d in doc.docs)
        self._lists: dict[EntityKind, tuple[Entity, ...]] = {
            EntityKind.FILES: self.files,
            EntityKind.SHEETS: self.sheets,
            EntityKind.REGIONS: self.regions,
            EntityKind.SPECIFICATIONS: self.specifications,
            EntityKind.SECTIONS: self.sections,
            EntityKind.DOCS: self.docs,
        }
        self._by_id: dict[EntityKind, dict[str, Entity]] = {
            kind: {e.entity_id: e for e in items} for kind, items in self._lists.items()
        }
        self._file_refs = [f.file for f in self.files]
        self._sheet_file = {s.sheet_id: s.file.file_id for s in self.sheets}
        self._regions_of: dict[str, tuple[Region, ...]] = {
            s.sheet_id: s.regions for s in self.sheets
        }
        self._sections_of: dict[str, tuple[SpecSection, ...]] = {
            spec.specification_id: tuple(s for s in spec.sections if not s.outline_only)
            for spec in self.specifications
        }
        self._outline: dict[str, SpecSection] = {
            s.section_id: s for spec in self.specifications for s in spec.sections
        }
        self._encoded: dict[tuple[str, str | None], bytes] = {}
        self._bodies: dict[Hashable, bytes] = {}
        self._body_bytes = 0
        self._artifacts: ArtifactIndex | None = None

    # ------------------------------------------------------------------ reads

    def list(self, kind: EntityKind) -> tuple[Entity, ...]:
        """Every entity of `kind`, in the stable order."""
        return self._lists[kind]

    def get(self, kind: EntityKind, entity_id: str) -> Entity | None:
        """One entity by id; None when the project has no such entity. For sections this finds
        only CSI-like sections: an outline-only heading is None (a 404, as the docs say)."""
        return self._by_id[kind].get(entity_id)

    def regions_of(self, sheet_id: str) -> tuple[Region, ...] | None:
        """A sheet's regions; None when the project has no such sheet."""
        return self._regions_of.get(sheet_id)

    def sections_of(self, spec_id: str) -> tuple[SpecSection, ...] | None:
        """A specification's CSI-like sections (outline-only headings left out); None when the
        project has no such specification."""
        return self._sections_of.get(spec_id)

    def section(self, spec_id: str, section_id: str) -> SpecSection | None:
        """`specifications/{specId}/sections/{sectionId}`: None for an unknown id, a section of
        another specification, or an outline-only heading."""
        s = self._outline.get(section_id)
        if s is None or s.spec_id != spec_id or s.outline_only:
            return None
        return s

    def is_outline_only(self, section_id: str) -> bool:
        """Whether `section_id` is an outline-only heading (for a 404 message that says so)."""
        s = self._outline.get(section_id)
        return s is not None and s.outline_only

    def select(
        self,
        kind: EntityKind,
        query: EntityQuery,
        items: Sequence[Entity] | None = None,
    ) -> Sequence[Entity]:
        """The entities of `kind` (or `items`, e.g. one sheet's regions) that pass `query`'s
        applicable filters, in the stable order. Without filters, the stored list itself."""
        base: Sequence[Entity] = self._lists[kind] if items is None else items
        test = query.predicate(kind, self._files_of_sheets, self._file_refs)
        if test is None:
            return base
        return [e for e in base if test(e)]

    def matches(self, kind: EntityKind, entity: Entity, query: EntityQuery) -> bool:
        """Whether one entity passes the filters (the single-entity reads take them too: "returns
        the sheet only if ...")."""
        test = query.predicate(kind, self._files_of_sheets, self._file_refs)
        return test is None or test(entity)

    def _files_of_sheets(self, sheet_ids: frozenset[str]) -> frozenset[str]:
        return frozenset(self._sheet_file[s] for s in sheet_ids if s in self._sheet_file)

    # ------------------------------------------------------------------ JSON

    def encode(self, entity: Entity, url_prefix: str | None) -> bytes:
        """The entity's wire JSON as bytes (compact when `url_prefix` is None), encoded once per
        prefix and kept."""
        key = (entity.entity_id, url_prefix)
        data = self._encoded.get(key)
        if data is None:
            data = self._encoded[key] = json.dumps(
                entity.wire(url_prefix), separators=(",", ":")
            ).encode()
        return data

    def encode_list(self, entities: Iterable[Entity], url_prefix: str | None) -> bytes:
        """A JSON array of the entities, from their kept encodings."""
        return b"[" + b",".join(self.encode(e, url_prefix) for e in entities) + b"]"

    def kept_body(self, key: Hashable) -> bytes | None:
        """A response body kept under `key` by `keep_body` (the entities never change, so a
        page asked for again is answered from here)."""
        return self._bodies.get(key)

    def keep_body(self, key: Hashable, body: bytes) -> None:
        """Keep a response body for reuse; all are dropped when they pass 16 MB together."""
        if self._body_bytes + len(body) > _KEPT_BODY_BYTES:
            self._bodies.clear()
            self._body_bytes = 0
        self._bodies[key] = body
        self._body_bytes += len(body)

    # ------------------------------------------------------------------ artifacts

    @property
    def artifacts(self) -> ArtifactIndex:
        """The artifacts this project's entities hand out (no other project's)."""
        if self._artifacts is None:
            self._artifacts = ArtifactIndex(
                f"project {self.project_id}", self.documents, project_reads=True
            )
        return self._artifacts

    # ------------------------------------------------------------------ summary

    def summary(self) -> dict[str, Any]:
        """`projectSummary` of `GET /projects/{projectId}/summary`. The docs show projectId,
        projectName, aliases, titleCandidates, keyFiles, detectedDisciplines and "counts";
        the counts' names and how the lists are chosen are defined by the mock."""
        name = self.project_name
        words = _WORD.findall(name)
        acronym = "".join(w[0] for w in words if len(w) > 2 or w.isdigit()).upper()
        aliases = [acronym] if len(acronym) >= 2 and acronym != name else []
        titles = [f"{name} \u2014 Construction Documents"]
        if self.specifications:
            titles.append(f"{name} \u2014 Project Manual")
        if self.sheets:
            first = next((s for s in self.sheets if s.sheet_number), None)
            if first is not None:
                titles.append(f"{name} \u2014 {first.sheet_number} {first.sheet_name}")
        weight = {
            d.file.entity_id: len(d.sheets) + len(d.specifications) + len(d.docs)
            for d in self.documents
        }
        ranked = sorted(
            (f for f in self.files if weight[f.entity_id]),
            key=lambda f: -weight[f.entity_id],
        )[:_KEY_FILES]
        disciplines = list(dict.fromkeys(s.discipline for s in self.sheets))
        return {
            "projectId": self.project_id,
            "projectName": name,
            "aliases": aliases,
            "titleCandidates": titles,
            "keyFiles": [
                {
                    "id": f.file.file_id,
                    "fileName": f.file.file_name,
                    "classification": f.file.classification,
                }
                for f in ranked
            ],
            "detectedDisciplines": disciplines,
            "fileCount": len(self.files),
            "sheetCount": len(self.sheets),
            "regionCount": len(self.regions),
            "specificationCount": len(self.specifications),
            "sectionCount": len(self.sections),
            "docCount": len(self.docs),
        }
