"""Request and response bodies as pydantic models; `openapi.py` builds the OpenAPI document.

Request models validate what clients send (`read_json`); response models describe what the server
answers (the handlers build plain dicts through `serialize.py`, tests check them against these).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from aiohttp import ClientPayloadError, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
)

from statemachine import JobEvent, ProjectEvent

from .errors import ApiError

__all__ = [
    "CLASSIFICATIONS",
    "JSON_BODY_LIMIT",
    "MAX_ADVANCE_SECONDS",
    "WEBHOOK_URL_PATTERN",
    "AccountCredits",
    "AdvanceResponse",
    "Billing",
    "ClockAdvanceRequest",
    "ClockInfo",
    "CompleteUploadsRequest",
    "CreateJobRequest",
    "CreateProjectRequest",
    "CreditsRequest",
    "DirectUpload",
    "ErrorDetail",
    "ErrorObject",
    "ErrorResponse",
    "EventRequest",
    "FailedUpload",
    "FormFileMetadata",
    "FormMetadata",
    "FormUpload",
    "FormUploadResponse",
    "HealthResponse",
    "HistoryStep",
    "JobBilling",
    "JobCreateResponse",
    "JobError",
    "JobEventRequest",
    "JobFileModel",
    "JobLimits",
    "JobModel",
    "JobResponse",
    "JobsResponse",
    "JsonInt",
    "MockForcedJobResponse",
    "MockForcedProjectResponse",
    "MockJobResponse",
    "MultipartPart",
    "MultipartUpload",
    "ProjectCreateResponse",
    "ProjectEventRequest",
    "ProjectModel",
    "ProjectResponse",
    "ProjectRuntime",
    "ProjectsResponse",
    "RequestsResponse",
    "ResetResponse",
    "RevokeResponse",
    "ScenarioNextRequest",
    "ScenarioNextResponse",
    "ScenariosResponse",
    "TransitionModel",
    "ViolationModel",
    "ViolationsResponse",
    "field_error",
    "parse_model",
    "read_json",
    "validation_error",
]

JSON_BODY_LIMIT = 1024 * 1024
CLASSIFICATIONS = ("plans", "specifications", "documents", "addenda", "mixed", "other")
Classification = Literal["plans", "specifications", "documents", "addenda", "mixed", "other"]

M = TypeVar("M", bound=BaseModel)


def _json_integer(value: Any) -> Any:
    """What JSON Schema calls an integer: `5` or `5.0`, never `true` or `"5"`."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# Use with strict models (found by fuzzing: lax models took `true` for 1 and `"5"` for 5, which
# the OpenAPI document rejects, while strict ones refused `5.0`, which it accepts).
JsonInt = Annotated[int, BeforeValidator(_json_integer), Field(strict=True)]


class _Request(BaseModel):
    # Plangrep ignores fields it does not know; so does the mock (clients stay portable).
    model_config = ConfigDict(extra="ignore", strict=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


# --------------------------------------------------------------------------- public requests


class CreateProjectRequest(_Request):
    name: str = Field(min_length=1, max_length=180, description="unique in the organisation")


# An absolute http(s) URL with a host; the handler checks it with this same pattern, so what the
# OpenAPI document accepts and what the server accepts agree (written for ECMA-262 and Python).
# The host is an RFC 3986 reg-name or IPv4 address (international names in punycode; no IPv6
# literals: no pattern can tell `[::1]` from `[1::2::3]`, which Python's URL parser refuses).
# No space, control or whitespace character, spelled out: `\s` means one set in Python (with
# \x85, without \ufeff) and another in ECMA-262 (the other way round), and the fuzzer found a URL
# the document accepted and the server refused.
_NOT_IN_URL = r"\x00-\x20\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
WEBHOOK_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://"
    r"[A-Za-z0-9._~%!$&'()*+,;=-]+"
    r"(:[0-9]{1,5})?"
    r"([/?#][^" + _NOT_IN_URL + r"]*)?$"
)


class CreateJobRequest(_Request):
    externalId: str | None = Field(None, max_length=180)
    webhookUrl: str | None = Field(
        None,
        max_length=2048,
        description="absolute http(s) URL (https with strict URLs)",
        json_schema_extra={"pattern": WEBHOOK_URL_PATTERN},
    )


class DirectUpload(_Request):
    documentId: str
    uploadToken: str


