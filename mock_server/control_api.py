"""The control API under `/_mock` (not part of Plangrep): health, clock, forced events, a job's
history and deliveries, scenarios, credits, key revocation, the journal, violations, reset.

No authentication: it is for the test author, not the integrator's client."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aiohttp import web

from statemachine import (
    InvalidTransition,
    JobEvent,
    ProjectEvent,
    Scenario,
    ScenarioError,
    UnknownScenario,
    format_time,
    parse_scenario,
)
from statemachine.engine import TransitionRecord

from .errors import ApiError, invalid_transition, json_response, short
from .models import (
    ClockAdvanceRequest,
    CreditsRequest,
    EventRequest,
    ScenarioNextRequest,
    field_error,
    read_json,
    validation_error,
)
from .serialize import job_json, project_json
from .state import STATE_KEY, MockState

__all__ = ["CLOCK_CEILING", "CONTROL_PREFIX", "record_json", "setup_control_api"]

CONTROL_PREFIX = "/_mock"


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


def _history_json(rec: TransitionRecord) -> dict[str, Any]:
    return {
        "from": rec.src,
        "to": rec.dst,
        "event": rec.event,
        "at": format_time(rec.at),
        "sequence": rec.sequence,
        "forced": rec.forced,
    }


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return json_response(
        {
            "status": "ok",
            "now": format_time(state.engine.now),
            "clock": state.config.clock,
            "projects": len(state.engine.projects),
            "jobs": len(state.engine.jobs),
        }
    )


def _clock_json(state: MockState) -> dict[str, Any]:
    return {
        "now": format_time(state.engine.now),
        "mode": state.config.clock,
        "speed": state.clock.speed,
        "epochSeconds": state.engine.now,
    }


async def get_clock(request: web.Request) -> web.Response:
    return json_response(_clock_json(request.app[STATE_KEY]))


# Far below the end of year 9999, the last a timestamp can show, leaving room for what is
# scheduled ahead of the clock (TTLs, retries, held deliveries).
CLOCK_CEILING = 221_845_392_000.0  # 9000-01-01T00:00:00.000Z


async def advance_clock(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json(request, ClockAdvanceRequest)
    if state.engine.now + body.seconds > CLOCK_CEILING:
        raise field_error(
            "seconds",
            f"the virtual clock cannot pass {format_time(CLOCK_CEILING)}; "
            f"it is at {format_time(state.engine.now)}",
        )
    fired = state.engine.advance(body.seconds)
    return json_response(
        {**_clock_json(state), "fired": [record_json(r) for r in fired]},
    )


def _job(state: MockState, job_id: str) -> Any:
    job = state.engine.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "job_not_found", f"no job {short(job_id)} on this server")
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
    job = _job(state, request.match_info["jobId"])
    events = [e.value for e in JobEvent]
    rec = await _force(request, "job", events, lambda event: state.engine.force_job(job, event))
    return json_response({"job": job_json(state, job), "transition": record_json(rec)})


async def force_project_event(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    project_id = request.match_info["projectId"]
    project = state.engine.projects.get(project_id)
    if project is None:
        raise ApiError(404, "project_not_found", f"no project {short(project_id)} on this server")
    events = [e.value for e in ProjectEvent]
    rec = await _force(
        request, "project", events, lambda event: state.engine.force_project(project, event)
    )
    return json_response({"project": project_json(state, project), "transition": record_json(rec)})


def _deliveries(app: web.Application, job_id: str) -> list[dict[str, Any]]:
    """The webhook part's delivery log for a job ([] on an app built without that part)."""
    from .webhooks import deliveries_for  # the webhook part imports the server core

    try:
        return list(deliveries_for(app, job_id))
    except KeyError:
        return []


