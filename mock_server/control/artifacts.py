"""Artifact download tokens: `POST /_mock/artifact-downloads` issues one for an artifact of a
job's result or of a project's entities (Plangrep does not document how its tokens are issued).
The token is single use and valid for 5 virtual minutes; `GET|HEAD
/api/open/v1/artifact-downloads/{token}` (public/artifacts.py) spends and checks it."""

from __future__ import annotations

from aiohttp import web

from statemachine import format_time

from ..errors import NotFound, json_response, short
from ..http.body import read_json
from ..http.endpoints import Endpoint
from ..public.artifacts import DOWNLOADS_PATH, job_artifacts, project_artifacts, resolve
from ..state import STATE_KEY
from .models import ArtifactDownloadRequest, ArtifactDownloadResponse
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS"]


async def issue_download(request: web.Request) -> web.Response:
    """201 with the token; 404 for an unknown job, project or path (`artifact_not_found`), 404
    `job_expired`, 409 `result_not_available` for a job without a result."""
    state = request.app[STATE_KEY]
    body = await read_json(request, ArtifactDownloadRequest)
    now = state.engine.now
    if body.jobId is not None:
        job = state.engine.jobs.get(body.jobId)
        if job is None:
            raise NotFound(code="job_not_found", message=f"no job {short(body.jobId)}")
        resolve(job_artifacts(state, job), body.path)
        issued = state.storage.downloads.issue("job", job.id, body.path, now)
    else:
        assert body.projectId is not None  # the model requires one of the two
        project = state.engine.projects.get(body.projectId)
        if project is None:
            raise NotFound(code="project_not_found", message=f"no project {short(body.projectId)}")
        resolve(project_artifacts(state, project), body.path)
        issued = state.storage.downloads.issue("project", project.id, body.path, now)
    url = (state.storage.origin or "") + DOWNLOADS_PATH.replace("{token}", issued.token)
    return json_response(
        {"token": issued.token, "url": url, "expiresAt": format_time(issued.expires_at)},
        status=201,
    )


ENDPOINTS = [
    Endpoint(
        "POST", CONTROL_PREFIX + "/artifact-downloads", issue_download,
        "mockIssueArtifactDownload",
        "Issue a single-use download token (5 virtual minutes) for an artifact of a job's "
        "result or a project's entities", 201, ArtifactDownloadResponse, tag="control",
        errors=(404, 409), body=ArtifactDownloadRequest, body_kind="json", body_required=True,
    ),
]  # fmt: skip
