"""Reading request bodies: JSON validated by a pydantic model, with the limits and answers every
JSON route shares (415 another content type, 413 too large, 400 malformed or cut off, 422 a body
that does not match the model)."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from ..errors import (
    BadRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    field_error,
)

__all__ = [
    "JSON_BODY_LIMIT",
    "JsonInt",
    "json_integer",
    "parse_model",
    "read_chunk",
    "read_json",
    "short_mime",
    "validation_details",
]

JSON_BODY_LIMIT = 1024 * 1024

M = TypeVar("M", bound=BaseModel)


def json_integer(value: Any) -> Any:
    """What JSON Schema calls an integer: `5` or `5.0`, never `true` or `"5"`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Use with strict models (found by fuzzing: lax models took `true` for 1 and `"5"` for 5, which
# the OpenAPI document rejects, while strict ones refused `5.0`, which it accepts). An optional
# bounded one (`X | None`) puts its bounds before the validator, `Annotated[int, Field(strict=True,
# ge=1), BeforeValidator(json_integer)]`: bounds given to the field of `JsonInt | None` reach the
# document as "ge"/"le", which JSON Schema ignores (found by fuzzing).
JsonInt = Annotated[int, BeforeValidator(json_integer), Field(strict=True)]


def validation_details(exc: ValidationError, root: str = "(body)") -> list[dict[str, str]]:
    """A pydantic error as `details`: one `{field, message}` per bad field (`root` names an
    error of the whole body or query)."""
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or root
        out.append({"field": loc, "message": err["msg"]})
    return out


def parse_model(model: type[M], data: Any) -> M:
    """Validate `data` (already parsed JSON) or raise a 422 listing every bad field."""
    if not isinstance(data, dict):
        raise field_error("(body)", f"expected a JSON object, got {_kind(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(details=validation_details(exc)) from None


def _kind(data: Any) -> str:
    if data is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean", int: "a number"}.get(
        type(data), "a number" if isinstance(data, float) else type(data).__name__
    )


async def read_chunk(request: web.Request, n: int) -> bytes:
    """Up to `n` bytes of the body; a client that goes away mid-body is a 400, not a bug."""
    try:
        return await request.content.read(n)
    except (ConnectionError, ClientPayloadError, HttpProcessingError) as exc:
        raise BadRequest(
            code="incomplete_body",
            message=f"the connection ended before the whole body arrived "
            f"({type(exc).__name__}); nothing was stored",
        ) from None


async def read_json(
    request: web.Request, model: type[M], *, limit: int = JSON_BODY_LIMIT, hint: str = ""
) -> M:
    """Read and validate a JSON body: 415 for another content type, 413 over `limit` (`hint`
    says why the limit is what it is), 400 for malformed JSON or a body cut off by the client,
    422 for a body that does not match `model`. An empty body counts as `{}`."""
    content_type = request.headers.get("Content-Type")
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit, hint)
    # read to the end: one read() answers with what has arrived so far, which for a body sent
    # in several segments (a slow client) is only its start (found by the shutdown test)
    buf = bytearray()
    while len(buf) <= limit:
        chunk = await read_chunk(request, min(1 << 16, limit + 1 - len(buf)))
        if not chunk:
            break
        buf += chunk
    raw = bytes(buf)
    if len(raw) > limit:
        raise _too_large(limit, hint)
    if not raw.strip():
        return parse_model(model, {})
    if content_type is not None:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime != "application/json" and not mime.endswith("+json"):
            raise UnsupportedMediaType(
                message=f"the body is {short_mime(mime)}; this route takes application/json "
                "(send Content-Type: application/json)",
            )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(
            code="invalid_json", message=f"the request body is not valid JSON: {exc}"
        ) from None
    return parse_model(model, data)


def short_mime(mime: str) -> str:
    return (mime[:60] + "...") if len(mime) > 60 else (mime or "without a content type")


def _too_large(limit: int, hint: str = "") -> PayloadTooLarge:
    return PayloadTooLarge(
        message=f"the JSON body is larger than {limit} bytes, the limit for this route{hint}",
        max_bytes=limit,
    )
