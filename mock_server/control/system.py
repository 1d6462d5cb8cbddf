"""Health, reset and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from statemachine import format_time

from ..errors import json_response
from ..http.endpoints import Endpoint
from ..http.openapi import openapi_json
from ..state import STATE_KEY
from .models import HealthResponse, ResetResponse

__all__ = ["CONTROL_PREFIX", "ENDPOINTS"]

CONTROL_PREFIX = "/_mock"


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


async def reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return json_response({"reset": True})


ENDPOINTS = [
    Endpoint(
        "GET", CONTROL_PREFIX + "/health", health, "mockHealth", "Health", 200, HealthResponse,
        tag="control",
    ),
    Endpoint(
        "POST", CONTROL_PREFIX + "/reset", reset, "mockReset", "Forget everything", 200,
        ResetResponse, tag="control",
    ),
    Endpoint(
        "GET", "/openapi.json", openapi_json, "openapi",
        "This document: the public and control APIs as OpenAPI 3.1", 200, None,
        tag="control", ok_schema={"type": "object"},
    ),
]  # fmt: skip
