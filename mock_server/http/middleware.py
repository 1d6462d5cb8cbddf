"""The one middleware every request passes, and how an exception becomes a JSON answer.

Per request: bring the engine up to the clock, apply an API fault the test asked for (public
routes only), run the handler, turn any error into JSON, and journal public requests. It runs on
every poll, so it stays small.
"""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from statemachine import CommandRejected, InvalidTransition, UnknownScenario

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
from ..faults import ApiCall
from ..journal import JournalEntry
from ..state import STATE_KEY, MockState
from .auth import JOB_ID_KEY, PRINCIPAL_KEY, PROJECT_ID_KEY

__all__ = ["PUBLIC_PREFIX", "core_middleware", "error_response"]

PUBLIC_PREFIX = "/api/open/v1"
log = logging.getLogger("mock_server")


@web.middleware
async def core_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    state.in_flight += 1  # serve's shutdown waits for the requests being handled
    try:
        state.engine.sync_if_behind()
        if state.storage.origin is None:  # signed URLs point at the origin clients reach us on
            state.storage.origin = f"{request.scheme}://{request.host}"
        if not request.path.startswith(PUBLIC_PREFIX):
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(request, exc)
        started = time.perf_counter()
        fault = state.faults.take_api_fault(request.path)
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
        _journal(state, request, response, started)
        return response
    finally:
        state.in_flight -= 1


def _journal(
    state: MockState, request: web.Request, response: web.StreamResponse, started: float
) -> None:
    principal = request.get(PRINCIPAL_KEY)
    status = response.status
    state.journal.record(
        JournalEntry(
            request.method,
            request.path,
            status,
            principal.api_key if principal is not None else None,
            request.get(JOB_ID_KEY) or request.match_info.get("jobId"),
            request.get(PROJECT_ID_KEY) or request.match_info.get("projectId"),
            state.engine.now,
            time.time(),
            response.get(ERROR_CODE_KEY) if status >= 400 else None,
            (time.perf_counter() - started) * 1000,
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
