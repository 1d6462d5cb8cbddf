"""`GET /openapi.json`: the OpenAPI 3.1 document of the public and control APIs, generated from the
installed endpoint declarations (`endpoints.py`) and their pydantic models, never written by
hand."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from ..errors import json_response
from ..keys import SESSION_COOKIE
from ..state import STATE_KEY
from .endpoints import ENDPOINTS_KEY, Endpoint

__all__ = ["ErrorResponse", "build_openapi", "openapi_json"]

_REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Malformed JSON (invalid_json), or a cursor this list did not issue (invalid_cursor)",
    401: "Missing, malformed, unknown or revoked API key (unauthorized)",
    403: "The key lacks the scope (insufficient_scope)",
    404: "Unknown object or another organisation's (project_not_found, job_not_found, ...)",
    405: "Method not allowed (method_not_allowed)",
    409: "The object's status forbids this, or the project's search index is being built "
    "(carries currentStatus)",
    413: "Body too large (payload_too_large)",
    415: "Wrong content type (unsupported_media_type)",
    422: "The body does not validate (validation_error with details, limit_exceeded, ...)",
    429: "Polled faster than every 5 s (polling_too_fast), or a rate_limited fault injected "
    "through /_mock/faults; with Retry-After",
    500: "An API fault injected through /_mock/faults (injected_fault), or a bug",
    502: "A lost_response fault injected through /_mock/faults (bad_gateway): the request may "
    "have been processed",
    503: "An API fault injected through /_mock/faults (injected_fault, Retry-After if asked)",
    504: "A lost_response fault injected through /_mock/faults (gateway_timeout): the request "
    "may have been processed",
}


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorObject(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    currentStatus: str | None = Field(None, description="present on every 409")
    details: list[ErrorDetail] | None = Field(None, description="present on validation_error")


class ErrorResponse(BaseModel):
    error: ErrorObject


def _params(op: Endpoint) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    for where, params in (("header", op.headers), ("query", op.query)):
        out += [
            {
                "name": p.name,
                "in": where,
                "required": p.required,
                "description": p.description,
                "schema": p.as_schema(),
            }
            for p in params
        ]
    return out


def build_openapi(operations: Sequence[Endpoint]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `operations` (the endpoints an app installed)."""
    wanted: list[type[BaseModel]] = [ErrorResponse]
    for op in operations:
        for model in (op.ok_model, op.body, *op.extra_models):
            if model is not None and model not in wanted:
                wanted.append(model)
    _, defs = models_json_schema(
        [(model, "serialization") for model in wanted]
        + [(op.body, "validation") for op in operations if op.body is not None],
        ref_template=_REF,
    )
    schemas = defs.get("$defs", {})

    def ref(model: type[BaseModel]) -> dict[str, Any]:
        return {"$ref": _REF.format(model=model.__name__)}

    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        ok_schema = (
            op.ok_schema if op.ok_schema is not None else (ref(op.ok_model) if op.ok_model else {})
        )
        media_types = (
            (op.ok_media_type,) if isinstance(op.ok_media_type, str) else op.ok_media_type
        )
        responses: dict[str, Any] = {
            str(op.ok_status): {
                "description": "OK",
                "content": {media: {"schema": ok_schema} for media in media_types},
            }
        }
        for status in op.error_statuses():
            err: dict[str, Any] = {
                "description": _ERROR_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": ref(ErrorResponse)}},
            }
            if status in (429, 503) or status in op.retry_after:
                err["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}
                }
            responses[str(status)] = err
        item: dict[str, Any] = {
            "operationId": op.operation_id,
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": _params(op),
            "responses": responses,
        }
        if op.session:
            item["security"] = [{"session": []}]
            responses["401"]["description"] = (
                "No session cookie, or a bearer key instead of one (unauthorized)"
            )
        elif not op.auth:
            item["security"] = []
        if op.body is not None and op.body_kind == "json":
            item["requestBody"] = {
                "required": op.body_required,
                "content": {"application/json": {"schema": ref(op.body)}},
            }
        elif op.body is not None and op.body_kind == "multipart":
            item["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["metadata", "file0"],
                            "properties": {
                                "metadata": {
                                    **ref(op.body),
                                    "description": "a JSON text (see encoding)",
                                },
                                "file0": {"type": "string", "contentMediaType": "application/pdf"},
                            },
                            # the server takes no other parts than these
                            "patternProperties": {
                                "^file[0-9]{1,4}$": {
                                    "type": "string",
                                    "contentMediaType": "application/pdf",
                                }
                            },
                            "additionalProperties": False,
                        },
                        "encoding": {"metadata": {"contentType": "application/json"}},
                    }
                },
            }
        paths.setdefault(op.path, {})[op.method.lower()] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "plangrep-mock",
            "version": "0.1.0",
            "description": "Plangrep's public job API (/api/open/v1) as the mock serves it, and "
            "the mock's control API (/_mock), which is not part of Plangrep.",
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "public", "description": "Documented by Plangrep"},
            {"name": "control", "description": "Defined by the mock"},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                # the workspace key routes: the Plangrep app's session, not a bearer key
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
        },
        "security": [{"bearer": []}],
    }


def _name_scenarios(doc: dict[str, Any], names: list[str]) -> None:
    """Where the document takes a scenario name, list the names this server knows (they change
    as scenarios are registered, so only the served document can say)."""
    for item in doc["paths"].values():
        for op in item.values():
            for param in op.get("parameters", ()):
                if param["name"] == "X-Mock-Scenario":
                    param["schema"] = {"type": "string", "enum": names}
    queued = doc["components"]["schemas"].get("ScenarioNextRequest", {})
    for branch in queued.get("properties", {}).get("scenario", {}).get("anyOf", ()):
        if branch.get("type") == "string":
            branch["enum"] = names


def _name_operations(doc: dict[str, Any], endpoints: list[Endpoint]) -> None:
    """Where an API fault takes an `operation`, list the public operationIds served (a fault
    can name only those; the fault models cannot know them)."""
    names = sorted({ep.operation_id for ep in endpoints if ep.tag == "public"})
    for name, schema in doc["components"]["schemas"].items():
        if not (name.startswith("Api") and name.endswith("FaultRequest")):
            continue
        for branch in schema.get("properties", {}).get("operation", {}).get("anyOf", ()):
            if branch.get("type") == "string":
                branch["enum"] = names


async def openapi_json(request: web.Request) -> web.Response:
    endpoints: list[Endpoint] = request.app[ENDPOINTS_KEY]
    doc = build_openapi(endpoints)
    _name_scenarios(doc, sorted(s.name for s in request.app[STATE_KEY].scenarios.all()))
    _name_operations(doc, endpoints)
    return json_response(doc)
