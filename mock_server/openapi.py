"""`GET /openapi.json`: the OpenAPI 3.1 document of the public and control APIs, generated from the
pydantic models in `models.py` and the operation table below (never written by hand).

Other parts of the server describe their routes with `add_operations(app, [Operation(...)])`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from statemachine import Scenario

from . import models as m
from .errors import json_response
from .state import STATE_KEY

__all__ = [
    "OPENAPI_OPS_KEY",
    "Operation",
    "add_operations",
    "build_openapi",
    "core_operations",
    "setup_openapi",
]

_REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Malformed JSON (invalid_json)",
    401: "Missing, malformed, unknown or revoked API key (unauthorized)",
    403: "The key lacks the scope (insufficient_scope)",
    404: "Unknown object or another organisation's (project_not_found, job_not_found, ...)",
    405: "Method not allowed (method_not_allowed)",
    409: "The object's status forbids this (carries currentStatus)",
    413: "Body too large (payload_too_large)",
    415: "Wrong content type (unsupported_media_type)",
    422: "The body does not validate (validation_error with details, limit_exceeded, ...)",
    429: "Polled faster than every 5 s (polling_too_fast, with Retry-After)",
    500: "An API fault injected through /_mock/faults (injected_fault), or a bug",
    503: "An API fault injected through /_mock/faults (injected_fault)",
}
BodyKind = Literal["json", "multipart", "none"]


@dataclass(frozen=True)
class Operation:
    """One route as the OpenAPI document shows it."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    ok_status: int
    ok_model: type[BaseModel] | None
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    body_kind: BodyKind = "none"
    body_required: bool = False
    auth: bool = True
    headers: tuple[tuple[str, str], ...] = ()
    # (name, description) of a string parameter, or (name, description, JSON schema)
    query: tuple[tuple[str, str] | tuple[str, str, dict[str, Any]], ...] = ()
    extra_models: tuple[type[BaseModel], ...] = field(default=())
    ok_schema: dict[str, Any] | None = None
    ok_content_type: str = "application/json"


_PUBLIC = "/api/open/v1"
_AUTH_ERRORS = (401, 403, 500, 503)
_BODY_ERRORS = (400, 413, 415, 422)
_IDEM = ("Idempotency-Key", "Optional, at most 256 characters; a replay returns the first answer")


