"""Signed webhooks (Standard Webhooks scheme), their delivery log, fault injection, a receiver.

`setup_webhooks(app)` plugs the dispatcher and the fault registry into a `create_app()`
application; `WebhookReceiver` is the receiving end for users' tests. Plangrep documents that a
signed POST goes out on every status change, not how it is signed: the scheme is the mock's choice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from ..faults import FaultRegistry
from ..state import STATE_KEY, MockState
from .dispatcher import (
    DEFAULT_RETRY_SCHEDULE,
    EVENT_TYPE,
    Attempt,
    Delivery,
    JobRenderer,
    WebhookDispatcher,
)
from .receiver import ReceivedEvent, RejectedDelivery, WebhookReceiver
from .routes import DISPATCHER_KEY, FAULTS_KEY, deliveries_for, openapi_operations
from .signing import (
    InvalidSecret,
    new_message_id,
    new_secret,
    serialize_body,
    sign,
    signature_headers,
    to_standard_secret,
    verify,
)

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "DISPATCHER_KEY",
    "EVENT_TYPE",
    "FAULTS_KEY",
    "Attempt",
    "Delivery",
    "FaultRegistry",
    "InvalidSecret",
    "JobRenderer",
    "ReceivedEvent",
    "RejectedDelivery",
    "WebhookDispatcher",
    "WebhookReceiver",
    "deliveries_for",
    "new_message_id",
    "new_secret",
    "openapi_operations",
    "serialize_body",
    "setup_webhooks",
    "sign",
    "signature_headers",
    "to_standard_secret",
    "verify",
]


def setup_webhooks(app: web.Application) -> WebhookDispatcher:
    """Deliver signed webhooks for the app's engine and serve the webhook and fault routes.

    Call once in `create_app`, after `app[STATE_KEY]` is set. It subscribes through
    `state.subscribe` (so it follows the engine across `POST /_mock/reset`), hands the fault
    registry to the public API as `state.api_faults`, and opens and closes the HTTP session in
    `app.cleanup_ctx`.
    """
    from ..serialize import job_json
    from .routes import setup_routes

    state = app[STATE_KEY]
    faults = FaultRegistry()

    def render(job: Any, status: str) -> dict[str, Any]:
        return job_json(state, job, status=status)

    dispatcher = WebhookDispatcher(
        state.engine,
        render,
        faults=faults,
        timeout=state.config.webhook_timeout,
        retries=state.config.webhook_retries,
        subscribe=False,
        on_error=state.server_errors.append,
    )
    state.subscribe(dispatcher.on_transition)
    state.api_faults = faults

    def on_reset(st: MockState) -> None:
        dispatcher.reset(st.engine)
        faults.clear()

    state.on_reset.append(on_reset)
    app[DISPATCHER_KEY] = dispatcher
    app[FAULTS_KEY] = faults

    async def lifecycle(_app: web.Application) -> AsyncIterator[None]:
        await dispatcher.start()
        yield
        await dispatcher.close()

    app.cleanup_ctx.append(lifecycle)
    setup_routes(app)
    return dispatcher
