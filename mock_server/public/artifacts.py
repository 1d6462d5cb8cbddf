"""Artifacts (API.md part A, "Artifacts"): the bytes behind the artifact URLs the API hands out.

- `GET /jobs/{jobId}/artifact?path=` serves what the job's result lists (documents, sheets,
  specifications, docs); `GET /projects/{projectId}/artifact?path=` what that project's
  entities list (regions and sections too). Scope `artifacts:read`. Any other path is 404
  `artifact_not_found`; another project's paths are unknown here (no cross-project access).
- `GET /artifact-downloads/{token}` takes no key: the token (issued by the control API,
  `POST /_mock/artifact-downloads`) is the credential, for one artifact, single use, 5 virtual
  minutes. GET streams the bytes and consumes the token; HEAD checks it without consuming it.

Documented by Plangrep: the routes, `application/octet-stream` on the GETs, the optional
`Content-Disposition`, HEAD's `Content-Type` (the artifact's media type), `Content-Length` and
`Content-Disposition`, and that a used or expired token is a 4xx. Defined by the mock: the error
codes (404 `download_token_not_found`, 410 `download_token_used`, 410
`download_token_expired`), the bytes (a PNG, the entity as JSON, an SVG) and `X-Artifact-Type`
(the artifact's own media type on every answer, so a client can tell a PNG from JSON).
"""

from __future__ import annotations

from aiohttp import web

from statemachine import Job, Project

from ..content import ArtifactBytes, ArtifactIndex, UnknownArtifactPath
from ..errors import Gone, NotFound, ValidationFailed, short
from ..http.auth import Principal, get_job_for, get_project_for, require_unexpired
from ..http.endpoints import Endpoint, Param
from ..state import STATE_KEY, MockState
from ..storage import DownloadToken
from .results import require_result

__all__ = [
    "ARTIFACTS_READ",
    "DOWNLOADS_PATH",
    "ENDPOINTS",
    "artifact_response",
    "job_artifacts",
    "project_artifacts",
    "resolve",
]

P = "/api/open/v1"
ARTIFACTS_READ = "artifacts:read"
DOWNLOADS_PATH = P + "/artifact-downloads/{token}"
OCTET = "application/octet-stream"
ARTIFACT_TYPE_HEADER = "X-Artifact-Type"

_PATH = Param(
    "path",
    "The path= of an artifact URL this job's result (or this project's entities) handed out",
    schema=(("type", "string"), ("minLength", 1)),
    required=True,
)
_BINARY = {"type": "string", "format": "binary"}
# what HEAD of a download token may show as Content-Type: the artifact's own type
ARTIFACT_MEDIA_TYPES = ("image/png", "application/json", "image/svg+xml")


def _path(request: web.Request) -> str:
    path = request.query.get("path")
    if not path:
        why = "required: the path= of an artifact URL the API handed out (do not build it)"
        raise ValidationFailed(
            message=f"the query parameter path is {why}",
            details=[{"field": "path", "message": why}],
        )
    return path


def job_artifacts(state: MockState, job: Job) -> ArtifactIndex:
    """The artifacts the job's result hands out: 404 `job_expired` from its expiresAt, 409
    `result_not_available` unless it ended completed or completed_with_errors."""
    require_unexpired(state.engine.now, job, "its artifacts")
    require_result(job)
    return state.content.job(state.engine, job).artifacts


def project_artifacts(state: MockState, project: Project) -> ArtifactIndex:
    """The artifacts the project's entities hand out."""
    return state.content.project(state.engine, project).artifacts


def resolve(index: ArtifactIndex, path: str) -> ArtifactBytes:
    """The bytes behind `path`, or 404 `artifact_not_found`."""
    try:
        return index.resolve(path)
    except UnknownArtifactPath as exc:
        raise NotFound(
            code="artifact_not_found",
            message=f"no artifact at path {short(path)!r} in {exc.scope}; use the path= of an "
            f"artifact URL that {exc.scope} handed out (artifact paths are not built by clients "
            "and not shared across projects)",
        ) from None


