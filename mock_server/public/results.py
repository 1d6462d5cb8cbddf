"""The v1 result document (API.md part A, "Results") and `GET /jobs/{jobId}/result`.

The document is built by the content model (`mock_server.content`): one document per file with
its page counts, sheets, specifications, docs, artifacts and evidence from the successful pages,
usage by drawing and document pages with the per-page rates that were charged, and `errors` for
every failed page and every upload the client reported as failed (`failedUploads`). It depends
only on the finished job, so it never changes: `generatedAt` is the job's `completedAt`, and
`job.resultUrl` stays valid until the job's `expiresAt`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web

from statemachine import Job

from ..content import build_result
from ..contract.rules import judge_result
from ..errors import Conflict, json_response
from ..http.auth import Principal, get_job_for, require_unexpired
from ..http.endpoints import Endpoint
from ..state import STATE_KEY
from .models import ResultResponse
from .projects import READ
from .serialize import RESULT_STATUSES

if TYPE_CHECKING:
    from ..state import MockState

__all__ = [
    "ENDPOINTS",
    "get_job_result",
    "require_result",
    "result_document",
]

P = "/api/open/v1"


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


def result_document(state: MockState, job: Job) -> dict[str, Any]:
    """The v1 result of a completed or completed_with_errors job, filled from the content model
    (mock_server.content); artifact URLs point at this server's job artifact route."""
    result_url = state.storage.result_url(job)
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


async def get_job_result(request: web.Request, principal: Principal) -> web.Response:
    """GET /api/open/v1/jobs/{jobId}/result (scope jobs:read)."""
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    require_unexpired(state.engine.now, job, "its result")
    finding = judge_result(job.state)
    if finding is not None:
        state.violations.record(
            "result_not_available",
            at=state.engine.now,
            job_id=job.id,
            api_key=principal.api_key,
            message=f"the result of {job.id} was asked for while it was {job.state}; fetch "
            "GET /jobs/{jobId}/result only once a poll (or a verified webhook) showed completed "
            "or completed_with_errors",
        )
    require_result(job)
    return json_response(result_document(state, job))


ENDPOINTS = [
    Endpoint(
        "GET", P + "/jobs/{jobId}/result", get_job_result, "getJobResult",
        "The v1 result of a completed or completed_with_errors job", 200, ResultResponse,
        scope=READ, errors=(404, 409),
    ),
]  # fmt: skip
