"""The v1 result document (API.md part A, "Results"), filled from the content model.

Usage figures come from the engine; each document's page counts and entities, `evidence`,
`warnings` and `errors` from its content. The result depends only on the finished job, so it
never changes: `generatedAt` is the job's `completedAt`.
"""

from __future__ import annotations

from typing import Any

from statemachine import Engine, Job, format_time

from .generate import DocumentContent
from .store import JobContent

__all__ = ["build_result"]

# the docs: specifications "present when classification is specifications or mixed", docs
# "present when classification is documents, addenda, or mixed"; null otherwise
_SPEC_CLASSES = frozenset({"specifications", "mixed"})
_DOC_CLASSES = frozenset({"documents", "addenda", "mixed"})


def _document(doc: DocumentContent, url_prefix: str) -> dict[str, Any]:
    f = doc.facts
    failed = len(f.failed_page_numbers)
    error = None
    if f.error is not None:
        error = {"code": f.error[0], "message": f.error[1]}
    elif f.status == "failed" and f.pages:
        error = {
            "code": "processing_failed",
            "message": f"all {f.pages} pages of {f.file_name} failed to process",
        }
    return {
        "documentId": f.document_id,
        "fileName": f.file_name,
        "classification": f.classification,
        "contentType": f.content_type,
        "fileSize": f.size,
        "status": f.status,
        "pageCount": f.pages,
        "successfulPageCount": f.successful_pages,
        "failedPageCount": failed,
        "error": error,
        "artifacts": [a.wire(url_prefix) for a in doc.artifacts],
        "sheets": [s.result_wire(url_prefix) for s in doc.sheets],
        "specifications": [s.result_wire(url_prefix) for s in doc.specifications]
        if f.classification in _SPEC_CLASSES
        else None,
        "docs": [d.result_wire(url_prefix) for d in doc.docs]
        if f.classification in _DOC_CLASSES
        else None,
    }


def build_result(
    engine: Engine,
    job: Job,
    content: JobContent,
    *,
    result_url: str | None,
    artifact_url_prefix: str,
) -> dict[str, Any]:
    """The v1 result of a completed or completed_with_errors job. `artifact_url_prefix` is put
    before each artifact path (e.g. `https://host/api/open/v1/jobs/{jobId}/artifact?path=`)."""
    docs = content.documents
    drawing_rate, document_rate = engine.credit_rates(job)
    drawing_pages = sum(d.facts.drawing_pages for d in docs)
    ok_drawing = sum(d.facts.successful_drawing_pages for d in docs)
    ok_all = sum(d.facts.successful_pages for d in docs)
    prog = engine.progress(job)
    error = None if job.error is None else {"code": job.error[0], "message": job.error[1]}
    completed_at = job.completed_at if job.completed_at is not None else job.updated_at
    return {
        "schemaVersion": "v1",
        "job": {
            "id": job.id,
            "status": job.state,
            "externalId": job.external_id,
            "createdAt": format_time(job.created_at),
            "completedAt": format_time(completed_at),
            "expiresAt": format_time(job.expires_at),
            "resultUrl": result_url,
            "error": error,
        },
        "usage": {
            "pageCount": job.page_count,
            "successfulPageCount": prog.successful_pages,
            "drawingPageCount": drawing_pages,
            "documentPageCount": job.page_count - drawing_pages,
            "successfulDrawingPageCount": ok_drawing,
            "successfulDocumentPageCount": ok_all - ok_drawing,
            "drawingCreditsPerPage": drawing_rate,
            "documentCreditsPerPage": document_rate,
            "creditsDebited": prog.credits_debited,
        },
        "documents": [_document(d, artifact_url_prefix) for d in docs],
        "evidence": [e.result_wire() for d in docs for e in d.evidence],
        "warnings": [w.result_wire() for d in docs for w in d.warnings],
        "errors": [e.result_wire() for d in docs for e in d.errors],
        "generatedAt": format_time(completed_at),
    }