async def get_mock_job(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    job = _job(state, request.match_info["jobId"])
    return json_response(
        {
            "job": job_json(state, job),
            "history": [_history_json(r) for r in job.history],
            "deliveries": _deliveries(request.app, job.id),
            "scenario": job.scenario.name,
        }
    )


def _scenario_json(s: Scenario) -> dict[str, Any]:
    return s.model_dump(mode="json")


async def list_scenarios(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return json_response(
        {
            "scenarios": [_scenario_json(s) for s in state.scenarios.all()],
            "default": state.engine.default_scenario.name,
            "queued": [s.name for s in state.engine.queued_scenarios],
        }
    )


async def queue_scenario(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json(request, ScenarioNextRequest)
    if isinstance(body.scenario, str):
        try:
            scenario = state.scenarios.get(body.scenario)
        except UnknownScenario as exc:
            raise validation_error(
                [{"field": "scenario", "message": f"unknown; known: {', '.join(exc.known)}"}],
                message=str(exc),
            ) from None
    else:
        try:
            scenario = parse_scenario(body.scenario)
        except ScenarioError as exc:
            raise validation_error(
                [{"field": f"scenario.{exc.field}", "message": exc.detail}], message=str(exc)
            ) from None
    state.engine.queue_scenario(scenario)
    return json_response({"queued": [s.name for s in state.engine.queued_scenarios]})


def _org_of(state: MockState, api_key: str) -> str:
    org = state.keys.organisation(api_key)
    if org is None:
        raise ApiError(
            404,
            "not_found",
            f"no API key {short(api_key, 40)!r} is configured on this server",
        )
    return org


def _credits_json(state: MockState, api_key: str, org: str) -> dict[str, Any]:
    acct = state.engine.account(org)
    return {
        "apiKey": api_key,
        "organisation": org,
        "balance": acct.balance,
        "profile": acct.profile(),
    }


async def get_credits(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    api_key = request.match_info["apiKey"]
    return json_response(_credits_json(state, api_key, _org_of(state, api_key)))


async def put_credits(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    api_key = request.match_info["apiKey"]
    org = _org_of(state, api_key)
    body = await read_json(request, CreditsRequest)
    state.engine.set_balance(org, body.balance)
    return json_response(_credits_json(state, api_key, org))


async def revoke_key(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    api_key = request.match_info["apiKey"]
    _org_of(state, api_key)
    state.keys.revoke(api_key)
    return json_response({"apiKey": api_key, "revoked": True})


REQUESTS_LIMIT = 1_000_000


async def list_requests(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    job_id = request.query.get("jobId")
    api_key = request.query.get("apiKey")
    limit = _limit(request.query.get("limit"))
    found = [
        e
        for e in state.journal
        if (job_id is None or e.job_id == job_id) and (api_key is None or e.api_key == api_key)
    ]
    entries = [e.as_dict() for e in found[-limit:]] if limit else [e.as_dict() for e in found]
    return json_response(
        {"requests": entries, "total": state.journal.total, "dropped": state.journal.dropped}
    )


def _limit(raw: str | None) -> int | None:
    """`?limit=N`: only the last N matching requests (the dashboard shows a job's latest)."""
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,7}", raw) or not 1 <= int(raw) <= REQUESTS_LIMIT:
        raise field_error("limit", f"must be a whole number from 1 to {REQUESTS_LIMIT}")
    return int(raw)


async def list_violations(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return json_response({"violations": [v.as_dict() for v in state.violations]})


async def reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return json_response({"reset": True})


def setup_control_api(app: web.Application) -> None:
    r = app.router
    p = CONTROL_PREFIX
    r.add_get(p + "/health", health)
    r.add_get(p + "/clock", get_clock)
    r.add_post(p + "/clock/advance", advance_clock)
    r.add_post(p + "/jobs/{jobId}/events", force_job_event)
    r.add_post(p + "/projects/{projectId}/events", force_project_event)
    r.add_get(p + "/jobs/{jobId}", get_mock_job)
    r.add_get(p + "/scenarios", list_scenarios)
    r.add_post(p + "/scenarios/next", queue_scenario)
    r.add_get(p + "/accounts/{apiKey}/credits", get_credits)
    r.add_put(p + "/accounts/{apiKey}/credits", put_credits)
    r.add_post(p + "/keys/{apiKey}/revoke", revoke_key)
    r.add_get(p + "/requests", list_requests)
    r.add_get(p + "/violations", list_violations)
    r.add_post(p + "/reset", reset)
