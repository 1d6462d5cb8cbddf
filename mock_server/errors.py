"""HTTP errors: every error the server answers is JSON `{"error": {"code", "message", ...}}`.

ApiError            raised by handlers; carries status, code, message and extra fields
error_middleware    turns ApiError, aiohttp's own HTTP errors (unknown route, wrong method, body
                    too large) and statemachine errors into JSON; any other exception becomes a
                    JSON 500 and is recorded in `state.server_errors`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from statemachine import CommandRejected, InvalidTransition, UnknownScenario

from .state import STATE_KEY

__all__ = [
    "ERROR_CODE_KEY",
    "ApiError",
    "conflict",
    "error_body",
    "error_middleware",
    "error_response",
    "invalid_transition",
    "json_response",
    "short",
]

log = logging.getLogger("mock_server")

ERROR_CODE_KEY: web.ResponseKey[str] = web.ResponseKey("plangrep_mock_error_code", str)
_COMMAND_STATUS = {"limit_exceeded": 422, "name_taken": 409}


def short(text: str, limit: int = 80) -> str:
    """An identifier fit for an error message (clients may send 10,000-character ids)."""
    return text if len(text) <= limit else text[:limit] + "..."


class ApiError(Exception):
    """An HTTP error answer; `extra` fields go into the error object beside code and message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, **self.extra)

    def response(self) -> web.Response:
        resp = json_response(self.body(), status=self.status, headers=self.headers)
        resp[ERROR_CODE_KEY] = self.code
        return resp


def conflict(code: str, message: str, current_status: str, **extra: Any) -> ApiError:
    """A 409; every 409 names the object's current status."""
    return ApiError(409, code, message, currentStatus=current_status, **extra)


def invalid_transition(exc: InvalidTransition) -> ApiError:
    """The 409 for an event the lifecycle forbids: the event and the events allowed instead."""
    return conflict(
        "invalid_transition",
        str(exc),
        exc.status,
        event=exc.event,
        allowedEvents=list(exc.allowed),
    )


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=_dumps(body).encode(), status=status, content_type="application/json", headers=headers
    )


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.Response:
    status = exc.status
    if status == 404:
        err = ApiError(
            404,
            "not_found",
            f"no route {request.method} {short(request.path)}; the public API lives under "
            "/api/open/v1, the control API under /_mock, the description at /openapi.json",
        )
    elif status == 405:
        allowed = sorted(getattr(exc, "allowed_methods", ()) or ())
        err = ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {short(request.path)}; "
            f"allowed: {', '.join(allowed) or 'none'}",
            headers={"Allow": ",".join(allowed)},
            allowedMethods=allowed,
        )
    elif status == 413:
        limit = request.app[STATE_KEY].config.max_body_bytes
        err = ApiError(
            413,
            "payload_too_large",
            f"the request body is larger than this server accepts ({limit} bytes; "
            "see --max-upload-mb)",
            maxBytes=limit,
        )
    elif status < 400:
        raise exc
    else:
        err = ApiError(status, f"http_{status}", exc.reason or f"HTTP {status}")
    return err.response()


def _from_statemachine(exc: Exception) -> ApiError | None:
    if isinstance(exc, CommandRejected):
        status = _COMMAND_STATUS.get(exc.code, 409)
        extra: dict[str, Any] = {"currentStatus": exc.status} if status == 409 else {}
        return ApiError(status, exc.code, str(exc), **extra)
    if isinstance(exc, InvalidTransition):
        return invalid_transition(exc)
    if isinstance(exc, UnknownScenario):
        return ApiError(
            422,
            "validation_error",
            str(exc),
            details=[{"field": "scenario", "message": str(exc)}],
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
        500,
        "internal_error",
        f"the mock raised {type(exc).__name__}: {exc}; this is a bug in plangrep-mock",
    ).response()


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Exception as exc:
        return error_response(request, exc)
