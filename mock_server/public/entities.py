"""Project reads (API.md part A, "Entity lists"): what a project's finished jobs extracted, as
paginated lists and single entities under `/projects/{projectId}`.

Documented by Plangrep: the thirteen routes, their query parameters, the list envelope and the
single-entity envelopes (`{"sheet": {...}}`, `{"doc": {...}}`, ...). Defined by the mock (see
docs/reading-results.md): the cursor format, the 404 codes (`file_not_found`,
`sheet_not_found`, ...), a single read whose filters the entity does not pass is a 404 like an
unknown id, and filters given to a route that does not take them are ignored. The entities come
from the content model (`mock_server.content`): the same objects the job's result names, each
encoded once and kept, so a page of a 10,000-sheet list costs the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from statemachine import Project

from ..content import Entity, EntityKind, EntityQuery, InvalidQuery, ProjectContent
from ..content.query import APPLICABLE, CLASSIFICATIONS
from ..errors import BadRequest, NotFound, short
from ..http.auth import Principal, get_project_for
from ..http.endpoints import Endpoint, Param
from ..http.pagination import CURSOR_PARAM, LIMIT_PARAM, list_key, paginate, parse_limit
from ..state import STATE_KEY, MockState
from .models import (
    DocEntityResponse,
    DocsListResponse,
    FileEntityResponse,
    FilesListResponse,
    RegionEntityResponse,
    RegionsListResponse,
    SectionEntityResponse,
    SectionsListResponse,
    SheetEntityResponse,
    SheetsListResponse,
    SpecificationEntityResponse,
    SpecificationsListResponse,
)
from .projects import READ

__all__ = ["ENDPOINTS", "SHEETS_PATTERN", "artifact_prefix", "project_content"]

P = "/api/open/v1"
PROJECT = P + "/projects/{projectId}"
_JSON = "application/json"
# What `sheets` takes: sheet ids separated by commas (spaces allowed), or nothing (an empty
# value is no filter, as for every parameter). ASCII only, so Python's re and the OpenAPI
# document's ECMA-262 pattern agree on every input.
SHEETS_PATTERN = r"^([ ,]*[A-Za-z0-9_-]+[ ,A-Za-z0-9_-]*)?$"
_SHEETS = re.compile(SHEETS_PATTERN)
_TYPED = ("classification", "compact", "pageNumber", "pageStart", "pageEnd")


# --------------------------------------------------------------------------- query parameters

_PARAM_DOCS: dict[str, Param] = {
    "compact": Param(
        "compact",
        "true: leave out the artifacts field (no artifact URLs)",
        schema=(("type", "boolean"),),
    ),
    "sheets": Param(
        "sheets",
        "Comma-separated sheet ids: an allowlist (sheets and regions: those sheets; files, "
        "specifications, docs: the files of those sheets)",
        schema=(("type", "string"), ("pattern", SHEETS_PATTERN)),
    ),
    "file_id": Param("fileId", "The parent file's id"),
    "file_name": Param("fileName", "Case-insensitive substring of the parent file's name"),
    "classification": Param(
        "classification",
        "The parent file's classification",
        schema=(("type", "string"), ("enum", list(CLASSIFICATIONS))),
    ),
    "status": Param("status", "The parent file's status (a doc's own status on docs)"),
    "page_number": Param(
        "pageNumber", "1-based page in the file", schema=(("type", "integer"), ("minimum", 1))
    ),
    "sheet_number": Param("sheetNumber", "Exactly this sheet number (A-101)"),
    "sheet_id": Param("sheetId", "The region's sheet"),
    "region_type": Param(
        "regionType", "detail, plan, section, elevation, schedule, title_block, ..."
    ),
    "drawing_type": Param("drawingType", "The sheet's drawing type or discipline"),
    "layout_type": Param("layoutType", "viewport, table or title_block (mock)"),
    "section_number": Param("sectionNumber", "Exactly this section number (03 30 00)"),
    "page_start": Param(
        "pageStart",
        "Starts at or after this 1-based page",
        schema=(("type", "integer"), ("minimum", 1)),
    ),
    "page_end": Param(
        "pageEnd",
        "Ends at or before this 1-based page",
        schema=(("type", "integer"), ("minimum", 1)),
    ),
    "doc_type": Param("docType", "submittal, rfi, report, schedule, addendum"),
}
_ORDER = list(_PARAM_DOCS)
# every query parameter the reads take besides limit and cursor
_FILTER_PARAMS = frozenset(p.name for p in _PARAM_DOCS.values())
_NO_FILTERS = EntityQuery()


def _params(names: frozenset[str] | set[str], *, listing: bool) -> tuple[Param, ...]:
    head = (LIMIT_PARAM, CURSOR_PARAM) if listing else ()
    return (
        *head,
        _PARAM_DOCS["compact"],
        *(_PARAM_DOCS[n] for n in _ORDER if n in names and n != "compact"),
    )


def _query(request: web.Request, drop: frozenset[str] = frozenset()) -> EntityQuery:
    """The documented filters of the request (400 `invalid_filter` naming a bad one)."""
    params: Mapping[str, str] = request.query
    if params.keys().isdisjoint(_FILTER_PARAMS):
        return _NO_FILTERS  # most reads: no filter (the hot path)
    if drop:
        params = {k: v for k, v in params.items() if k not in drop}
    sheets = params.get("sheets")
    try:
        for name in _TYPED:
            if params.get(name) == "":
                # an empty string is no number, boolean or classification (an empty string
                # parameter is no filter)
                raise InvalidQuery(field=name, message="must not be empty")
        if sheets and not _SHEETS.fullmatch(sheets):
            raise InvalidQuery(
                field="sheets",
                message=f"must be sheet ids separated by commas, got {short(sheets, 60)!r}",
            )
        return EntityQuery.from_params(params)
    except InvalidQuery as exc:
        raise BadRequest(
            code="invalid_filter",
            message=f"the query parameter {exc.field} {exc.message}",
            fields={"field": exc.field},
        ) from None


def _filters(kind: EntityKind, query: EntityQuery) -> dict[str, object]:
    """The filters that apply to `kind`, normalized (for the cursor's list identity)."""
    out: dict[str, object] = {}
    for name in query.given():
        if name in APPLICABLE[kind]:
            value = getattr(query, name)
            out[name] = ",".join(sorted(value)) if isinstance(value, frozenset) else value
    return out


# --------------------------------------------------------------------------- shared reads


def project_content(request: web.Request, principal: Principal) -> tuple[Project, ProjectContent]:
    """The caller's project (404 for an unknown or another organisation's) and its entities."""
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    return project, state.content.project(state.engine, project)


def artifact_prefix(state: MockState, project_id: str) -> str:
    """What goes before an artifact path in a project entity's artifact URL."""
    return f"{state.storage.origin or ''}{P}/projects/{project_id}/artifact?path="


def _prefix(request: web.Request, project_id: str, query: EntityQuery) -> str | None:
    return None if query.compact else artifact_prefix(request.app[STATE_KEY], project_id)


def _list_response(
    request: web.Request,
    content: ProjectContent,
    kind: EntityKind,
    scope: str,
    query: EntityQuery,
    select: Callable[[], Sequence[Entity]],
) -> web.Response:
    """A page of the entities `select` gives (already filtered) in the documented envelope,
    the entities spliced in from their kept encodings. The body depends only on the request
    and on the content, which never changes, so it is kept and a page asked for again costs a
    look-up (an invalid cursor raises before anything is kept)."""
    identity = list_key(kind.value, scope, _filters(kind, query))
    limit = parse_limit(request.query.get("limit"))
    cursor = request.query.get("cursor")
    prefix = _prefix(request, content.project_id, query)
    key = (identity, cursor, limit, prefix)
    body = content.kept_body(key)
    if body is None:
        page = paginate(select(), list_key=identity, limit=limit, cursor=cursor)
        head = json.dumps(page.envelope(kind.value, None), separators=(",", ":")).encode()
        assert head.endswith(b"null}")
        body = head[:-5] + content.encode_list(page.items, prefix) + b"}"
        content.keep_body(key, body)
    return web.Response(body=body, content_type=_JSON)


def _single_response(
    request: web.Request, content: ProjectContent, key: str, entity: Entity, query: EntityQuery
) -> web.Response:
    body = (
        b'{"'
        + key.encode()
        + b'":'
        + content.encode(entity, _prefix(request, content.project_id, query))
        + b"}"
    )
    return web.Response(body=body, content_type=_JSON)


def _not_found(what: str, entity_id: str, project_id: str, why: str = "") -> NotFound:
    hint = (
        "read it without them, or list the entities that pass them"
        if why.startswith(" that passes")
        else "entities appear when the job that extracted them ends completed or "
        "completed_with_errors; list them to see their ids"
    )
    return NotFound(
        code=f"{what}_not_found",
        message=f"no {what} {short(entity_id)} in project {project_id}{why}; {hint}",
    )


# --------------------------------------------------------------------------- routes


@dataclass(frozen=True, slots=True)
class _List:
    kind: EntityKind
    path: str
    operation_id: str
    summary: str
    model: type[BaseModel]


@dataclass(frozen=True, slots=True)
class _Single:
    kind: EntityKind
    key: str  # the envelope's member: sheet, region, ...
    param: str  # the path parameter of the id
    path: str
    operation_id: str
    summary: str
    model: type[BaseModel]


_LISTS = (
    _List(EntityKind.FILES, "/files", "listProjectFiles", "The project's files",
          FilesListResponse),
    _List(EntityKind.SHEETS, "/sheets", "listProjectSheets", "The project's sheets",
          SheetsListResponse),
    _List(EntityKind.REGIONS, "/regions", "listProjectRegions", "The project's drawing regions",
          RegionsListResponse),
    _List(EntityKind.SPECIFICATIONS, "/specifications", "listProjectSpecifications",
          "The project's specification sections (CSI MasterFormat)", SpecificationsListResponse),
    _List(EntityKind.DOCS, "/docs", "listProjectDocs",
          "The project's docs (submittals, RFIs, ...)", DocsListResponse),
)  # fmt: skip

_SINGLES = (
    _Single(EntityKind.FILES, "file", "fileId", "/files/{fileId}", "getProjectFile",
            "One file of the project", FileEntityResponse),
    _Single(EntityKind.SHEETS, "sheet", "sheetId", "/sheets/{sheetId}", "getProjectSheet",
            "One sheet of the project", SheetEntityResponse),
    _Single(EntityKind.REGIONS, "region", "regionId", "/regions/{regionId}", "getProjectRegion",
            "One drawing region of the project", RegionEntityResponse),
    _Single(EntityKind.SPECIFICATIONS, "specification", "specificationId",
            "/specifications/{specificationId}", "getProjectSpecification",
            "One specification section of the project", SpecificationEntityResponse),
    _Single(EntityKind.DOCS, "doc", "docId", "/docs/{docId}", "getProjectDoc",
            "One doc of the project", DocEntityResponse),
)  # fmt: skip

_NO_DROP: frozenset[str] = frozenset()
# the sheet's regions route takes the regions filters but `sheets` (the docs) and `sheetId`
# (the path names the sheet)
_SHEET_REGIONS_DROP = frozenset({"sheets", "sheetId"})
_SHEET_REGIONS_DROP_FIELDS = frozenset({"sheets", "sheet_id"})


def _list_handler(spec: _List) -> Callable[[web.Request, Principal], Any]:
    async def handler(request: web.Request, principal: Principal) -> web.Response:
        project, content = project_content(request, principal)
        query = _query(request)
        return _list_response(
            request, content, spec.kind, project.id, query,
            lambda: content.select(spec.kind, query),
        )  # fmt: skip

    handler.__name__ = spec.operation_id
    return handler


def _single_handler(spec: _Single) -> Callable[[web.Request, Principal], Any]:
    async def handler(request: web.Request, principal: Principal) -> web.Response:
        project, content = project_content(request, principal)
        query = _query(request)
        entity_id = request.match_info[spec.param]
        entity = content.get(spec.kind, entity_id)
        if entity is None:
            raise _not_found(spec.key, entity_id, project.id)
        if not content.matches(spec.kind, entity, query):
            given = ", ".join(_PARAM_DOCS[n].name for n in _filters(spec.kind, query))
            why = f" that passes the filters given ({given})"
            raise _not_found(spec.key, entity_id, project.id, why)
        return _single_response(request, content, spec.key, entity, query)

    handler.__name__ = spec.operation_id
    return handler


async def list_sheet_regions(request: web.Request, principal: Principal) -> web.Response:
    project, content = project_content(request, principal)
    query = _query(request, _SHEET_REGIONS_DROP)
    sheet_id = request.match_info["sheetId"]
    regions = content.regions_of(sheet_id)
    if regions is None:
        raise _not_found("sheet", sheet_id, project.id)
    scope = f"{project.id}/sheets/{sheet_id}"
    return _list_response(
        request, content, EntityKind.REGIONS, scope, query,
        lambda: content.select(EntityKind.REGIONS, query, regions),
    )  # fmt: skip


async def list_spec_sections(request: web.Request, principal: Principal) -> web.Response:
    project, content = project_content(request, principal)
    query = _query(request)
    spec_id = request.match_info["specId"]
    sections = content.sections_of(spec_id)
    if sections is None:
        raise _not_found("specification", spec_id, project.id)
    scope = f"{project.id}/specifications/{spec_id}"
    return _list_response(
        request, content, EntityKind.SECTIONS, scope, query,
        lambda: content.select(EntityKind.SECTIONS, query, sections),
    )  # fmt: skip


async def get_spec_section(request: web.Request, principal: Principal) -> web.Response:
    """The docs take only `compact` here: other filters are ignored."""
    project, content = project_content(request, principal)
    query = _query(request)
    spec_id = request.match_info["specId"]
    section_id = request.match_info["sectionId"]
    if content.sections_of(spec_id) is None:
        raise _not_found("specification", spec_id, project.id)
    section = content.section(spec_id, section_id)
    if section is None:
        why = (
            f" (an outline-only heading of {spec_id}: only CSI-like sections have a detail)"
            if content.is_outline_only(section_id)
            else f" under specification {spec_id}"
        )
        raise _not_found("section", section_id, project.id, why)
    return _single_response(request, content, "section", section, query)


# --------------------------------------------------------------------------- declarations


def _list_endpoint(spec: _List) -> Endpoint:
    return Endpoint(
        "GET", PROJECT + spec.path, _list_handler(spec), spec.operation_id,
        spec.summary + ", a page at a time", 200, spec.model, scope=READ,
        errors=(400, 404, 422), query=_params(APPLICABLE[spec.kind], listing=True),
    )  # fmt: skip


def _single_endpoint(spec: _Single) -> Endpoint:
    return Endpoint(
        "GET", PROJECT + spec.path, _single_handler(spec), spec.operation_id, spec.summary,
        200, spec.model, scope=READ, errors=(400, 404),
        query=_params(APPLICABLE[spec.kind], listing=False),
    )  # fmt: skip


ENDPOINTS = [
    *(_list_endpoint(s) for s in _LISTS),
    Endpoint(
        "GET", PROJECT + "/sheets/{sheetId}/regions", list_sheet_regions,
        "listProjectSheetRegions", "One sheet's drawing regions, a page at a time", 200,
        RegionsListResponse, scope=READ, errors=(400, 404, 422),
        query=_params(APPLICABLE[EntityKind.REGIONS] - _SHEET_REGIONS_DROP_FIELDS, listing=True),
    ),
    Endpoint(
        "GET", PROJECT + "/specifications/{specId}/sections", list_spec_sections,
        "listProjectSpecificationSections",
        "A specification's CSI-like sections (outline-only headings left out), a page at a time",
        200, SectionsListResponse, scope=READ, errors=(400, 404, 422),
        query=_params(APPLICABLE[EntityKind.SECTIONS], listing=True),
    ),
    *(_single_endpoint(s) for s in _SINGLES),
    Endpoint(
        "GET", PROJECT + "/specifications/{specId}/sections/{sectionId}", get_spec_section,
        "getProjectSpecificationSection",
        "One CSI-like section with its full text (404 for an outline-only heading)", 200,
        SectionEntityResponse, scope=READ, errors=(400, 404), query=_params(set(), listing=False),
    ),
]  # fmt: skip
