"""Forced events on jobs and projects (409 when the machine forbids them), and a job as the
mock sees it: its history, deliveries and scenario."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from statemachine import (
    InvalidTransition,
    Job,
    JobEvent,
    ProjectEvent,
    TransitionRecord,
    format_time,
)

from ..errors import NotFound, field_error, invalid_transition, json_response, short
from ..http.body import read_json
from ..http.endpoints import Endpoint
from ..public.serialize import job_json, project_json
from ..state import STATE_KEY, MockState
from .models import (
    EventRequest,
    JobEventRequest,
    MockForcedJobResponse,
    MockForcedProjectResponse,
    MockJobResponse,
    ProjectEventRequest,
)
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS", "control_job", "history_json", "record_json"]


def record_json(rec: TransitionRecord) -> dict[str, Any]:
    return {
        "kind": rec.kind,
        "objectId": rec.object_id,
        "event": rec.event,
        "from": rec.src,
        "to": rec.dst,
        "at": format_time(rec.at),
        "sequence": rec.sequence,
        "forced": rec.forced,
    }


def history_json(rec: TransitionRecord) -> dict[str, Any]:
    return {
        "from": rec.src,
        "to": rec.dst,
        "event": rec.event,
        "at": format_time(rec.at),
        "sequence": rec.sequence,
        "forced": rec.forced,
    }


def control_job(state: MockState, job_id: str) -> Job:
    """Any job on the server (the control API is not scoped to an organisation); 404 else."""
    job = state.engine.jobs.get(job_id)
    if job is None:
        raise NotFound(code="job_not_found", message=f"no job {short(job_id)} on this server")
    return job


async def _force(
    request: web.Request,
    kind: str,
    events: list[str],
    fire: Callable[[str], TransitionRecord],
) -> TransitionRecord:
    """Read a forced event (422 when it is not one of `events`) and fire it (409 when the
    object's status does not allow it)."""
    body = await read_json(request, EventRequest)
    if body.event not in events:
        raise field_error("event", f"unknown {kind} event; known: {', '.join(events)}")
    try:
        return fire(body.event)
    except InvalidTransition as exc:
        raise invalid_transition(exc) from None


async def force_job_event(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    job = control_job(state, request.match_info["jobId"])
    events = [e.value for e in JobEvent]
    rec = await _force(request, "job", events, lambda event: state.engine.force_job(job, event))
    return json_response({"job": job_json(state, job), "transition": record_json(rec)})


async def force_project_event(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    project_id = request.match_info["projectId"]
    project = state.engine.projects.get(project_id)
    if project is None:
        raise NotFound(
            code="project_not_found", message=f"no project {short(project_id)} on this server"
        )
    events = [e.value for e in ProjectEvent]
    rec = await _force(
        request, "project", events, lambda event: state.engine.force_project(project, event)
    )
    return json_response({"project": project_json(state, project), "transition": record_json(rec)})


async def get_mock_job(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    job = control_job(state, request.match_info["jobId"])
    return json_response(
        {
            "job": job_json(state, job),
            "history": [history_json(r) for r in job.history],
            "deliveries": [d.as_json() for d in state.webhooks.deliveries(job.id)],
            "scenario": job.scenario.name,
        }
    )


ENDPOINTS = [
    Endpoint(
        "POST", CONTROL_PREFIX + "/jobs/{jobId}/events", force_job_event, "mockForceJobEvent",
        "Force a job event", 200, MockForcedJobResponse, tag="control", errors=(404, 409),
        body=JobEventRequest, body_kind="json", body_required=True,
    ),
    Endpoint(
        "POST", CONTROL_PREFIX + "/projects/{projectId}/events", force_project_event,
        "mockForceProjectEvent", "Force a project event", 200, MockForcedProjectResponse,
        tag="control", errors=(404, 409), body=ProjectEventRequest, body_kind="json",
        body_required=True,
    ),
    Endpoint(
        "GET", CONTROL_PREFIX + "/jobs/{jobId}", get_mock_job, "mockGetJob",
        "A job with its history and deliveries", 200, MockJobResponse, tag="control",
        errors=(404,),
    ),
]  # fmt: skip
