"""The one middleware every request passes, and how an exception becomes a JSON answer.

Per request: bring the engine up to the clock, apply an API fault the test asked for (public
routes only), run the handler, turn any error into JSON, judge the one rule about every call
(`retry_after_ignored`: a call sent again before the Retry-After its answer asked for), and
journal public requests. It runs on every poll, so it stays small.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from statemachine import CommandRejected, InvalidTransition, UnknownScenario

from ..contract.rules import (
    RetryAfters,
    call_key,
    create_fingerprint,
    is_poll,
    judge_retry_after,
)
from ..errors import (
    ERROR_CODE_KEY,
    ApiError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
    command_error,
    invalid_transition,
    short,
)
from ..faults import LOST_RESPONSE, ApiCall, FaultHit
from ..journal import JournalEntry
from ..state import STATE_KEY, MockState
from .auth import JOB_ID_KEY, PRINCIPAL_KEY, PROJECT_ID_KEY, bearer_token_or_none
from .endpoints import OPERATIONS_KEY

__all__ = ["PUBLIC_PREFIX", "core_middleware", "error_response"]

PUBLIC_PREFIX = "/api/open/v1"
log = logging.getLogger("mock_server")
# one journal entry per public request: `tuple.__new__` skips the named tuple's keyword checks
_new_entry = tuple.__new__
_RETRY_STATUSES = (429, 503)


@web.middleware
async def core_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    state.in_flight += 1  # serve's shutdown waits for the requests being handled
    try:
        state.engine.sync_if_behind()
        if state.storage.origin is None:  # signed URLs point at the origin clients reach us on
            state.storage.origin = f"{request.scheme}://{request.host}"
        path = request.path
        if not path.startswith(PUBLIC_PREFIX):
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(request, exc)
        started = time.perf_counter()
        arrival = state.engine.now
        token = bearer_token_or_none(request)
        asked = state.polls.asked_retry(token) if token is not None else None
        if asked is not None and token is not None:
            finding = judge_retry_after(asked, request.method, path, arrival)
            if finding is not None:
                _record_retry_after(state, token, request, finding.facts)
        # the common case is no fault at all: one attribute read
        fault = (
            state.faults.take_api_fault(path, _operation(request))
            if state.faults.registered
            else None
        )
        if fault is None:
            try:
                response = await handler(request)
            except Exception as exc:
                response = error_response(request, exc)
        else:

            async def proceed() -> web.StreamResponse:
                state.engine.sync_if_behind()
                try:
                    return await handler(request)
                except Exception as exc:
                    return error_response(request, exc)

            response = await fault.row.apply(ApiCall(request, proceed), fault)
            if fault.mode == LOST_RESPONSE:
                _lost_answer(state, request, fault)
        if token is not None and (asked is not None or response.status in _RETRY_STATUSES):
            _note_retry_after(state, token, request, response, arrival, asked)
        _journal(state, request, response, started, fault is not None)
        return response
    finally:
        state.in_flight -= 1


def _operation(request: web.Request) -> str | None:
    """The operationId of the route the request reached (API faults may name one)."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    return request.app[OPERATIONS_KEY].get((request.method, resource.canonical))


def _note_retry_after(
    state: MockState,
    token: str,
    request: web.Request,
    response: web.StreamResponse,
    at: float,
    asked: RetryAfters | None,
) -> None:
    """Remember a Retry-After this call's answer asked for (429, 503), or that it was answered
    without one (the next attempt may come at once). Polls are `polling_too_fast`'s business."""
    retry_after = 0.0
    if response.status in (429, 503):
        try:
            retry_after = float(response.headers.get("Retry-After", "0"))
        except ValueError:
            retry_after = 0.0
    if retry_after <= 0 and asked is None:
        return  # nothing asked before, nothing asked now: the common case stays cheap
    if is_poll(request.method, request.path):
        return
    state.polls.retries(token).answered(call_key(request.method, request.path), at, retry_after)


def _record_retry_after(
    state: MockState, token: str, request: web.Request, f: Mapping[str, Any]
) -> None:
    state.violations.record(
        "retry_after_ignored",
        at=state.engine.now,
        api_key=token,
        job_id=request.match_info.get("jobId"),
        project_id=request.match_info.get("projectId"),
        message=f"{f.get('call')} was sent again {f.get('gap', 0.0):.1f} s after an answer that "
        f"asked it to wait {f.get('retryAfter', 0.0):g} s (Retry-After); wait at least "
        "Retry-After before sending a call again",
    )


