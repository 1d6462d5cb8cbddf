"""What the content of one document is generated from: the facts a finished job records.

`facts_from_job` is the one place that reads them from the engine. The page plan (which pages
belong to which file, which are drawings, which failed) comes from `Engine.page_breakdown` and
the job's per-page kinds; nothing here re-derives it.
"""

from __future__ import annotations

from dataclasses import dataclass

from statemachine import Engine, Job

__all__ = [
    "PAGE_FAILED",
    "PAGE_OK",
    "PAGE_UNPROCESSED",
    "DocumentFacts",
    "facts_from_job",
    "resolved_classification",
]

# one byte per page in DocumentFacts.outcomes
PAGE_FAILED = 0
PAGE_OK = 1
PAGE_UNPROCESSED = 2  # never seen in a completed job's files; kept so facts stay total


def resolved_classification(classification: str | None) -> str:
    """The classification a result reports: omitted at upload means auto, and the mock's
    auto-classification counts document pages (`documents`)."""
    return classification or "documents"


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """One uploaded file of a finished job, page by page."""

    job_id: str
    project_id: str
    document_id: str
    file_id: str
    file_name: str
    classification: str  # resolved: plans, specifications, documents, addenda, mixed, other
    content_type: str
    size: int
    status: str  # the file's status: completed, failed, skipped, ...
    error: tuple[str, str] | None = None  # (code, message) of a file-level error
    kinds: bytes = b""  # per page: 1 drawing, 0 document
    outcomes: bytes = b""  # per page: PAGE_OK, PAGE_FAILED or PAGE_UNPROCESSED

    def __post_init__(self) -> None:
        if len(self.kinds) != len(self.outcomes):
            raise ValueError(
                f"{self.file_name}: {len(self.kinds)} page kinds but {len(self.outcomes)} "
                "page outcomes; both have one byte per page"
            )

    @property
    def pages(self) -> int:
        return len(self.kinds)

    @property
    def drawing_pages(self) -> int:
        return self.kinds.count(1)

    def is_drawing(self, page: int) -> bool:
        """Whether 1-based `page` is a drawing page."""
        return self.kinds[page - 1] == 1

    def succeeded(self, page: int) -> bool:
        return self.outcomes[page - 1] == PAGE_OK

    @property
    def successful_pages(self) -> int:
        return self.outcomes.count(PAGE_OK)

    @property
    def successful_drawing_pages(self) -> int:
        return sum(1 for k, o in zip(self.kinds, self.outcomes, strict=True) if k and o == PAGE_OK)

    @property
    def failed_page_numbers(self) -> tuple[int, ...]:
        return tuple(i + 1 for i, o in enumerate(self.outcomes) if o == PAGE_FAILED)


def facts_from_job(engine: Engine, job: Job) -> tuple[DocumentFacts, ...]:
    """Each file's facts, in upload order, as `Engine.page_breakdown` reports them."""
    kinds_all = job.page_drawing or bytearray()
    facts = []
    for f, fp in zip(job.files, engine.page_breakdown(job), strict=True):
        kinds = bytes(kinds_all[f.first_page : f.first_page + fp.pages]) if fp.pages else b""
        processed = fp.successful_pages + fp.failed_pages  # processing goes in page order
        outcomes = bytearray([PAGE_OK]) * processed
        outcomes += bytearray([PAGE_UNPROCESSED]) * (fp.pages - processed)
        for number in fp.failed_page_numbers:
            outcomes[number - 1] = PAGE_FAILED
        doc = DocumentFacts(
            job_id=job.id,
            project_id=job.project_id,
            document_id=f.document_id,
            file_id=f.id,
            file_name=f.file_name,
            classification=resolved_classification(f.classification),
            content_type=f.content_type,
            size=f.size,
            status=f.status,
            error=f.error,
            kinds=kinds,
            outcomes=bytes(outcomes),
        )
        # the engine's own counts, as a guard against reading its plan differently
        if doc.drawing_pages != fp.drawing_pages or (
            doc.successful_drawing_pages != fp.successful_drawing_pages
        ):
            raise AssertionError(
                f"{f.file_name}: page kinds disagree with Engine.page_breakdown "
                f"({doc.drawing_pages}/{fp.drawing_pages} drawing pages)"
            )
        facts.append(doc)
    return tuple(facts)
