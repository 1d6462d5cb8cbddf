"""Control API bodies (`/_mock`, defined by the mock) as pydantic models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from statemachine import JobEvent, ProjectEvent

from ..http.body import JsonInt
from ..public.models import JobModel, ProjectModel

__all__ = [
    "MAX_ADVANCE_SECONDS",
    "AccountCredits",
    "AdvanceResponse",
    "ArtifactDownloadRequest",
    "ArtifactDownloadResponse",
    "ClockAdvanceRequest",
    "ClockInfo",
    "CreditsRequest",
    "EventRequest",
    "HealthResponse",
    "HistoryStep",
    "JobEventRequest",
    "MockForcedJobResponse",
    "MockForcedProjectResponse",
    "MockJobResponse",
    "ProjectEventRequest",
    "RequestsResponse",
    "ResetResponse",
    "RevokeResponse",
    "ScenarioNextRequest",
    "ScenarioNextResponse",
    "ScenariosResponse",
    "SessionRequest",
    "SessionResponse",
    "TransitionModel",
    "ViolationModel",
    "ViolationsResponse",
]


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


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


class SessionRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    org: str = Field(min_length=1, max_length=200, description="the organisation signed into")


class SessionResponse(BaseModel):
    cookieValue: str
    org: str
    userId: str


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


class ArtifactDownloadRequest(BaseModel):
    """A download token for one artifact of a job's result or of a project's entities."""

    model_config = ConfigDict(
        strict=True,
        # exactly one of jobId and projectId as a string (what the validator below checks; a
        # null counts as absent)
        json_schema_extra={
            "oneOf": [
                {"required": ["jobId"], "properties": {"jobId": {"type": "string"}}},
                {"required": ["projectId"], "properties": {"projectId": {"type": "string"}}},
            ]
        },
    )

    jobId: str | None = Field(None, description="the job whose result lists the artifact")
    projectId: str | None = Field(None, description="the project whose entities list the artifact")
    path: str = Field(min_length=1, description="the path= of an artifact URL")

    @model_validator(mode="after")
    def _one_owner(self) -> ArtifactDownloadRequest:
        if (self.jobId is None) == (self.projectId is None):
            raise ValueError("give exactly one of jobId and projectId")
        return self


class ArtifactDownloadResponse(BaseModel):
    token: str
    url: str = Field(description="GET streams the artifact once; HEAD checks the token")
    expiresAt: str
