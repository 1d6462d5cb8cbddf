"""Bearer keys, sessions, scopes and tenancy (API.md part A "Basics" and "Workspace API keys",
part B "Accounts, scopes, pages").

401 for a missing, malformed, unknown, revoked or expired key; 403 `insufficient_scope` for a
key without the scope; another organisation's project or job is 404, exactly as if it did not
exist. The workspace key routes take the app's session cookie instead (`authenticate_session`):
401 without one, or with a bearer key instead.
"""

from __future__ import annotations

from aiohttp import web

from statemachine import format_time
from statemachine.engine import Job, Project

from ..errors import ApiError, Forbidden, NotFound, Unauthorized, short
from ..keys import SESSION_COOKIE, KeyRefused, ResolvedKey, Session, session_value
from ..state import STATE_KEY

__all__ = [
    "JOB_GRACE_SECONDS",
    "JOB_ID_KEY",
    "PRINCIPAL_KEY",
    "PROJECT_ID_KEY",
    "Principal",
    "authenticate",
    "authenticate_session",
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


# Who is calling: the organisation, the key it used and the key's scopes (the key registry's
# resolved key, built once per key)
Principal = ResolvedKey


PRINCIPAL_KEY: web.RequestKey[Principal] = web.RequestKey("plangrep_mock_principal", Principal)
JOB_ID_KEY: web.RequestKey[str] = web.RequestKey("plangrep_mock_job_id", str)
PROJECT_ID_KEY: web.RequestKey[str] = web.RequestKey("plangrep_mock_project_id", str)


# Authorization header -> its bearer token: every poll sends the same header, and parsing it is
# a good part of what the mock adds to aiohttp per poll (bounded: any token is a key by default)
_TOKENS: dict[str, str] = {}
_TOKENS_MAX = 10_000


def bearer_token_or_none(request: web.Request) -> str | None:
    """The request's bearer token, or None when its Authorization header has none (the rules
    follow keys as sent, before authentication judges them)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    token = _TOKENS.get(header)
    if token is None:
        scheme, _, rest = header.strip().partition(" ")
        rest = rest.strip()
        if scheme.lower() != "bearer" or not rest:
            return None
        token = rest
        if len(_TOKENS) < _TOKENS_MAX:
            _TOKENS[header] = token
    return token


def bearer_token(request: web.Request) -> str:
    """The bearer token of the request, or a 401 saying what is wrong with the header."""
    token = bearer_token_or_none(request)
    if token is not None:
        return token
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
    """The caller, if its key is valid and has `scope`; else 401 or 403. A valid key's use is
    recorded (`lastUsedAt`, `lastUsedIp`)."""
    token = bearer_token(request)
    state = request.app[STATE_KEY]
    try:
        resolved = state.keys.use(token, now=state.engine.now, caller=request)
    except KeyRefused as refused:
        raise _refused(refused, configured=not state.keys.open) from None
    if scope not in resolved.scopes:
        granted = sorted(resolved.scopes)
        raise Forbidden(
            code="insufficient_scope",
            message=f"this API key lacks the scope {scope}; its scopes are: "
            f"{', '.join(granted) or 'none'}",
            fields={"requiredScope": scope, "grantedScopes": granted},
        )
    request[PRINCIPAL_KEY] = resolved
    return resolved


def _refused(refused: KeyRefused, *, configured: bool) -> Unauthorized:
    at = "" if refused.at is None else format_time(refused.at)
    if refused.reason == "revoked":
        return _unauthorized(f"this API key was revoked at {at}; create a new key")
    if refused.reason == "expired":
        return _unauthorized(f"this API key expired at {at} (its expiresAt); create a new key")
    if configured:
        return _unauthorized(
            "this API key is not valid; the mock was started with --api-key and accepts only "
            "the keys configured there and keys created through POST /api/open-api/keys"
        )
    return _unauthorized("this API key is not valid; send a non-empty key")


def authenticate_session(request: web.Request) -> Session:
    """The signed-in session of a workspace key route (`Cookie: plangrep_session=...`); 401
    without a session cookie, with a bearer key instead, or with a session the server does not
    know when it refuses unknown sessions."""
    value = session_value(request.headers.get("Cookie"))
    if value is None:
        if "Authorization" in request.headers:
            raise _session_unauthorized(
                "the workspace key routes take the app's session cookie, not a bearer API key; "
                f"send Cookie: {SESSION_COOKIE}=<session>"
            )
        raise _session_unauthorized(
            f"no session: send Cookie: {SESSION_COOKIE}=<session> (the control API names "
            "sessions with PUT /_mock/sessions/{cookieValue})"
        )
    session = request.app[STATE_KEY].sessions.resolve(value)
    if session is None:
        raise _session_unauthorized(
            f"the session {short(value, 40)!r} is not signed in; name it with "
            "PUT /_mock/sessions/{cookieValue} (this server refuses unknown sessions)"
        )
    return session


def _session_unauthorized(message: str) -> ApiError:
    return ApiError(
        status=401,
        code="unauthorized",
        message=message,
        headers={"WWW-Authenticate": f'Cookie realm="plangrep", cookie-name="{SESSION_COOKIE}"'},
    )


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
