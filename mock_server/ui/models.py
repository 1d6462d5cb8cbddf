"""Bodies of the dashboard's reads (the OpenAPI document is generated from them) and the query
of the compact job list, validated once here and described from the same model."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from statemachine import JobStatus

from ..errors import ValidationFailed
from ..http.body import validation_details

__all__ = [
    "JobListQuery",
    "MockAccountRow",
    "MockAccountsResponse",
    "MockJobListResponse",
    "MockJobRow",
    "MockMachineResponse",
    "MockMachineTransition",
    "MockProjectRow",
    "MockProjectsResponse",
    "MockRuleRow",
    "MockRulesResponse",
    "QueryInt",
    "parse_query",
    "query_params",
]

_STATUS = "|".join(s.value for s in JobStatus)
# one status or a comma list of them
STATUS_LIST_PATTERN = rf"^({_STATUS})(,({_STATUS}))*$"
MAX_PAGE = 500
M = TypeVar("M", bound=BaseModel)
_DIGITS = re.compile(r"-?[0-9]{1,12}")


def _whole_number(value: Any) -> Any:
    """A query integer is written in digits: not ' 5', '5.0', '1_0' or '+5'."""
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("must be a whole number written in digits")
    return value


QueryInt = Annotated[int, BeforeValidator(_whole_number)]


class JobListQuery(BaseModel):
    """`GET /_mock/jobs` query: filters, then one page of the matching jobs, newest first."""

    model_config = ConfigDict(extra="ignore")

    status: str | None = Field(
        None,
        pattern=STATUS_LIST_PATTERN,
        description="only jobs in this status (a comma list: any of them)",
    )
    q: str | None = Field(
        None,
        max_length=200,
        description="case-insensitive part of the job id or the external id",
    )
    projectId: str | None = Field(None, max_length=200, description="only this project's jobs")
    offset: QueryInt = Field(0, ge=0, le=1_000_000_000, description="matching jobs to skip")
    limit: QueryInt = Field(100, ge=1, le=MAX_PAGE, description=f"jobs in the page (1-{MAX_PAGE})")

    @property
    def statuses(self) -> frozenset[str] | None:
        return frozenset(self.status.split(",")) if self.status else None


def parse_query(model: type[M], query: Any) -> M:
    """The query string as `model`; a 422 `validation_error` naming each bad parameter."""
    try:
        return model.model_validate(dict(query))
    except ValidationError as exc:
        details = validation_details(exc, root="(query)")
        first = details[0]
        raise ValidationFailed(
            details=details,
            message=f"invalid query parameter {first['field']}: {first['message']}",
        ) from None


def query_params(model: type[BaseModel]) -> tuple[tuple[str, str, dict[str, Any]], ...]:
    """(name, description, JSON schema) of each query parameter, for the OpenAPI document."""
    props = model.model_json_schema()["properties"]
    out = []
    for name, schema in props.items():
        schema = dict(schema)
        description = schema.pop("description", "")
        schema.pop("title", None)
        schema.pop("default", None)
        if "anyOf" in schema:  # `X | None`: a query parameter is absent, never null
            schema = next(s for s in schema.pop("anyOf") if s.get("type") != "null") | schema
        out.append((name, description, schema))
    return tuple(out)


class MockJobRow(BaseModel):
    """A job as one row of the dashboard's table."""

    id: str
    projectId: str
    organisation: str
    externalId: str | None
    scenario: str
    status: str
    pagesDone: int
    pageCount: int
    creditsReserved: int
    creditsDebited: int
    createdAt: str
    updatedAt: str


class MockJobListResponse(BaseModel):
    jobs: list[MockJobRow]
    total: int = Field(description="jobs matching the filters")
    offset: int
    limit: int
    totalJobs: int = Field(description="every job on the server")
    counts: dict[str, int] = Field(
        description="per status, jobs matching the filters other than status"
    )
    now: str


class MockProjectRow(BaseModel):
    id: str
    name: str
    organisation: str
    status: str
    jobs: int
    createdAt: str


class MockProjectsResponse(BaseModel):
    projects: list[MockProjectRow]


class MockAccountRow(BaseModel):
    organisation: str
    balance: int
    profile: dict[str, int]
    apiKeys: list[str] = Field(
        description="keys of this organisation (PUT /_mock/accounts/{apiKey}/credits takes any)"
    )


class MockAccountsResponse(BaseModel):
    accounts: list[MockAccountRow]


class MockMachineTransition(BaseModel):
    event: str
    from_: list[str] = Field(alias="from")
    to: str


class MockMachineResponse(BaseModel):
    initial: str
    statuses: list[str]
    terminal: list[str]
    transitions: list[MockMachineTransition]
    allowed: dict[str, list[str]] = Field(description="per status, the events it accepts")
    mermaid: str


class MockRuleRow(BaseModel):
    id: str
    family: str
    text: str
    source: str
    server: bool


class MockRulesResponse(BaseModel):
    rules: list[MockRuleRow]
