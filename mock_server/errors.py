"""HTTP errors: every error the server answers is JSON `{"error": {"code", "message", ...}}`.

    ApiError                     an error answer; keyword-only, with its status fixed by the class
    ├── BadRequest               400 (invalid_json, incomplete_body, invalid_cursor)
    ├── Unauthorized             401 unauthorized (with WWW-Authenticate: Bearer)
    ├── Forbidden                403 (insufficient_scope, token_invalid, token_expired)
    ├── NotFound                 404 (project_not_found, job_not_found, not_found, ...)
    ├── MethodNotAllowed         405 method_not_allowed (with Allow)
    ├── Conflict                 409: every one names the object's currentStatus
    ├── Gone                     410 (download_token_used, download_token_expired)
    ├── PayloadTooLarge          413 payload_too_large (with maxBytes)
    ├── UnsupportedMediaType     415 unsupported_media_type
    ├── ValidationFailed         422 validation_error (with details [{field, message}])
    ├── Unprocessable            422 with another code (limit_exceeded, integrity_error)
    ├── TooManyRequests          429 (with Retry-After)
    └── ServerError              5xx (an injected fault, or a bug)

Each error keeps its context as attributes; `fields` are extra members of the error object.
Handlers raise them; the HTTP middleware (`http/middleware.py`) answers them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from aiohttp import web

from statemachine import CommandRejected, InvalidTransition

__all__ = [
    "ERROR_CODE_KEY",
    "ApiError",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "Gone",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "ServerError",
    "TooManyRequests",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "ValidationFailed",
    "command_error",
    "error_body",
    "field_error",
    "invalid_transition",
    "json_bytes_response",
    "json_response",
    "short",
]

ERROR_CODE_KEY: web.ResponseKey[str] = web.ResponseKey("plangrep_mock_error_code", str)


def short(text: str, limit: int = 80) -> str:
    """An identifier fit for an error message (clients may send 10,000-character ids)."""
    return text if len(text) <= limit else text[:limit] + "..."


def error_body(code: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **fields}}


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return json_bytes_response(
        json.dumps(body, separators=(",", ":")).encode(), status=status, headers=headers
    )


def json_bytes_response(
    body: bytes, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer from bytes already serialized. The Content-Type is given as a header: with
    `content_type=` aiohttp parses it again per response, about half of building one."""
    if headers:
        return web.Response(
            body=body, status=status, headers={"Content-Type": "application/json", **headers}
        )
    return web.Response(body=body, status=status, headers={"Content-Type": "application/json"})


class ApiError(Exception):
    """An HTTP error answer. Subclasses fix the status (`default_status`); `fields` go into the
    error object beside `code` and `message`; `headers` go on the response."""

    default_status: ClassVar[int] = 500

    def __init__(
        self,
        *,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = self.default_status if status is None else status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.fields = dict(fields or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, **self.fields)

    def response(self) -> web.Response:
        resp = json_response(self.body(), status=self.status, headers=self.headers)
        resp[ERROR_CODE_KEY] = self.code
        return resp


class BadRequest(ApiError):
    default_status = 400


class Unauthorized(ApiError):
    default_status = 401

    def __init__(self, *, message: str) -> None:
        super().__init__(
            code="unauthorized", message=message, headers={"WWW-Authenticate": "Bearer"}
        )


class Forbidden(ApiError):
    default_status = 403


class NotFound(ApiError):
    default_status = 404


class MethodNotAllowed(ApiError):
    default_status = 405

    def __init__(self, *, message: str, allowed: Sequence[str]) -> None:
        super().__init__(
            code="method_not_allowed",
            message=message,
            headers={"Allow": ",".join(allowed)},
            fields={"allowedMethods": list(allowed)},
        )


class Conflict(ApiError):
    """A 409; every 409 names the object's current status (`currentStatus`)."""

    default_status = 409

    def __init__(
        self,
        *,
        code: str,
        message: str,
        current_status: str,
        headers: Mapping[str, str] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            code=code,
            message=message,
            headers=headers,
            fields={"currentStatus": current_status, **(fields or {})},
        )
        self.current_status = current_status


class Gone(ApiError):
    default_status = 410


class PayloadTooLarge(ApiError):
    default_status = 413

    def __init__(self, *, message: str, max_bytes: int) -> None:
        super().__init__(code="payload_too_large", message=message, fields={"maxBytes": max_bytes})
        self.max_bytes = max_bytes


class UnsupportedMediaType(ApiError):
    default_status = 415

    def __init__(self, *, message: str) -> None:
        super().__init__(code="unsupported_media_type", message=message)


class ValidationFailed(ApiError):
    """422 `validation_error`; `details` lists every bad field as `{field, message}`."""

    default_status = 422

    def __init__(
        self,
        *,
        details: Sequence[Mapping[str, str]],
        message: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        listed = [dict(d) for d in details] or [{"field": "(body)", "message": "invalid"}]
        first = listed[0]
        super().__init__(
            code="validation_error",
            message=message or f"invalid request body: {first['field']}: {first['message']}",
            fields={"details": listed, **(fields or {})},
        )
        self.details = listed


class Unprocessable(ApiError):
    """A 422 with a code other than validation_error (limit_exceeded, integrity_error)."""

    default_status = 422


class TooManyRequests(ApiError):
    default_status = 429

    def __init__(
        self,
        *,
        code: str,
        message: str,
        retry_after: int,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            code=code,
            message=message,
            headers={"Retry-After": str(retry_after)},
            fields=fields,
        )
        self.retry_after = retry_after


class ServerError(ApiError):
    """A 5xx answered on purpose (an injected fault); `status` is per instance."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        retry_after: int | None = None,
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(code=code, message=message, headers=headers, status=status)


def field_error(field: str, message: str) -> ValidationFailed:
    """The 422 `validation_error` for one bad field."""
    return ValidationFailed(details=[{"field": field, "message": message}])


def invalid_transition(exc: InvalidTransition) -> Conflict:
    """The 409 for an event the lifecycle forbids: the event and the events allowed instead."""
    return Conflict(
        code="invalid_transition",
        message=str(exc),
        current_status=exc.status,
        fields={"event": exc.event, "allowedEvents": list(exc.allowed)},
    )


def command_error(exc: CommandRejected) -> ApiError:
    """An engine refusal as the API answers it (limit_exceeded is 422, the rest 409)."""
    if exc.code == "limit_exceeded":
        return Unprocessable(code=exc.code, message=str(exc))
    return Conflict(code=exc.code, message=str(exc), current_status=exc.status)
