"""The v1 result document (API.md part A, "Results") and `GET /jobs/{jobId}/result`.

The content (each document's `sheets`, `specifications`, `docs` and `artifacts`; `evidence`;
`warnings`) is the synthetic content of `mock_server.content`, deterministic from the server seed
and the documents; `specifications` is null unless the document is classified specifications or
mixed and `docs` null unless documents, addenda or mixed, as Plangrep documents them. Page counts,
usage by drawing and document pages with the per-page rates that were charged, and `errors` for
every failed page and every upload the client reported as failed (`failedUploads`) are exact.

The document depends only on the finished job, so it never changes: `generatedAt` is the job's
`completedAt`, and `job.resultUrl` stays valid until the job's `expiresAt`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from aiohttp import web
from pydantic import BaseModel, Field

from statemachine.engine import Engine, Job

from .auth import authenticate, get_job_for
from .content import build_result
from .errors import conflict, json_response
from .state import STATE_KEY, MockState

__all__ = [
    "RESULT_STATUSES",
    "PageBreakdown",
    "ResultDocument",
    "ResultError",
    "ResultJob",
    "ResultResponse",
    "ResultUsage",
    "get_job_result",
    "page_breakdown",
    "require_result",
    "result_document",
]

RESULT_STATUSES = frozenset({"completed", "completed_with_errors"})


# --------------------------------------------------------------------------- models (OpenAPI)


class ResultJobError(BaseModel):
    code: str
    message: str


class ResultJob(BaseModel):
    id: str
    status: Literal["completed", "completed_with_errors"]
    externalId: str | None
    createdAt: str
    completedAt: str
    expiresAt: str
    resultUrl: str | None
    error: ResultJobError | None


class ResultUsage(BaseModel):
    pageCount: int
    successfulPageCount: int
    drawingPageCount: int
    documentPageCount: int
    successfulDrawingPageCount: int
    successfulDocumentPageCount: int
    drawingCreditsPerPage: int
    documentCreditsPerPage: int
    creditsDebited: int


class ResultDocument(BaseModel):
    documentId: str
    fileName: str
    classification: str
    contentType: str
    fileSize: int
    status: str
    pageCount: int
    successfulPageCount: int
    failedPageCount: int
    error: ResultJobError | None
    artifacts: list[Any]
    sheets: list[Any]
    specifications: list[Any] | None = Field(description="[] for specifications and mixed")
    docs: list[Any] | None = Field(description="[] for documents, addenda and mixed")


class ResultError(BaseModel):
    code: str = Field(description="page_failed or upload_failed")
    message: str
    documentId: str
    fileName: str
    pageNumber: int | None = Field(description="1-based within the document; null for a file")


class ResultResponse(BaseModel):
    schemaVersion: Literal["v1"]
    job: ResultJob
    usage: ResultUsage
    documents: list[ResultDocument]
    evidence: list[Any]
    warnings: list[Any]
    errors: list[ResultError]
    generatedAt: str


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
        raise conflict(
            "result_not_available",
            f"job {job.id} is {job.state}; a result exists only for completed and "
            "completed_with_errors jobs"
            + ("" if job.terminal else "; poll GET /jobs/{jobId} until the job is terminal"),
            job.state,
        )


def result_document(state: MockState, job: Job) -> dict[str, Any]:
    """The v1 result of a completed or completed_with_errors job, filled from the content model
    (mock_server.content); artifact URLs point at this server's job artifact route."""
    result_url = state.result_url(state, job) if state.result_url is not None else None
    origin = ""
    if result_url:
        parts = urlsplit(result_url)
        origin = f"{parts.scheme}://{parts.netloc}"
    return build_result(
        state.engine,
        job,
        state.content.job(state.engine, job),
        result_url=result_url,
        artifact_url_prefix=f"{origin}/api/open/v1/jobs/{job.id}/artifact?path=",
    )


async def get_job_result(request: web.Request) -> web.Response:
    """GET /api/open/v1/jobs/{jobId}/result (scope jobs:read)."""
    principal = authenticate(request, "jobs:read")
    job = get_job_for(request, principal, request.match_info["jobId"])
    require_result(job)
    return json_response(result_document(request.app[STATE_KEY], job))
