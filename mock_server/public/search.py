"""Source search, source text and project search (API.md part A, "After the result").

Documented by Plangrep: the three routes, their bodies and limits (`query` >= 1 character,
`maxHits` 1-50, `maxChars` 1-50,000, project search `limit` 1-100 default 25), the filters, the
hit fields (`score`, `snippet`, `sourceCatalogUri`, `source`), the response fields `status`,
`query`, `hitCount`, the count of chunks searched, `hits`; source text's `status`, `source`,
`sourceCatalogUri`, `text`, `nextCursor`; project search's echoed query, list envelope and
`warnings`; 409 while a project's index is being built.

Defined by the mock: the engine (`mock_server.search`, SQLite FTS5 with bm25; docs/search.md),
how content becomes sources (`indexing.py`), `status` "ok" (the guide's example; the API
reference says "e.g. success"), the names `searchedChunkCount` and `results`, the paging fields
of source text, `warnings` on source search, 422 `validation_error` for bad bodies (the
reference lists 400), 409 `index_not_ready` with `Retry-After` (currentStatus `indexing`),
404 `source_not_found`, 400 `invalid_cursor`. `reviewId` is accepted and ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from statemachine import Project, format_time

from ..contract.rules import SeenIndex, judge_index_retry
from ..errors import ApiError, BadRequest, Conflict, NotFound, field_error, json_response
from ..http.auth import Principal, get_project_for
from ..http.body import json_integer, read_json
from ..http.endpoints import Endpoint
from ..http.pagination import list_key, paginate
from ..search import (
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_HITS,
    MAX_CHARS,
    MAX_HITS,
    IndexNotReady,
    InvalidCursor,
    SearchError,
    SearchFilters,
    SearchValidationError,
    SourceNotFound,
)
from ..state import STATE_KEY, MockState
from .models import Classification, ProjectModel
from .projects import READ
from .serialize import project_json

__all__ = [
    "ENDPOINTS",
    "INDEX_STATUS",
    "ProjectSearchRequest",
    "ProjectSearchResponse",
    "SourceSearchRequest",
    "SourceSearchResponse",
    "SourceTextRequest",
    "SourceTextResponse",
]

P = "/api/open/v1"
OK = "ok"
INDEX_STATUS = "indexing"  # the currentStatus of a 409 index_not_ready
DEFAULT_PROJECT_LIMIT = 25
MAX_PROJECT_LIMIT = 100
_TEXT = 200  # filter values and ids: longer ones name nothing
_QUERY = 10_000
_MAX_PAGE = 1_000_000  # pageNumber: SQLite integers stop at 2**63


# --------------------------------------------------------------------------- requests

# optional bounded JSON integers (see http/body.py: the bounds come before the validator)
PageNumber = Annotated[int, Field(strict=True, ge=1, le=_MAX_PAGE), BeforeValidator(json_integer)]
MaxHits = Annotated[int, Field(strict=True, ge=1, le=MAX_HITS), BeforeValidator(json_integer)]
MaxChars = Annotated[int, Field(strict=True, ge=1, le=MAX_CHARS), BeforeValidator(json_integer)]
Limit = Annotated[
    int, Field(strict=True, ge=1, le=MAX_PROJECT_LIMIT), BeforeValidator(json_integer)
]


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class _Filters(_Request):
    regionType: str | None = Field(None, max_length=_TEXT, description="e.g. detail, plan")
    layoutType: str | None = Field(None, max_length=_TEXT)
    drawingType: str | None = Field(None, max_length=_TEXT)
    sheetNumber: str | None = Field(None, max_length=_TEXT, description="the whole number")
    fileName: str | None = Field(
        None, max_length=_TEXT, description="case-insensitive substring of the file name"
    )
    pageNumber: PageNumber | None = Field(None, description="1-based")
    classification: Classification | None = None

    def filters(self) -> SearchFilters:
        return SearchFilters(
            region_type=self.regionType,
            layout_type=self.layoutType,
            drawing_type=self.drawingType,
            sheet_number=self.sheetNumber,
            file_name=self.fileName,
            page_number=self.pageNumber,
            classification=self.classification,
        )


SourceTypeName = Literal["region", "specification", "doc"]


class SourceSearchRequest(_Filters):
    query: str = Field(min_length=1, max_length=_QUERY)
    reviewId: str | None = Field(None, max_length=_TEXT, description="accepted, ignored")
    entityTypes: list[SourceTypeName] | None = Field(
        None, max_length=10, description="none or empty: every type"
    )
    maxHits: MaxHits | None = Field(None, description=f"default {DEFAULT_MAX_HITS}")


TextKindName = Literal["text", "markdown", "page_regions", "facet_source_text", "facet_match_text"]
FACET_KINDS = ("facet_source_text", "facet_match_text")


class SourceTextRequest(_Request):
    # facetId goes with the facet kinds and only with them (the handler checks the same rule)
    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        json_schema_extra={
            "if": {
                "properties": {"textKind": {"enum": list(FACET_KINDS)}},
                "required": ["textKind"],
            },
            "then": {"properties": {"facetId": {"type": "string"}}, "required": ["facetId"]},
            "else": {"properties": {"facetId": {"type": "null"}}},
        },
    )

    sourceCatalogUri: str = Field(min_length=1, max_length=2_000)
    reviewId: str | None = Field(None, max_length=_TEXT, description="accepted, ignored")
    cursor: str | None = Field(None, min_length=1, max_length=_TEXT)
    maxChars: MaxChars | None = Field(None, description=f"default {DEFAULT_MAX_CHARS}")
    facetId: str | None = Field(
        None, max_length=_TEXT, description="only with facet_source_text or facet_match_text"
    )
    textKind: TextKindName = "text"


class ProjectSearchRequest(_Filters):
    query: str = Field(min_length=1, max_length=_QUERY)
    projectIds: list[str] | None = Field(None, max_length=1_000)
    limit: Limit | None = Field(None, description=f"default {DEFAULT_PROJECT_LIMIT}")
    cursor: str | None = Field(None, min_length=1, max_length=_TEXT)
    entityTypes: list[str] | None = Field(
        None, max_length=20, description="other values than region, specification, doc: ignored"
    )


# --------------------------------------------------------------------------- responses


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class SourceHit(_Response):
    score: float = Field(description="in (0, 1), higher is better; >= 0.5: every term")
    snippet: str
    sourceCatalogUri: str
    source: dict[str, Any] = Field(description="type (region, specification, doc) and its ids")


class SourceSearchResponse(_Response):
    status: Literal["ok"]
    query: str
    hitCount: int
    searchedChunkCount: int
    hits: list[SourceHit]
    warnings: list[str]


class SourceTextResponse(_Response):
    status: Literal["ok"]
    sourceCatalogUri: str
    source: dict[str, Any]
    textKind: TextKindName
    facetId: str | None
    text: str
    cursor: str | None
    nextCursor: str | None
    offset: int
    returnedChars: int
    totalChars: int
    truncated: bool


class MatchReason(_Response):
    type: Literal["name", "alias", "sheet", "sources"]
    text: str


class ProjectMatchModel(_Response):
    project: ProjectModel
    projectId: str
    score: float
    matchReasons: list[MatchReason]
    sourceHits: list[SourceHit]


class PageInfo(_Response):
    startCursor: str | None
    endCursor: str | None
    hasPreviousPage: bool
    hasNextPage: bool


class ProjectSearchResponse(_Response):
    query: str
    results: list[ProjectMatchModel]
    total: int
    limit: int
    cursor: str | None
    nextCursor: str | None
    returnedCount: int
    hasMore: bool
    pageInfo: PageInfo
    warnings: list[str]


# --------------------------------------------------------------------------- errors


def api_error(exc: SearchError) -> ApiError:
    """The API's answer to an error of the search package."""
    if isinstance(exc, IndexNotReady):
        return Conflict(
            code="index_not_ready",
            message=str(exc),
            current_status=INDEX_STATUS,
            headers={"Retry-After": str(exc.retry_after)},
            fields={"retryAfterSeconds": exc.retry_after, "readyAt": format_time(exc.ready_at)},
        )
    if isinstance(exc, SearchValidationError):
        return field_error(exc.field, exc.detail)
    if isinstance(exc, InvalidCursor):
        return BadRequest(code="invalid_cursor", message=str(exc))
    if isinstance(exc, SourceNotFound):
        return NotFound(code="source_not_found", message=str(exc))
    raise exc  # SearchUnavailable: a setup error, answered as the bug it is