def _lost_answer(state: MockState, request: web.Request, fault: FaultHit) -> None:
    """A create whose answer was lost made a job the client never saw: remember it, so a
    create that repeats it (`duplicate_job`) can be told from a replay of it."""
    if _operation(request) != "createJob":
        return
    job_id = request.get(JOB_ID_KEY)  # set by create_job only when it made a new job
    principal = request.get(PRINCIPAL_KEY)
    job = state.engine.jobs.get(job_id) if job_id is not None else None
    if job is None or principal is None:
        return
    state.polls.creates(principal.api_key, job.project_id).answer_lost(
        job.id, job.created_at, create_fingerprint(job.external_id, job.webhook_url)
    )


def _journal(
    state: MockState,
    request: web.Request,
    response: web.StreamResponse,
    started: float,
    lost: bool = False,
) -> None:
    principal = request.get(PRINCIPAL_KEY)
    status = response.status
    code = response.get(ERROR_CODE_KEY) if status >= 400 or lost else None
    if code == LOST_RESPONSE:
        status = 0  # the client got no answer at all (the journal shows what it saw)
    match = request.match_info
    # The path's ids first (a dict lookup); a handler names the job or project of a route
    # without one (a job it created, a project it read from the body). A route with a job in
    # its path never names a project, and looking up a key a request does not hold raises
    # KeyError inside aiohttp: a poll skips it.
    job_id = match.get("jobId")
    project_id = match.get("projectId")
    if job_id is None:
        job_id = request.get(JOB_ID_KEY)
        if project_id is None:
            project_id = request.get(PROJECT_ID_KEY)
    state.journal.record(
        _new_entry(
            JournalEntry,
            (
                request.method,
                request.path,
                status,
                principal.api_key if principal is not None else None,
                job_id,
                project_id,
                state.engine.now,
                time.time(),
                code,
                (time.perf_counter() - started) * 1000,
            ),
        )
    )


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.Response:
    status = exc.status
    err: ApiError
    if status == 404:
        err = NotFound(
            code="not_found",
            message=f"no route {request.method} {short(request.path)}; the public API lives "
            "under /api/open/v1, the control API under /_mock, the description at "
            "/openapi.json",
        )
    elif status == 405:
        allowed = sorted(getattr(exc, "allowed_methods", ()) or ())
        err = MethodNotAllowed(
            message=f"{request.method} is not allowed on {short(request.path)}; "
            f"allowed: {', '.join(allowed) or 'none'}",
            allowed=allowed,
        )
    elif status == 413:
        limit = request.app[STATE_KEY].config.max_body_bytes
        err = PayloadTooLarge(
            message=f"the request body is larger than this server accepts ({limit} bytes; "
            "see --max-upload-mb)",
            max_bytes=limit,
        )
    elif status < 400:
        raise exc
    else:
        err = ApiError(
            status=status, code=f"http_{status}", message=exc.reason or f"HTTP {status}"
        )
    return err.response()


def _from_statemachine(exc: Exception) -> ApiError | None:
    if isinstance(exc, CommandRejected):
        return command_error(exc)
    if isinstance(exc, InvalidTransition):
        return invalid_transition(exc)
    if isinstance(exc, UnknownScenario):
        return ValidationFailed(
            message=str(exc), details=[{"field": "scenario", "message": str(exc)}]
        )
    return None


def error_response(request: web.Request, exc: Exception) -> web.Response:
    """The JSON answer for an exception a handler raised; an unexpected one is a recorded 500."""
    if isinstance(exc, ApiError):
        return exc.response()
    if isinstance(exc, web.HTTPException):
        return _from_http_exception(request, exc)
    mapped = _from_statemachine(exc)
    if mapped is not None:
        return mapped.response()
    request.app[STATE_KEY].server_errors.append(exc)
    log.error("internal error on %s %s", request.method, request.path, exc_info=exc)
    return ApiError(
        code="internal_error",
        message=f"the mock raised {type(exc).__name__}: {exc}; this is a bug in plangrep-mock",
    ).response()
