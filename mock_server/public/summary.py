"""The project summary (API.md part A, "After the result"): what the project's finished jobs
extracted, at a glance. Documented by Plangrep: the route and the fields projectId,
projectName, aliases, titleCandidates, keyFiles and detectedDisciplines; the counts' names and
how the lists are chosen are defined by the mock (`content.project`)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ..errors import json_response
from ..http.auth import Principal, get_project_for
from ..http.endpoints import Endpoint
from ..state import STATE_KEY
from .models import ProjectModel
from .projects import READ
from .serialize import project_json

__all__ = ["ENDPOINTS", "ProjectSummaryResponse"]


class KeyFile(BaseModel):
    id: str
    fileName: str
    classification: str


class ProjectSummary(BaseModel):
    model_config = ConfigDict(extra="allow")  # the counts

    projectId: str
    projectName: str
    aliases: list[str]
    titleCandidates: list[str]
    keyFiles: list[KeyFile]
    detectedDisciplines: list[str]


class ProjectSummaryResponse(BaseModel):
    project: ProjectModel
    projectSummary: ProjectSummary


async def get_summary(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    content = state.content.project(state.engine, project)
    return json_response(
        {"project": project_json(state, project), "projectSummary": content.summary()}
    )


ENDPOINTS = [
    Endpoint(
        "GET", "/api/open/v1/projects/{projectId}/summary", get_summary, "getProjectSummary",
        "What the project's finished jobs extracted: names, key files, disciplines, counts",
        200, ProjectSummaryResponse, scope=READ, errors=(404,),
    ),
]  # fmt: skip