class MultipartPart(_Request):
    partNumber: JsonInt = Field(ge=1, le=10_000)
    etag: str = Field(alias="etag", min_length=1)


class MultipartUpload(_Request):
    documentId: str
    uploadId: str
    parts: list[MultipartPart] = Field(default_factory=list)


class FailedUpload(_Request):
    documentId: str
    reason: str | None = Field(None, max_length=1000)


class CompleteUploadsRequest(_Request):
    documentIds: list[str] | None = Field(None, max_length=100)
    directUploads: list[DirectUpload] | None = Field(None, max_length=100)
    multipartUploads: list[MultipartUpload] | None = Field(None, max_length=100)
    failedUploads: list[FailedUpload] | None = Field(None, max_length=100)


class FormFileMetadata(_Request):
    partName: str = Field(min_length=1, max_length=64)
    fileName: str = Field(min_length=1, max_length=255)
    contentType: str = Field("application/pdf", min_length=1, max_length=255)
    classification: Classification | None = None
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class FormMetadata(_Request):
    clientUploadFlowId: str | None = Field(None, max_length=256)
    files: list[FormFileMetadata] | None = None  # more than 100: limit_exceeded


# --------------------------------------------------------------------------- public responses


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorObject(_Response):
    code: str
    message: str
    currentStatus: str | None = Field(None, description="present on every 409")
    details: list[ErrorDetail] | None = Field(None, description="present on validation_error")


class ErrorResponse(BaseModel):
    error: ErrorObject


class JobLimits(BaseModel):
    maxDeclaredBytes: int
    maxFiles: int


class JobBilling(BaseModel):
    creditsReserved: int
    creditsDebited: int


class JobFileModel(BaseModel):
    id: str
    documentId: str
    fileName: str
    status: str


class JobError(BaseModel):
    code: str
    message: str


JobStatusName = Literal[
    "provisioning",
    "awaiting_uploads",
    "uploading",
    "preflighting",
    "blocked_insufficient_credits",
    "processing",
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
    "expired",
]


class JobModel(BaseModel):
    id: str = Field(pattern=r"^job_[a-z0-9]{26}$")
    externalId: str | None
    status: JobStatusName
    projectId: str
    limits: JobLimits
    pageCount: int
    successfulPageCount: int
    billing: JobBilling
    files: list[JobFileModel]
    resultUrl: str | None
    error: JobError | None
    createdAt: str
    updatedAt: str
    completedAt: str | None
    expiresAt: str


class JobResponse(BaseModel):
    job: JobModel


class JobCreateResponse(BaseModel):
    job: JobModel
    idempotent: bool | None = Field(None, description="present and true on a replay")
    webhookSigningSecret: str | None = Field(
        None, pattern=r"^wss_", description="only in the first response, never on a replay"
    )


class JobsResponse(BaseModel):
    jobs: list[JobModel]


class ProjectRuntime(BaseModel):
    status: Literal["starting", "running"]
    upgradeStatus: None


class ProjectModel(BaseModel):
    id: str = Field(pattern=r"^proj_[a-z0-9]{26}$")
    name: str
    projectKind: Literal["open_api"]
    status: Literal["provisioning", "ready"]
    runtime: ProjectRuntime
    createdAt: str
    updatedAt: str


class Billing(BaseModel):
    availableCredits: int
    creditsCharged: int
    requiredCredits: int


class ProjectCreateResponse(BaseModel):
    project: ProjectModel
    billing: Billing


class ProjectResponse(BaseModel):
    project: ProjectModel


class ProjectsResponse(BaseModel):
    projects: list[ProjectModel]


class FormUpload(_Response):
    documentId: str
    fileId: str
    fileName: str
    contentType: str
    fileSize: int
    partName: str
    status: str


class FormUploadResponse(BaseModel):
    job: JobModel
    status: Literal["uploaded", "skipped"]
    uploads: list[FormUpload]


# --------------------------------------------------------------------------- control API


MAX_ADVANCE_SECONDS = 10 * 365 * 86400.0


class ClockAdvanceRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    # bounded: a clock pushed past year 9999 cannot be written as a timestamp (found by fuzzing)
    seconds: float = Field(
        ge=0,
        le=MAX_ADVANCE_SECONDS,
        allow_inf_nan=False,
        description="virtual seconds, 0 to 10 years",
    )


class EventRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    event: str = Field(min_length=1, max_length=64)