def core_operations() -> list[Operation]:
    p = _PUBLIC
    c = "/_mock"
    pub = "public"
    ctl = "control"
    return [
        Operation(
            "post", p + "/projects", "createProject", "Create a project (charges credits)", pub,
            202, m.ProjectCreateResponse, (*_AUTH_ERRORS, *_BODY_ERRORS, 409),
            m.CreateProjectRequest, "json", True,
        ),
        Operation(
            "get", p + "/projects", "listProjects", "List the organisation's projects", pub,
            200, m.ProjectsResponse, _AUTH_ERRORS,
        ),
        Operation(
            "get", p + "/projects/{projectId}", "getProject", "Get a project", pub,
            200, m.ProjectResponse, (*_AUTH_ERRORS, 404),
        ),
        Operation(
            "post", p + "/projects/{projectId}/jobs", "createJob",
            "Create a job in a ready project", pub, 202, m.JobCreateResponse,
            (*_AUTH_ERRORS, *_BODY_ERRORS, 404, 409), m.CreateJobRequest, "json",
            headers=(
                _IDEM,
                ("X-Mock-Scenario", "The mock's scenario for this job (not part of Plangrep)"),
            ),
        ),
        Operation(
            "get", p + "/projects/{projectId}/jobs", "listJobs", "List a project's jobs, newest "
            "first", pub, 200, m.JobsResponse, (*_AUTH_ERRORS, 404),
        ),
        Operation(
            "get", p + "/jobs/{jobId}", "getJob", "Get a job (at most once per 5 s per key)",
            pub, 200, m.JobResponse, (*_AUTH_ERRORS, 404, 429),
        ),
        Operation(
            "post", p + "/jobs/{jobId}/resume", "resumeJob",
            "Resume a job blocked for credits", pub, 200, m.JobResponse,
            (*_AUTH_ERRORS, 404, 409),
        ),
        Operation(
            "post", p + "/jobs/{jobId}/cancel", "cancelJob", "Cancel a non-terminal job", pub,
            200, m.JobResponse, (*_AUTH_ERRORS, 404, 409),
        ),
        Operation(
            "post", p + "/jobs/{jobId}/files", "uploadFiles",
            "Form upload: a metadata part (JSON string) and file parts file0..N", pub,
            200, m.FormUploadResponse, (*_AUTH_ERRORS, 404, 409, 413, 415, 422),
            m.FormMetadata, "multipart", True,
        ),
        Operation(
            "post", p + "/jobs/{jobId}/uploads/complete", "completeUploads",
            "Close the upload window; processing starts", pub, 202, m.JobCreateResponse,
            (*_AUTH_ERRORS, *_BODY_ERRORS, 404, 409), m.CompleteUploadsRequest, "json",
            headers=(_IDEM,),
        ),
        Operation("get", c + "/health", "mockHealth", "Health", ctl, 200, m.HealthResponse,
                  auth=False),
        Operation("get", c + "/clock", "mockClock", "Read the virtual clock", ctl, 200,
                  m.ClockInfo, auth=False),
        Operation(
            "post", c + "/clock/advance", "mockAdvanceClock",
            "Advance the virtual clock; fires due transitions", ctl, 200, m.AdvanceResponse,
            _BODY_ERRORS, m.ClockAdvanceRequest, "json", True, auth=False,
        ),
        Operation(
            "post", c + "/jobs/{jobId}/events", "mockForceJobEvent", "Force a job event", ctl,
            200, m.MockForcedJobResponse, (*_BODY_ERRORS, 404, 409), m.JobEventRequest, "json",
            True, auth=False,
        ),
        Operation(
            "post", c + "/projects/{projectId}/events", "mockForceProjectEvent",
            "Force a project event", ctl, 200, m.MockForcedProjectResponse,
            (*_BODY_ERRORS, 404, 409), m.ProjectEventRequest, "json", True, auth=False,
        ),
        Operation(
            "get", c + "/jobs/{jobId}", "mockGetJob", "A job with its history and deliveries",
            ctl, 200, m.MockJobResponse, (404,), auth=False,
        ),
        Operation("get", c + "/scenarios", "mockListScenarios", "Scenarios", ctl, 200,
                  m.ScenariosResponse, auth=False),
        Operation(
            "post", c + "/scenarios/next", "mockQueueScenario",
            "Queue the scenario of the next job created without X-Mock-Scenario", ctl, 200,
            m.ScenarioNextResponse, _BODY_ERRORS, m.ScenarioNextRequest, "json", True,
            auth=False, extra_models=(Scenario,),
        ),
        Operation(
            "get", c + "/accounts/{apiKey}/credits", "mockGetCredits",
            "The credits of the key's organisation", ctl, 200, m.AccountCredits, (404,),
            auth=False,
        ),
        Operation(
            "put", c + "/accounts/{apiKey}/credits", "mockSetCredits",
            "Set the credits of the key's organisation", ctl, 200, m.AccountCredits,
            (*_BODY_ERRORS, 404), m.CreditsRequest, "json", True, auth=False,
        ),
        Operation(
            "post", c + "/keys/{apiKey}/revoke", "mockRevokeKey", "Revoke an API key", ctl,
            200, m.RevokeResponse, (404,), auth=False,
        ),
        Operation(
            "get", c + "/requests", "mockRequests", "The request journal", ctl, 200,
            m.RequestsResponse, (422,), auth=False,
            query=(("jobId", "Only this job's requests"), ("apiKey", "Only this key's"),
                   ("limit", "Only the last N of them",
                    {"type": "integer", "minimum": 1, "maximum": 1_000_000})),
        ),
        Operation("get", c + "/violations", "mockViolations", "Contract violations", ctl, 200,
                  m.ViolationsResponse, auth=False),
        Operation("post", c + "/reset", "mockReset", "Forget everything", ctl, 200,
                  m.ResetResponse, auth=False),
    ]  # fmt: skip


OPENAPI_OPS_KEY: web.AppKey[list[Operation]] = web.AppKey("plangrep_mock_openapi_ops", list)


def add_operations(app: web.Application, operations: list[Operation]) -> None:
    """Describe more routes (the webhook and upload parts call this from their setup)."""
    app[OPENAPI_OPS_KEY].extend(operations)


def _params(op: Operation) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    out += [
        {"name": n, "in": "header", "required": False, "description": d,
         "schema": {"type": "string", "minLength": 1, "maxLength": 256}
         if n == "Idempotency-Key"
         else {"type": "string"}}
        for n, d in op.headers
    ]  # fmt: skip
    out += [
        {"name": q[0], "in": "query", "required": False, "description": q[1],
         "schema": q[2] if len(q) > 2 else {"type": "string"}}
        for q in op.query
    ]  # fmt: skip
    return out


def build_openapi(operations: list[Operation]) -> dict[str, Any]:
    wanted: list[type[BaseModel]] = [m.ErrorResponse]
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
        responses: dict[str, Any] = {
            str(op.ok_status): {
                "description": "OK",
                "content": {
                    op.ok_content_type: {
                        "schema": op.ok_schema
                        if op.ok_schema is not None
                        else (ref(op.ok_model) if op.ok_model else {})
                    }
                },
            }
        }
        for status in sorted(set(op.errors) | {405}):
            err: dict[str, Any] = {
                "description": _ERROR_TEXT.get(status, "Error"),
                "content": {"application/json": {"schema": ref(m.ErrorResponse)}},
            }
            if status == 429:
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
        if not op.auth:
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
        paths.setdefault(op.path, {})[op.method] = item
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
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
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


async def openapi_json(request: web.Request) -> web.Response:
    doc = build_openapi(request.app[OPENAPI_OPS_KEY])
    if STATE_KEY in request.app:
        _name_scenarios(doc, sorted(s.name for s in request.app[STATE_KEY].scenarios.all()))
    return json_response(doc)


def setup_openapi(app: web.Application) -> None:
    app[OPENAPI_OPS_KEY] = core_operations()
    app.router.add_get("/openapi.json", openapi_json)
