"""The application factory: `create_app(config) -> web.Application`, wired explicitly.

The state (`state.py`) holds every part of one server; this module adds the HTTP side: the one
middleware, every endpoint (public, control, signed storage) declared in its resource module, and
the lifecycle of the webhook dispatcher's session and of the realtime clock's ticker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from .config import MockConfig
from .control import accounts, clock, events, faults, journal, scenarios, system, ui, webhooks
from .control import artifacts as control_artifacts
from .http.endpoints import install
from .http.middleware import PUBLIC_PREFIX, core_middleware
from .public import (
    artifacts,
    complete,
    entities,
    jobs,
    keys,
    projects,
    results,
    search,
    summary,
    uploads,
)
from .state import STATE_KEY, MockState
from .storage import routes as storage_routes
from .ui import FEED_KEY, LiveFeed

__all__ = ["ENDPOINT_MODULES", "PUBLIC_PREFIX", "create_app"]

log = logging.getLogger("mock_server")
# multipart overhead beyond the configured upload size (headers, metadata part)
_BODY_SLACK = 1024 * 1024

# Every module that declares endpoints, in the order their routes are added.
ENDPOINT_MODULES = (
    projects,
    jobs,
    uploads,
    complete,
    results,
    summary,
    search,
    keys,
    entities,
    artifacts,
    storage_routes,
    system,
    clock,
    events,
    scenarios,
    accounts,
    journal,
    webhooks,
    faults,
    ui,
    control_artifacts,
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


async def _webhooks(app: web.Application) -> AsyncIterator[None]:
    """Open the dispatcher's HTTP session on the running loop; close it at shutdown."""
    dispatcher = app[STATE_KEY].webhooks
    await dispatcher.start()
    yield
    await dispatcher.close()


async def _close_feed(app: web.Application) -> None:
    """End the dashboard's event streams, so a stopping server does not wait on open pages."""
    await app[FEED_KEY].close()


def create_app(config: MockConfig | None = None) -> web.Application:
    """A mock server application; run it with aiohttp's runners or `plangrep-mock serve`."""
    config = config or MockConfig()
    app = web.Application(
        middlewares=[core_middleware],
        client_max_size=config.max_body_bytes + _BODY_SLACK,
        # long ids in URLs get a JSON 404 rather than the protocol layer's plain-text 400
        handler_args={"max_line_size": 65536, "max_field_size": 65536},
    )
    app[STATE_KEY] = MockState(config)
    app.cleanup_ctx.append(_ticker)
    app.cleanup_ctx.append(_webhooks)
    app[FEED_KEY] = LiveFeed(app[STATE_KEY])  # the dashboard's feed: idle until a page connects
    app.on_shutdown.append(_close_feed)
    for module in ENDPOINT_MODULES:
        install(app, module.ENDPOINTS)
    return app
