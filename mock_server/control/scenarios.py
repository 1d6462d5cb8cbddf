"""Scenarios: list them, queue the next one."""

from __future__ import annotations

from aiohttp import web

from statemachine import Scenario, ScenarioError, UnknownScenario, parse_scenario

from ..errors import ValidationFailed, json_response
from ..http.body import read_json
from ..http.endpoints import Endpoint
from ..state import STATE_KEY
from .models import ScenarioNextRequest, ScenarioNextResponse, ScenariosResponse
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS"]


async def list_scenarios(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return json_response(
        {
            "scenarios": [s.model_dump(mode="json") for s in state.scenarios.all()],
            "default": state.engine.default_scenario.name,
            "queued": [s.name for s in state.engine.queued_scenarios],
        }
    )


async def queue_scenario(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json(request, ScenarioNextRequest)
    scenario: Scenario
    if isinstance(body.scenario, str):
        try:
            scenario = state.scenarios.get(body.scenario)
        except UnknownScenario as exc:
            raise ValidationFailed(
                details=[
                    {"field": "scenario", "message": f"unknown; known: {', '.join(exc.known)}"}
                ],
                message=str(exc),
            ) from None
    else:
        try:
            scenario = parse_scenario(body.scenario)
        except ScenarioError as exc:
            raise ValidationFailed(
                details=[{"field": f"scenario.{exc.field}", "message": exc.detail}],
                message=str(exc),
            ) from None
    state.engine.queue_scenario(scenario)
    return json_response({"queued": [s.name for s in state.engine.queued_scenarios]})


ENDPOINTS = [
    Endpoint(
        "GET", CONTROL_PREFIX + "/scenarios", list_scenarios, "mockListScenarios", "Scenarios",
        200, ScenariosResponse, tag="control",
    ),
    Endpoint(
        "POST", CONTROL_PREFIX + "/scenarios/next", queue_scenario, "mockQueueScenario",
        "Queue the scenario of the next job created without X-Mock-Scenario", 200,
        ScenarioNextResponse, tag="control", body=ScenarioNextRequest, body_kind="json",
        body_required=True, extra_models=(Scenario,),
    ),
]  # fmt: skip
