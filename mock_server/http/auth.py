"""Bearer keys, scopes and tenancy (API.md part A "Basics", part B "Accounts, scopes, pages").

401 for a missing, malformed, unknown or revoked key; 403 `insufficient_scope` for a key
without the scope; another organisation's project or job is 404, exactly as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from statemachine import format_time
from statemachine.engine import Job, Project

from ..errors import Forbidden, NotFound, Unauthorized, short
from ..state import STATE_KEY

__all__ = [
    "JOB_GRACE_SECONDS",
    "JOB_ID_KEY",
    "PRINCIPAL_KEY",
    "PROJECT_ID_KEY",
    "Principal",
    "authenticate",
    "bearer_token",
    "get_job_for",
    "get_project_for",
    "job_expired",
    "require_unexpired",
]

_AUTH_HINT = "send Authorization: Bearer <API key>"
# After expiresAt a job stays readable this long (virtual seconds), so a poller sees `expired`
# (API.md part B, "Expiry"); its result, resultUrl and artifacts are gone at expiresAt.
JOB_GRACE_SECONDS = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the organisation, the key it used and the key's scopes."""

    org: str
    api_key: str
    scopes: frozenset[str]


PRINCIPAL_KEY: web.RequestKey[Principal] = web.RequestKey("plangrep_mock_principal", Principal)
JOB_ID_KEY: web.RequestKey[str] = web.RequestKey("plangrep_mock_job_id", str)
PROJECT_ID_KEY: web.RequestKey[str] = web.RequestKey("plangrep_mock_project_id", str)


def bearer_token(request: web.Request) -> str:
    """The bearer token of the request, or a 401 saying what is wrong with the header."""
    header = request.headers.get("Authorization")
    if header is None:
        raise _unauthorized(f"the Authorization header is missing; {_AUTH_HINT}")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise _unauthorized(
            f"the Authorization scheme is {short(scheme, 20)!r}; only Bearer is accepted "
            f"({_AUTH_HINT})"
        )
    token = token.strip()
    if not token:
        raise _unauthorized(f"the bearer token is empty; {_AUTH_HINT}")
    return token


def authenticate(request: web.Request, scope: str) -> Principal:
    """The caller, if its key is valid and has `scope`; else 401 or 403."""
    token = bearer_token(request)
    state = request.app[STATE_KEY]
    resolved = state.keys.resolve(token)
    if resolved is None:
        if state.keys.is_revoked(token):
            raise _unauthorized("this API key has been revoked; use a valid key")
        raise _unauthorized(
            "this API key is not valid; the mock was started with --api-key and accepts only "
            "the keys configured there"
        )
    if scope not in resolved.scopes:
        granted = sorted(resolved.scopes)
        raise Forbidden(
            code="insufficient_scope",
            message=f"this API key lacks the scope {scope}; its scopes are: "
            f"{', '.join(granted) or 'none'}",
            fields={"requiredScope": scope, "grantedScopes": granted},
        )
    principal = Principal(resolved.org, resolved.key, resolved.scopes)
    request[PRINCIPAL_KEY] = principal
    return principal


def get_project_for(request: web.Request, principal: Principal, project_id: str) -> Project:
    request[PROJECT_ID_KEY] = project_id
    project = request.app[STATE_KEY].engine.projects.get(project_id)
    if project is None or project.org != principal.org:
        raise _not_found("project", project_id, "list yours with GET /projects")
    return project


def get_job_for(request: web.Request, principal: Principal, job_id: str) -> Job:
    """The caller's job; 404 `job_not_found` for an unknown or another organisation's job, 404
    `job_expired` from 24 virtual hours after its expiresAt (one comparison: the poll path)."""
    request[JOB_ID_KEY] = job_id
    engine = request.app[STATE_KEY].engine
    job = engine.jobs.get(job_id)
    if job is None or job.org != principal.org:
        raise _not_found(
            "job", job_id, "list a project's jobs with GET /projects/{projectId}/jobs"
        )
    if engine.now >= job.expires_at + JOB_GRACE_SECONDS:
        raise job_expired(job, "the job itself")
    return job


def job_expired(job: Job, what: str) -> NotFound:
    """404 `job_expired`: `what` (the result, an artifact, ...) is gone since expiresAt."""
    return NotFound(
        code="job_expired",
        message=f"job {job.id} expired at {format_time(job.expires_at)}; {what} is no longer "
        "accessible (a job and its result are kept until expiresAt, the job's status for 24 "
        "hours more); run a new job for a fresh result",
        fields={"expiresAt": format_time(job.expires_at)},
    )


def require_unexpired(now: float, job: Job, what: str) -> None:
    """404 `job_expired` from the job's expiresAt on (the result, resultUrl, artifacts)."""
    if now >= job.expires_at:
        raise job_expired(job, what)


def _not_found(kind: str, object_id: str, hint: str) -> NotFound:
    """The 404 for an object that does not exist or belongs to another organisation (the two
    look the same, so a key cannot probe other organisations' ids)."""
    return NotFound(
        code=f"{kind}_not_found",
        message=f"no {kind} {short(object_id)} in this organisation; {hint}",
    )


def _unauthorized(message: str) -> Unauthorized:
    return Unauthorized(message=message)
