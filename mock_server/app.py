"""The application factory: `create_app(config) -> web.Application`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.typedefs import Handler

from .auth import JOB_ID_KEY, PRINCIPAL_KEY, PROJECT_ID_KEY
from .config import MockConfig
from .errors import ERROR_CODE_KEY, ApiError, error_response
from .journal import JournalEntry
from .state import STATE_KEY, MockState

__all__ = ["PUBLIC_PREFIX", "create_app"]

PUBLIC_PREFIX = "/api/open/v1"
log = logging.getLogger("mock_server")
# multipart overhead beyond the configured upload size (headers, metadata part)
_BODY_SLACK = 1024 * 1024


@web.middleware
async def _core_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bring the engine up to the clock, apply API faults, turn every error into JSON, and
    journal public requests (one middleware: this runs on every poll)."""
    state = request.app[STATE_KEY]
    state.engine.sync_if_behind()
    if not request.path.startswith(PUBLIC_PREFIX):
        try:
            return await handler(request)
        except Exception as exc:
            return error_response(request, exc)
    started = time.perf_counter()
    response: web.StreamResponse | None = None
    faults = state.api_faults
    fault = faults.take_api_fault(request.path) if faults is not None else None
    if fault is not None and fault.mode == "latency" and fault.seconds:
        await asyncio.sleep(fault.seconds)
        state.engine.sync_if_behind()
    elif fault is not None and fault.mode == "error":
        status = fault.status or 500
        response = ApiError(
            status,
            "injected_fault",
            f"an API fault injected through /_mock/faults answered {status}",
        ).response()
    if response is None:
        try:
            response = await handler(request)
        except Exception as exc:
            response = error_response(request, exc)
    _journal(state, request, response, started)
    return response


def _journal(
    state: MockState, request: web.Request, response: web.StreamResponse, started: float
) -> None:
    principal = request.get(PRINCIPAL_KEY)
    status = response.status
    state.journal.record(
        JournalEntry(
            request.method,
            request.path,
            status,
            principal.api_key if principal is not None else None,
            request.get(JOB_ID_KEY) or request.match_info.get("jobId"),
            request.get(PROJECT_ID_KEY) or request.match_info.get("projectId"),
            state.engine.now,
            time.time(),
            response.get(ERROR_CODE_KEY) if status >= 400 else None,
            (time.perf_counter() - started) * 1000,
        )
    )


async def _ticker(app: web.Application) -> AsyncIterator[None]:
    """Drive the realtime clock: fire due transitions as wall time passes."""
    state = app[STATE_KEY]
    task: asyncio.Task[None] | None = None
    if state.config.clock == "realtime":

        async def tick() -> None:
            interval = state.config.tick_interval
            while True:
                await asyncio.sleep(interval)
                try:
                    state.engine.sync_if_behind()
                except Exception as exc:  # recorded, never kills the ticker
                    state.server_errors.append(exc)
                    log.exception("realtime clock tick failed")

        task = asyncio.create_task(tick(), name="plangrep-mock-ticker")
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def create_app(config: MockConfig | None = None) -> web.Application:
    """A mock server application; run it with aiohttp's runners or `plangrep-mock serve`."""
    from .control_api import setup_control_api
    from .openapi import setup_openapi
    from .public_api import setup_public_api
    from .ui import setup_ui
    from .uploads import setup_uploads
    from .webhooks import setup_webhooks

    config = config or MockConfig()
    app = web.Application(
        middlewares=[_core_middleware],
        client_max_size=config.max_body_bytes + _BODY_SLACK,
        # long ids in URLs get a JSON 404 rather than the protocol layer's plain-text 400
        handler_args={"max_line_size": 65536, "max_field_size": 65536},
    )
    app[STATE_KEY] = MockState(config)
    app.cleanup_ctx.append(_ticker)
    setup_openapi(app)  # first: the other parts describe their routes into it
    setup_public_api(app)
    setup_uploads(app)
    setup_webhooks(app)
    setup_control_api(app)
    setup_ui(app)  # after webhooks: the live feed reads deliveries and faults
    return app