class JobEventRequest(EventRequest):
    """A job event by name (the handler names the known ones when it is not one)."""

    event: str = Field(
        min_length=1,
        max_length=64,
        json_schema_extra={"enum": [e.value for e in JobEvent]},
    )


class ProjectEventRequest(EventRequest):
    event: str = Field(
        min_length=1,
        max_length=64,
        json_schema_extra={"enum": [e.value for e in ProjectEvent]},
    )


class ScenarioNextRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    # the served document lists the known names (they change as scenarios are registered)
    scenario: Annotated[
        str | dict[str, Any],
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "minLength": 1},
                    {"$ref": "#/components/schemas/Scenario"},
                ]
            }
        ),
    ] = Field(description="a scenario name or an inline scenario")


class CreditsRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    balance: JsonInt = Field(ge=0, le=10**12)


class HealthResponse(_Response):
    status: Literal["ok"]


class ClockInfo(BaseModel):
    now: str
    mode: Literal["manual", "realtime"]
    speed: float
    epochSeconds: float


class HistoryStep(_Response):
    sequence: int | None = None
    forced: bool | None = None
    # "from" is a Python keyword; the alias keeps the JSON name
    from_: str = Field(alias="from")
    to: str
    event: str
    at: str


class AdvanceResponse(BaseModel):
    now: str
    mode: Literal["manual", "realtime"]
    speed: float
    epochSeconds: float
    fired: list[TransitionModel]


class TransitionModel(BaseModel):
    kind: Literal["job", "project"]
    objectId: str
    event: str
    from_: str = Field(alias="from")
    to: str
    at: str
    sequence: int
    forced: bool


class MockForcedJobResponse(BaseModel):
    job: JobModel
    transition: TransitionModel


class MockForcedProjectResponse(BaseModel):
    project: ProjectModel
    transition: TransitionModel


class MockJobResponse(BaseModel):
    job: JobModel
    history: list[HistoryStep]
    deliveries: list[dict[str, Any]]
    scenario: str


class ScenariosResponse(BaseModel):
    scenarios: list[dict[str, Any]]
    default: str
    queued: list[str]


class ScenarioNextResponse(BaseModel):
    queued: list[str]


class AccountCredits(_Response):
    apiKey: str
    organisation: str
    balance: int
    profile: dict[str, int]


class RevokeResponse(BaseModel):
    apiKey: str
    revoked: bool


class ViolationModel(BaseModel):
    rule: str
    jobId: str | None
    projectId: str | None
    apiKey: str | None
    at: str
    message: str


class ViolationsResponse(BaseModel):
    violations: list[ViolationModel]


class RequestsResponse(BaseModel):
    requests: list[dict[str, Any]]
    total: int
    dropped: int


class ResetResponse(BaseModel):
    reset: bool


# --------------------------------------------------------------------------- reading bodies


def validation_error(details: list[dict[str, str]], message: str | None = None) -> ApiError:
    first = details[0] if details else {"field": "(body)", "message": "invalid"}
    msg = message or f"invalid request body: {first['field']}: {first['message']}"
    return ApiError(422, "validation_error", msg, details=details)


def field_error(field: str, message: str) -> ApiError:
    """The 422 `validation_error` for one bad field."""
    return validation_error([{"field": field, "message": message}])


def _details(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or "(body)"
        out.append({"field": loc, "message": err["msg"]})
    return out


def parse_model(model: type[M], data: Any) -> M:
    """Validate `data` (already parsed JSON) or raise a 422 listing every bad field."""
    if not isinstance(data, dict):
        raise field_error("(body)", f"expected a JSON object, got {_kind(data)}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(_details(exc)) from None


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
        raise ApiError(
            400,
            "incomplete_body",
            f"the connection ended before the whole body arrived ({type(exc).__name__}); "
            "nothing was stored",
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
            raise ApiError(
                415,
                "unsupported_media_type",
                f"the body is {short_mime(mime)}; this route takes application/json "
                "(send Content-Type: application/json)",
            )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "invalid_json", f"the request body is not valid JSON: {exc}") from None
    return parse_model(model, data)


def short_mime(mime: str) -> str:
    return (mime[:60] + "...") if len(mime) > 60 else (mime or "without a content type")


def _too_large(limit: int, hint: str = "") -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"the JSON body is larger than {limit} bytes, the limit for this route{hint}",
        maxBytes=limit,
    )
