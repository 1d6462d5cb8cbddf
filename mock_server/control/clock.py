"""The virtual clock: read it, advance it (firing every due transition in time order)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from statemachine import format_time

from ..errors import field_error, json_response
from ..http.body import read_json
from ..http.endpoints import Endpoint
from ..state import STATE_KEY, MockState
from .events import record_json
from .models import AdvanceResponse, ClockAdvanceRequest, ClockInfo
from .system import CONTROL_PREFIX

__all__ = ["CLOCK_CEILING", "ENDPOINTS"]

# Far below the end of year 9999, the last a timestamp can show, leaving room for what is
# scheduled ahead of the clock (TTLs, retries, held deliveries).
CLOCK_CEILING = 221_845_392_000.0  # 9000-01-01T00:00:00.000Z


def _clock_json(state: MockState) -> dict[str, Any]:
    return {
        "now": format_time(state.engine.now),
        "mode": state.config.clock,
        "speed": state.clock.speed,
        "epochSeconds": state.engine.now,
    }


async def get_clock(request: web.Request) -> web.Response:
    return json_response(_clock_json(request.app[STATE_KEY]))


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
    return json_response({**_clock_json(state), "fired": [record_json(r) for r in fired]})


ENDPOINTS = [
    Endpoint(
        "GET", CONTROL_PREFIX + "/clock", get_clock, "mockClock", "Read the virtual clock",
        200, ClockInfo, tag="control",
    ),
    Endpoint(
        "POST", CONTROL_PREFIX + "/clock/advance", advance_clock, "mockAdvanceClock",
        "Advance the virtual clock; fires due transitions", 200, AdvanceResponse,
        tag="control", body=ClockAdvanceRequest, body_kind="json", body_required=True,
    ),
]  # fmt: skip
