"""Projects (API.md part A, "Projects"): create, list, read, and the project summary."""

from __future__ import annotations

from aiohttp import web

from statemachine import CommandRejected

from ..errors import Conflict, json_response
from ..http.auth import Principal, get_project_for
from ..http.body import read_json
from ..http.endpoints import Endpoint, Param
from ..http.pagination import CURSOR_PARAM, LIMIT_PARAM, list_key, paginate, parse_limit
from ..state import STATE_KEY
from .models import CreateProjectRequest, ProjectCreateResponse, ProjectResponse, ProjectsResponse
from .serialize import charge_json, project_json

__all__ = ["ENDPOINTS", "READ", "WRITE"]

READ = "jobs:read"
WRITE = "jobs:write"
P = "/api/open/v1"


async def create_project(request: web.Request, principal: Principal) -> web.Response:
    body = await read_json(request, CreateProjectRequest)
    state = request.app[STATE_KEY]
    try:
        project, charge = state.engine.create_project(principal.org, body.name)
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
