"""Each project's search index, fed from its content: the search part of `MockState`.

When a job ends completed or completed_with_errors it has written its entities to its project.
`job_finished` notes that write (the index is ready `index_ready_delay` virtual seconds later, a
setting of the job's scenario) and remembers the job: nothing else, so transitions, polls and
`simulate` pay nothing for search. The first source search, source text or project search that
needs the project indexes the jobs noted since, as `SearchSource`s (their content is generated
then, unless a read asked for it before). Readiness still runs from the job's completion time.

How content becomes sources (defined by the mock):

- a region: title its label, text its text, keywords its sheet number; filters by its region
  type, layout type, drawing type (its sheet's), sheet number, file name, classification and
  page; `page_regions` is every region of its sheet, in order.
- a specification section (each CSI-like section of a specification; outline-only headings are
  not sources): type `specification`, title "number title", keywords the section number, its
  parts as facets, its pages; `markdown` marks the section, part and article lines as headings.
- a doc: title its title, keywords its doc type, its pages.

A project's own fields for project search (its name, aliases and title candidates, and one line
per sheet) are refreshed whenever its indexed jobs change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from statemachine import Engine, Job, Project

from .content import ContentStore, DocumentContent, Region, Sheet, Specification, SpecSection
from .content.entities import Doc
from .content.store import RESULT_STATUSES
from .search import (
    ProjectProfile,
    SearchIndexes,
    SearchSource,
    SourceFacet,
    SourceType,
    doc_uri,
    region_uri,
    specification_uri,
)

__all__ = ["SearchFeed", "document_sources"]

_ARTICLE = re.compile(r"^\d+\.\d+\s+\S")


class SearchFeed:
    """The server's `SearchIndexes`, fed lazily from the content of finished jobs."""

    def __init__(self, content: ContentStore) -> None:
        self.content = content
        self.indexes = SearchIndexes()
        self._pending: dict[str, list[str]] = {}  # project id -> finished jobs not indexed yet
        self._indexed: dict[str, int] = {}  # project id -> jobs indexed so far
        self._profiled: dict[str, int] = {}  # project id -> jobs indexed at its last profile

    def job_finished(self, job: Job, at: float) -> None:
        """A job wrote its entities at virtual time `at` (a transition subscriber calls this:
        it stays a dict update)."""
        self.indexes.note_write(job.project_id, now=at, delay=job.scenario.index_ready_delay)
        self._pending.setdefault(job.project_id, []).append(job.id)

    def pending(self, project_id: str) -> int:
        """Finished jobs of the project whose entities are not indexed yet."""
        return len(self._pending.get(project_id, ()))

    def ensure(self, engine: Engine, project: Project) -> SearchIndexes:
        """Index what the project's finished jobs wrote since the last call, refresh its own
        fields for project search, and return the indexes."""
        pid = project.id
        job_ids = self._pending.pop(pid, None)
        if job_ids:
            for job_id in job_ids:
                job = engine.jobs.get(job_id)
                if job is None or job.state not in RESULT_STATUSES:
                    continue
                documents = self.content.job(engine, job).documents
                self.indexes.add(pid, [s for d in documents for s in document_sources(pid, d)])
                self._indexed[pid] = self._indexed.get(pid, 0) + 1
        indexed = self._indexed.get(pid, 0)
        if self._profiled.get(pid) != indexed:
            self.indexes.profile(_profile(engine, self.content, project))
            self._profiled[pid] = indexed
        return self.indexes

    def clear(self) -> None:
        """Forget every index (the server was reset)."""
        self.indexes.clear()
        self._pending.clear()
        self._indexed.clear()
        self._profiled.clear()


def _profile(engine: Engine, content: ContentStore, project: Project) -> ProjectProfile:
    pc = content.project(engine, project)
    summary = pc.summary()
    return ProjectProfile(
        project.id,
        project.name,
        aliases=tuple(summary["aliases"]) + tuple(summary["titleCandidates"]),
        sheets=tuple(s.sheet_display_name for s in pc.sheets),
    )


# ---------------------------------------------------------------- content -> sources


def document_sources(project_id: str, document: DocumentContent) -> Iterator[SearchSource]:
    """The search sources of one document's entities, in page order by kind."""
    for sheet in document.sheets:
        # one string shared by the sheet's regions (a region's page_regions is its whole page)
        page_regions = "\n\n".join(_region_block(r) for r in sheet.regions)
        for region in sheet.regions:
            yield _region_source(project_id, sheet, region, page_regions)
    for spec in document.specifications:
        for section in spec.sections:
            if not section.outline_only:
                yield _section_source(project_id, spec, section)
    for doc in document.docs:
        yield _doc_source(project_id, doc)