def artifact_response(art: ArtifactBytes, *, media_type: str = OCTET) -> web.Response:
    """The artifact's bytes as `media_type` (the documented `application/octet-stream`; HEAD of
    a download token shows the artifact's own type, as the docs' HEAD page does)."""
    return web.Response(
        body=art.body,
        headers={
            "Content-Type": media_type,
            "Content-Disposition": f'attachment; filename="{art.filename}"',
            ARTIFACT_TYPE_HEADER: art.content_type,
        },
    )


async def get_job_artifact(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    index = job_artifacts(state, job)
    return artifact_response(resolve(index, _path(request)))


async def get_project_artifact(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    return artifact_response(resolve(project_artifacts(state, project), _path(request)))


# --------------------------------------------------------------------------- download tokens


def _token(state: MockState, token: str) -> DownloadToken:
    issued = state.storage.downloads.get(token)
    if issued is None:
        raise NotFound(
            code="download_token_not_found",
            message=f"no download token {short(token, 40)!r}; use a token exactly as it was "
            "issued (POST /_mock/artifact-downloads issues them)",
        )
    if issued.used_at is not None:
        raise Gone(
            code="download_token_used",
            message="this download token was used already; a token downloads once (HEAD "
            "checks a token without using it); ask for a new one",
        )
    if state.engine.now > issued.expires_at:
        raise Gone(
            code="download_token_expired",
            message="this download token expired; tokens are valid for 5 minutes; ask for a "
            "new one",
        )
    return issued


def _token_bytes(state: MockState, issued: DownloadToken) -> ArtifactBytes:
    """The artifact the token was issued for, as its job or project holds it now."""
    if issued.scope == "job":
        job = state.engine.jobs.get(issued.owner_id)
        if job is None:
            raise NotFound(
                code="job_not_found",
                message=f"the token's job {issued.owner_id} is gone (the mock was reset?)",
            )
        return resolve(job_artifacts(state, job), issued.path)
    project = state.engine.projects.get(issued.owner_id)
    if project is None:
        raise NotFound(
            code="project_not_found",
            message=f"the token's project {issued.owner_id} is gone (the mock was reset?)",
        )
    return resolve(project_artifacts(state, project), issued.path)


async def download(request: web.Request) -> web.Response:
    """GET streams the bytes and consumes the token. No key: an Authorization header is
    ignored."""
    state = request.app[STATE_KEY]
    issued = _token(state, request.match_info["token"])
    art = _token_bytes(state, issued)
    issued.used_at = state.engine.now
    return artifact_response(art)


async def check_download(request: web.Request) -> web.Response:
    """HEAD: the artifact's headers (its own media type, length, filename), token kept."""
    state = request.app[STATE_KEY]
    issued = _token(state, request.match_info["token"])
    art = _token_bytes(state, issued)
    return artifact_response(art, media_type=art.content_type)


ENDPOINTS = [
    Endpoint(
        "GET", P + "/jobs/{jobId}/artifact", get_job_artifact, "getJobArtifact",
        "An artifact of a completed job's result (application/octet-stream)", 200, None,
        scope=ARTIFACTS_READ, errors=(404, 409, 422), query=(_PATH,), ok_schema=_BINARY,
        ok_media_type=OCTET,
    ),
    Endpoint(
        "GET", P + "/projects/{projectId}/artifact", get_project_artifact, "getProjectArtifact",
        "An artifact of the project's entities (application/octet-stream)", 200, None,
        scope=ARTIFACTS_READ, errors=(404, 422), query=(_PATH,), ok_schema=_BINARY,
        ok_media_type=OCTET,
    ),
    Endpoint(
        "GET", DOWNLOADS_PATH, download, "getArtifactDownload",
        "Download one artifact with a single-use token (no key; consumes the token)", 200,
        None, errors=(404, 409, 410, 500, 503), ok_schema=_BINARY, ok_media_type=OCTET,
    ),
    Endpoint(
        "HEAD", DOWNLOADS_PATH, check_download, "headArtifactDownload",
        "Check a download token and see the artifact's headers (the token is not consumed)",
        200, None, errors=(404, 409, 410, 500, 503), ok_schema=_BINARY,
        ok_media_type=ARTIFACT_MEDIA_TYPES,
    ),
]  # fmt: skip
