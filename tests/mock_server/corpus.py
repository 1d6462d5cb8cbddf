"""A project with searchable content for the search tests: four files (plans, specifications,
documents, mixed) processed by one job, and an oracle of what each entity holds, read from the
content package (not from the search index the tests check)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from mock_server.search import doc_uri, region_uri, specification_uri

from .harness import Server

__all__ = ["CLASSIFICATION", "FILES", "Corpus", "Entity", "build_corpus", "words"]

# (fileName, size, classification): sizes give 15, 12, 6 and 8 pages
FILES = [
    ("tower-plans.pdf", 1_500_000, "plans"),
    ("project-manual.pdf", 1_200_000, "specifications"),
    ("submittals.pdf", 600_000, "documents"),
    ("bid-set-mixed.pdf", 800_000, "mixed"),
]
CLASSIFICATION = {name: cls for name, _, cls in FILES}
# The ids' leading characters are the virtual time they were made at, and the content follows
# from the ids: a corpus's servers start at this fixed time, so its words are the same every
# run (from the wall clock, a CI run once drew a corpus with too few region-only words).
CORPUS_ORIGIN = 1_730_538_000.0  # 2024-11-02T09:00:00.000Z, the docs' example time
_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


@dataclass
class Entity:
    """One searchable entity as the content package made it."""

    uri: str
    type: str
    searchable: str  # every indexed text of it, joined
    text: str
    fields: dict[str, Any]
    facets: dict[str, str] = field(default_factory=dict)  # facet id -> text


@dataclass
class Corpus:
    project_id: str
    job_id: str
    entities: dict[str, Entity]

    def by_type(self, kind: str) -> list[Entity]:
        return [e for e in self.entities.values() if e.type == kind]

    def unique_region_words(self, min_len: int = 5) -> dict[str, str]:
        """word -> the uri of the one region holding it, for words in no other entity."""
        owners: dict[str, set[str]] = defaultdict(set)
        for e in self.entities.values():
            for w in words(e.searchable):
                owners[w].add(e.uri)
        return {
            w: next(iter(uris))
            for w, uris in sorted(owners.items())
            if len(uris) == 1
            and len(w) >= min_len
            and self.entities[next(iter(uris))].type == "region"
        }


def build_corpus(server: Server, *, name: str = "Harbor Tower", key: str = "pgk_test_a") -> Corpus:
    """A ready project whose one job processed FILES and completed; the clock is then moved past
    the index's readiness delay."""
    pid = server.ready_project(key=key, name=name)
    job_id: str = server.new_job(pid, key=key)["job"]["id"]
    files = [(n, b"%PDF-1.4 " + b"x" * (size - 9), cls) for n, size, cls in FILES]
    assert server.upload(job_id, key=key, files=files).status_code == 200
    assert server.complete(job_id, key=key).status_code == 202
    server.advance(3600)
    assert server.job(job_id)["job"]["status"] == "completed"

    def read() -> dict[str, Entity]:
        state = server.state
        pc = state.content.project(state.engine, state.engine.projects[pid])
        out: dict[str, Entity] = {}
        for sheet in pc.sheets:
            for r in sheet.regions:
                uri = region_uri(pid, r.region_id)
                out[uri] = Entity(
                    uri,
                    "region",
                    " ".join([r.label, r.text, r.sheet_number or ""]),
                    r.text,
                    {
                        "regionType": r.region_type,
                        "layoutType": r.layout_type,
                        "drawingType": r.drawing_type,
                        "sheetNumber": r.sheet_number,
                        "fileName": r.file.file_name,
                        "pages": (r.page_number, r.page_number),
                    },
                )
        for s in pc.sections:
            uri = specification_uri(pid, s.section_number, s.section_id)
            facets = {f.facet_id: f.text for f in s.facets}
            labels = " ".join(f.facet_label for f in s.facets)
            out[uri] = Entity(
                uri,
                "specification",
                " ".join([s.section_number, s.title, s.text, labels, *facets.values()]),
                s.text,
                {"fileName": s.file.file_name, "pages": (s.page_start, s.page_end)},
                facets,
            )
        for d in pc.docs:
            uri = doc_uri(pid, d.doc_id)
            out[uri] = Entity(
                uri,
                "doc",
                " ".join([d.title, d.text, d.doc_type]),
                d.text,
                {"fileName": d.file.file_name, "pages": (d.page_start, d.page_end)},
            )
        return out

    return Corpus(pid, job_id, server.call(read))