# --------------------------------------------------------------------------- handlers


def _judge_retry(state: MockState, principal: Principal, project: Project) -> SeenIndex:
    """Record a source search sooner than the Retry-After of this key's last 409 for the
    project (the contract rule `index_retry_too_fast`; the answer is not changed), and return
    what the key was told of the project's index, for this answer to update."""
    seen = state.polls.index_of(principal.api_key, project.id)
    finding = judge_index_retry(seen, state.engine.now)
    if finding is not None:
        facts = finding.facts
        state.violations.record(
            finding.rule,
            at=state.engine.now,
            api_key=principal.api_key,
            project_id=project.id,
            message=f"project {project.id} was searched {facts['gap']:.1f} s after a 409 "
            f"index_not_ready that asked to retry after {facts['retryAfter']:.0f} s; wait for "
            "Retry-After before searching again",
        )
    return seen


async def source_search(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    body = await read_json(request, SourceSearchRequest)
    now = state.engine.now
    seen = _judge_retry(state, principal, project)
    indexes = state.search.indexes
    try:
        indexes.readiness(project.id).check(now)
        state.search.ensure(state.engine, project)
        result = indexes.search(
            project.id,
            body.query,
            now=now,
            max_hits=DEFAULT_MAX_HITS if body.maxHits is None else body.maxHits,
            entity_types=body.entityTypes,
            filters=body.filters(),
        )
    except IndexNotReady as exc:
        seen.answered(now, retry_after=exc.retry_after)
        raise api_error(exc) from None
    except SearchError as exc:
        raise api_error(exc) from None
    seen.answered(now)
    return json_response(
        {
            "status": OK,
            "query": body.query,
            "hitCount": result.hit_count,
            "searchedChunkCount": result.chunks_searched,
            "hits": [h.to_wire() for h in result.hits],
            "warnings": list(result.warnings),
        }
    )


async def source_text(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    body = await read_json(request, SourceTextRequest)
    if body.textKind in FACET_KINDS and body.facetId is None:
        raise field_error("facetId", f"textKind {body.textKind} needs the facetId of a facet")
    if body.textKind not in FACET_KINDS and body.facetId is not None:
        raise field_error(
            "facetId", f"applies to textKind {' or '.join(FACET_KINDS)}, not {body.textKind}"
        )
    try:
        page = state.search.ensure(state.engine, project).source_text(
            project.id,
            body.sourceCatalogUri,
            text_kind=body.textKind,
            facet_id=body.facetId,
            max_chars=DEFAULT_MAX_CHARS if body.maxChars is None else body.maxChars,
            cursor=body.cursor,
        )
    except SearchError as exc:
        raise api_error(exc) from None
    return json_response({"status": OK, **page.to_wire()})


async def search_projects(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json(request, ProjectSearchRequest)
    mine = state.engine.projects_by_org.get(principal.org, [])
    by_id = {p.id: p for p in mine}
    warnings: list[str] = []
    scope = mine
    if body.projectIds is not None:
        wanted = list(dict.fromkeys(body.projectIds))
        scope = [by_id[p] for p in wanted if p in by_id]
        unknown = [p for p in wanted if p not in by_id]
        if unknown:
            # the same words for another organisation's project and for none at all
            shown = ", ".join(repr(p[:40]) for p in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            warnings.append(
                f"projectIds {shown}{more} are not projects of this organisation; ignored"
            )
    for project in scope:
        state.search.ensure(state.engine, project)
    try:
        found = state.search.indexes.search_projects(
            body.query,
            project_ids=[p.id for p in scope],
            now=state.engine.now,
            entity_types=body.entityTypes,
            filters=body.filters(),
        )
    except SearchError as exc:
        raise api_error(exc) from None
    identity = body.model_dump(exclude={"limit", "cursor", "reviewId"}, exclude_none=True)
    page = paginate(
        found.matches,
        list_key=list_key("project-search", principal.org, identity),
        limit=DEFAULT_PROJECT_LIMIT if body.limit is None else body.limit,
        cursor=body.cursor,
    )
    results = [
        {"project": project_json(state, by_id[m.project_id]), **m.to_wire()} for m in page.items
    ]
    return json_response(
        {
            "query": body.query,
            **page.envelope("results", results),
            "warnings": [*warnings, *found.warnings],
        }
    )


ENDPOINTS = [
    Endpoint(
        "POST", P + "/projects/search", search_projects, "searchProjects",
        "Which of the organisation's projects match a query, and why", 200,
        ProjectSearchResponse, scope=READ, errors=(400,), body=ProjectSearchRequest,
        body_kind="json", body_required=True,
    ),
    Endpoint(
        "POST", P + "/projects/{projectId}/source-search", source_search, "searchSources",
        "Ranked source hits in one project (409 while its index is being built)", 200,
        SourceSearchResponse, scope=READ, errors=(404, 409), body=SourceSearchRequest,
        body_kind="json", body_required=True, retry_after=(409,),
    ),
    Endpoint(
        "POST", P + "/projects/{projectId}/source-text", source_text, "readSourceText",
        "The text of a source hit, in bounded pages", 200, SourceTextResponse, scope=READ,
        errors=(400, 404), body=SourceTextRequest, body_kind="json", body_required=True,
    ),
]  # fmt: skip
