"""The control API under `/_mock` (not part of Plangrep): clock, forced events, scenarios, credits,
keys, journal, violations, reset."""

from __future__ import annotations

from aiohttp import web

from statemachine import format_time

from .errors import json_response
from .state import STATE_KEY

__all__ = ["setup_control_api"]


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return json_response(
        {
            "status": "ok",
            "now": format_time(state.engine.now),
            "clock": state.config.clock,
            "jobs": len(state.engine.jobs),
            "projects": len(state.engine.projects),
        }
    )


def setup_control_api(app: web.Application) -> None:
    app.router.add_get("/_mock/health", health)
