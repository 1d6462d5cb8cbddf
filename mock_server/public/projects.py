"""Projects (API.md part A, "Projects"): create, list, read, and the project summary."""

from __future__ import annotations

from aiohttp import web

from statemachine import CommandRejected, Scenario, UnknownScenario

from ..errors import Conflict, ValidationFailed, json_response, short
from ..http.auth import Principal, get_project_for
from ..http.body import read_json
from ..http.endpoints import Endpoint, Param
from ..http.pagination import CURSOR_PARAM, LIMIT_PARAM, list_key, paginate, parse_limit
from ..state import STATE_KEY, MockState
from .models import CreateProjectRequest, ProjectCreateResponse, ProjectResponse, ProjectsResponse
from .serialize import charge_json, project_json

__all__ = ["ENDPOINTS", "READ", "SCENARIO_HEADER", "WRITE", "scenario_header"]

READ = "jobs:read"
WRITE = "jobs:write"
P = "/api/open/v1"
SCENARIO_HEADER = "X-Mock-Scenario"


def scenario_header(request: web.Request, state: MockState) -> Scenario | None:
    """The scenario named by `X-Mock-Scenario` (None without the header); 422 for an unknown
    name, listing the known ones."""
    name = request.headers.get(SCENARIO_HEADER)
    if name is None:
        return None
    try:
        return state.scenarios.get(name)
    except UnknownScenario as exc:
        raise ValidationFailed(
            message=f"unknown scenario {short(name, 64)!r} in {SCENARIO_HEADER}; known "
            f"scenarios: {', '.join(exc.known)}",
            details=[{"field": SCENARIO_HEADER, "message": f"known: {', '.join(exc.known)}"}],
        ) from None


async def create_project(request: web.Request, principal: Principal) -> web.Response:
    body = await read_json(request, CreateProjectRequest)
    state = request.app[STATE_KEY]
    scenario = scenario_header(request, state)
    try:
        project, charge = state.engine.create_project(principal.org, body.name, scenario=scenario)
    except CommandRejected as exc:
        raise Conflict(code=exc.code, message=str(exc), current_status=exc.status) from None
    return json_response(
        {"project": project_json(state, project), "billing": charge_json(charge)}, status=202
    )


async def list_projects(request: web.Request, principal: Principal) -> web.Response:
    """Every project of the caller's organisation (its own list: no scan of other
    organisations'). Plangrep documents no query parameters; the mock also takes `limit` and
    `cursor` and then answers the list envelope of the entity lists beside `projects`."""
    state = request.app[STATE_KEY]
    projects = state.engine.projects_by_org.get(principal.org, [])
    query = request.query
    if "limit" not in query and "cursor" not in query:
        return json_response({"projects": [project_json(state, p) for p in projects]})
    page = paginate(
        projects,
        list_key=list_key("projects", principal.org, {}),
        limit=parse_limit(query.get("limit")),
        cursor=query.get("cursor"),
    )
    return json_response(page.envelope("projects", [project_json(state, p) for p in page.items]))


async def get_project(request: web.Request, principal: Principal) -> web.Response:
    project = get_project_for(request, principal, request.match_info["projectId"])
    return json_response({"project": project_json(request.app[STATE_KEY], project)})


ENDPOINTS = [
    Endpoint(
        "POST", P + "/projects", create_project, "createProject",
        "Create a project (charges credits)", 202, ProjectCreateResponse, scope=WRITE,
        errors=(409,), body=CreateProjectRequest, body_kind="json", body_required=True,
        headers=(
            Param(
                SCENARIO_HEADER,
                "The mock's scenario for this project: its provisioning delay and runtime "
                "upgrade (not part of Plangrep)",
            ),
        ),
    ),
    Endpoint(
        "GET", P + "/projects", list_projects, "listProjects",
        "List the organisation's projects", 200, ProjectsResponse, scope=READ, errors=(400, 422),
        query=(
            Param(
                "limit",
                "Defined by the mock: page size 1-500 (default: every project at once)",
                schema=LIMIT_PARAM.schema,
            ),
            CURSOR_PARAM,
        ),
    ),
    Endpoint(
        "GET", P + "/projects/{projectId}", get_project, "getProject", "Get a project",
        200, ProjectResponse, scope=READ, errors=(404,),
        # `search` is POST /projects/search's, not a project id: GET on it is a 405
        route=P + "/projects/{projectId:(?!search$)[^{}/]+}",
    ),
]  # fmt: skip