def _region_block(region: Region) -> str:
    head = f"[{region.region_type}] {region.label}"
    return f"{head}\n{region.text}" if region.text else head


def _region_source(project_id: str, sheet: Sheet, r: Region, page_regions: str) -> SearchSource:
    f = r.file
    return SearchSource(
        uri=region_uri(project_id, r.region_id),
        type=SourceType.REGION,
        title=r.label,
        text=r.text,
        source={
            "regionId": r.region_id,
            "sheetId": r.sheet_id,
            "sheetNumber": r.sheet_number,
            "sheetName": sheet.sheet_name,
            "pageNumber": r.page_number,
            "regionType": r.region_type,
            "layoutType": r.layout_type,
            "drawingType": r.drawing_type,
            "label": r.label,
            "fileId": f.file_id,
            "fileName": f.file_name,
        },
        keywords=(r.sheet_number,) if r.sheet_number else (),
        region_type=r.region_type,
        layout_type=r.layout_type,
        drawing_type=r.drawing_type,
        sheet_number=r.sheet_number,
        file_name=f.file_name,
        classification=f.classification,
        page_start=r.page_number,
        markdown=f"# {sheet.sheet_display_name}\n\n## {r.label}\n\n{r.text}".rstrip() + "\n",
        page_regions=page_regions,
    )


def _section_markdown(section: SpecSection) -> str:
    """The section's text with its section, part and article lines as headings."""
    out: list[str] = []

    def heading(text: str) -> None:
        if out and out[-1]:
            out.append("")
        out.extend([text, ""])

    for line in section.text.splitlines():
        stripped = line.strip()
        if stripped.startswith("SECTION ") and not out:
            heading(f"# {stripped}")
        elif stripped.startswith("PART "):
            heading(f"## {stripped}")
        elif _ARTICLE.match(stripped):
            heading(f"### {stripped}")
        elif stripped or (out and out[-1]):  # one blank line between blocks at most
            out.append(line)
    if not out or not out[0].startswith("# "):
        out[:0] = [f"# {section.section_number} {section.title}", ""]
    return "\n".join(out).rstrip() + "\n"


def _pages(parts: Sequence[tuple[int, int, str]]) -> str:
    return "\n\n".join(
        f"[page {a}]\n{text}" if a == b else f"[pages {a}-{b}]\n{text}" for a, b, text in parts
    )


def _section_source(project_id: str, spec: Specification, s: SpecSection) -> SearchSource:
    f = s.file
    return SearchSource(
        uri=specification_uri(project_id, s.section_number, s.section_id),
        type=SourceType.SPECIFICATION,
        title=f"{s.section_number} {s.title}",
        text=s.text,
        source={
            "specificationId": spec.specification_id,
            "sectionId": s.section_id,
            "sectionNumber": s.section_number,
            "sectionTitle": s.title,
            "pageStart": s.page_start,
            "pageEnd": s.page_end,
            "fileId": f.file_id,
            "fileName": f.file_name,
        },
        keywords=(s.section_number,),
        facets=tuple(
            SourceFacet(
                facet.facet_id,
                facet.facet_label,
                facet.text,
                extra={
                    "facetKey": facet.facet_key,
                    "facetKind": facet.facet_kind,
                    "coverageKind": facet.coverage_kind,
                    "pageStart": facet.page_start,
                    "pageEnd": facet.page_end,
                },
            )
            for facet in s.facets
        ),
        file_name=f.file_name,
        classification=f.classification,
        page_start=s.page_start,
        page_end=s.page_end,
        markdown=_section_markdown(s),
        page_regions=_pages([(p.page_start, p.page_end, p.text) for p in s.parts]),
    )


def _doc_source(project_id: str, d: Doc) -> SearchSource:
    f = d.file
    return SearchSource(
        uri=doc_uri(project_id, d.doc_id),
        type=SourceType.DOC,
        title=d.title,
        text=d.text,
        source={
            "docId": d.doc_id,
            "docType": d.doc_type,
            "title": d.title,
            "status": d.status,
            "pageStart": d.page_start,
            "pageEnd": d.page_end,
            "fileId": f.file_id,
            "fileName": f.file_name,
        },
        keywords=(d.doc_type,),
        file_name=f.file_name,
        classification=f.classification,
        page_start=d.page_start,
        page_end=d.page_end,
        page_regions=_pages([(d.page_start, d.page_end, d.text)]),
    )
