"""The v1 result document (API.md part A, "Results") and `GET /jobs/{jobId}/result`.

The mock extracts nothing, so `evidence`, `warnings`, each document's `artifacts` and `sheets` are
empty arrays; `specifications` is `[]` for specifications and mixed documents and `docs` is `[]`
for documents, addenda and mixed ones (null otherwise, as Plangrep documents them). What the mock
does know is exact: one document per file with its page counts, usage by drawing and document pages
with the per-page rates that were charged, and `errors` for every failed page and every upload the
client reported as failed (`failedUploads`).

The document depends only on the finished job, so it never changes: `generatedAt` is the job's
`completedAt`, and `job.resultUrl` stays valid until the job's `expiresAt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from statemachine import Engine, Job, JobFile, format_time

from ..errors import Conflict, json_response
from ..http.auth import Principal, get_job_for
from ..http.endpoints import Endpoint
from ..state import STATE_KEY
from .models import ResultResponse
from .projects import READ
from .serialize import RESULT_STATUSES

if TYPE_CHECKING:
    from ..state import MockState

__all__ = [
    "ENDPOINTS",
    "PageBreakdown",
    "get_job_result",
    "page_breakdown",
    "require_result",
    "result_document",
]

P = "/api/open/v1"
_SPEC_CLASSES = frozenset({"specifications", "mixed"})
_DOC_CLASSES = frozenset({"documents", "addenda", "mixed"})


# --------------------------------------------------------------------------- page plan


@dataclass(frozen=True, slots=True)
class PageBreakdown:
    """One file's pages as processing left them."""

    pages: int
    drawing_pages: int
    successful_drawing: int
    successful_document: int
    failed: int  # processed pages that failed
    failed_page_numbers: tuple[int, ...]  # 1-based within the file

    @property
    def successful(self) -> int:
        return self.successful_drawing + self.successful_document


def page_breakdown(engine: Engine, job: Job) -> dict[str, PageBreakdown]:
    """Per file id: pages, drawing pages, successful drawing/document pages and failed pages, as
    the engine processed them (`Engine.page_breakdown` owns the page plan)."""
    return {
        f.id: PageBreakdown(
            fp.pages,
            fp.drawing_pages,
            fp.successful_drawing_pages,
            fp.successful_document_pages,
            fp.failed_pages,
            fp.failed_page_numbers,
        )
        for f, fp in zip(job.files, engine.page_breakdown(job), strict=True)
    }


def require_result(job: Job) -> None:
    """409 `result_not_available` unless the job ended completed or completed_with_errors."""
    if job.state not in RESULT_STATUSES:
        raise Conflict(
            code="result_not_available",
            message=f"job {job.id} is {job.state}; a result exists only for completed and "
            "completed_with_errors jobs"
            + ("" if job.terminal else "; poll GET /jobs/{jobId} until the job is terminal"),
            current_status=job.state,
        )


def _classification(f: JobFile) -> str:
    # omitted at upload means auto; the mock's auto-classification counts document pages
    return f.classification or "documents"


def _document(f: JobFile, pages: PageBreakdown) -> dict[str, Any]:
    classification = _classification(f)
    error = None
    if f.error is not None:
        error = {"code": f.error[0], "message": f.error[1]}
    elif f.status == "failed" and pages.pages:
        error = {
            "code": "processing_failed",
            "message": f"all {pages.pages} pages of {f.file_name} failed to process",
        }
    return {
        "documentId": f.document_id,
        "fileName": f.file_name,
        "classification": classification,
        "contentType": f.content_type,
        "fileSize": f.size,
        "status": f.status,
        "pageCount": pages.pages,
        "successfulPageCount": pages.successful,
        "failedPageCount": pages.failed,
        "error": error,
        "artifacts": [],
        "sheets": [],
        "specifications": [] if classification in _SPEC_CLASSES else None,
        "docs": [] if classification in _DOC_CLASSES else None,
    }


def _errors(job: Job, breakdown: dict[str, PageBreakdown]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    for f in job.files:
        if f.error is not None and f.error[0] == "upload_failed":
            errors.append(
                {
                    "code": "upload_failed",
                    "message": f.error[1],
                    "documentId": f.document_id,
                    "fileName": f.file_name,
                    "pageNumber": None,
                }
            )
        for number in breakdown[f.id].failed_page_numbers:
            errors.append(
                {
                    "code": "page_failed",
                    "message": f"page {number} of {f.file_name} could not be processed",
                    "documentId": f.document_id,
                    "fileName": f.file_name,
                    "pageNumber": number,
                }
            )
    return errors


def result_document(state: MockState, job: Job) -> dict[str, Any]:
    """The v1 result of a completed or completed_with_errors job."""
    engine = state.engine
    breakdown = page_breakdown(engine, job)
    drawing_rate, document_rate = engine.credit_rates(job)
    drawing_pages = sum(b.drawing_pages for b in breakdown.values())
    ok_drawing = sum(b.successful_drawing for b in breakdown.values())
    ok_document = sum(b.successful_document for b in breakdown.values())
    prog = engine.progress(job)
    result_url = state.storage.result_url(job)
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
            "successfulDocumentPageCount": ok_document,
            "drawingCreditsPerPage": drawing_rate,
            "documentCreditsPerPage": document_rate,
            "creditsDebited": prog.credits_debited,
        },
        "documents": [_document(f, breakdown[f.id]) for f in job.files],
        "evidence": [],
        "warnings": [],
        "errors": _errors(job, breakdown),
        "generatedAt": format_time(completed_at),
    }


async def get_job_result(request: web.Request, principal: Principal) -> web.Response:
    """GET /api/open/v1/jobs/{jobId}/result (scope jobs:read)."""
    job = get_job_for(request, principal, request.match_info["jobId"])
    require_result(job)
    return json_response(result_document(request.app[STATE_KEY], job))


ENDPOINTS = [
    Endpoint(
        "GET", P + "/jobs/{jobId}/result", get_job_result, "getJobResult",
        "The v1 result of a completed or completed_with_errors job", 200, ResultResponse,
        scope=READ, errors=(404, 409),
    ),
]  # fmt: skip
