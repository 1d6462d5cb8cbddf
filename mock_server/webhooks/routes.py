"""Control routes of the webhook part: the delivery log, redelivery, and fault injection."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ..errors import ApiError, json_response, short
from ..faults import (
    FaultCreatedResponse,
    FaultRegistry,
    FaultRequest,
    FaultsDeletedResponse,
    FaultSpecError,
    FaultsResponse,
)
from ..models import read_json
from ..openapi import Operation
from ..state import STATE_KEY
from .dispatcher import WebhookDispatcher
from .models import DeliveriesResponse, RedeliverResponse, WebhookEvent

__all__ = [
    "DISPATCHER_KEY",
    "FAULTS_KEY",
    "deliveries_for",
    "openapi_operations",
    "setup_routes",
]

DISPATCHER_KEY: web.AppKey[WebhookDispatcher] = web.AppKey(
    "plangrep_mock_webhook_dispatcher", WebhookDispatcher
)
FAULTS_KEY: web.AppKey[FaultRegistry] = web.AppKey("plangrep_mock_faults", FaultRegistry)


class _AnyObject(BaseModel):
    """Any JSON object; the fault registry validates it (so it can name the valid modes)."""

    model_config = ConfigDict(extra="allow")


def deliveries_for(app: web.Application, job_id: str) -> list[dict[str, Any]]:
    """The deliveries of one job as `GET /_mock/jobs/{jobId}` shows them (oldest first)."""
    dispatcher = app.get(DISPATCHER_KEY)
    if dispatcher is None:
        return []
    return [d.as_json() for d in dispatcher.deliveries(job_id)]


async def list_deliveries(request: web.Request) -> web.Response:
    dispatcher = request.app[DISPATCHER_KEY]
    job_id = request.query.get("jobId")
    if job_id is None:
        return json_response({"deliveries": [d.as_json() for d in dispatcher.deliveries()]})
    found = dispatcher.deliveries(job_id)
    if not found and job_id not in request.app[STATE_KEY].engine.jobs:
        raise ApiError(
            404,
            "job_not_found",
            f"no job {short(job_id)!r} on this server; list every delivery without ?jobId=",
        )
    return json_response({"deliveries": [d.as_json() for d in found]})


async def redeliver(request: web.Request) -> web.Response:
    dispatcher = request.app[DISPATCHER_KEY]
    delivery_id = request.match_info["deliveryId"]
    try:
        delivery = dispatcher.redeliver(delivery_id)
    except KeyError:
        raise ApiError(
            404,
            "not_found",
            f"no webhook delivery {short(delivery_id)!r}; GET /_mock/webhooks/deliveries lists "
            "them (ids start dlv_)",
        ) from None
    return json_response({"delivery": delivery.as_json()}, status=202)


async def add_fault(request: web.Request) -> web.Response:
    body = await read_json(request, _AnyObject)
    try:
        fault = request.app[FAULTS_KEY].add(body.model_extra or {})
    except FaultSpecError as exc:
        raise ApiError(
            422, "validation_error", exc.message, details=exc.details, **exc.valid
        ) from None
    return json_response({"fault": fault.as_json()}, status=201)


async def list_faults(request: web.Request) -> web.Response:
    faults = request.app[FAULTS_KEY].faults()
    return json_response({"faults": [f.as_json() for f in faults]})


async def clear_faults(request: web.Request) -> web.Response:
    return json_response({"deleted": request.app[FAULTS_KEY].clear()})


def setup_routes(app: web.Application) -> None:
    from ..openapi import OPENAPI_OPS_KEY, add_operations

    if OPENAPI_OPS_KEY in app:
        add_operations(app, openapi_operations())
    else:  # set up before the OpenAPI part: describe the routes once everything is set up

        async def describe(app: web.Application) -> None:
            if OPENAPI_OPS_KEY in app:
                add_operations(app, openapi_operations())

        app.on_startup.append(describe)
    app.router.add_get("/_mock/webhooks/deliveries", list_deliveries)
    app.router.add_post("/_mock/webhooks/deliveries/{deliveryId}/redeliver", redeliver)
    app.router.add_post("/_mock/faults", add_fault)
    app.router.add_get("/_mock/faults", list_faults)
    app.router.add_delete("/_mock/faults", clear_faults)


def openapi_operations() -> list[Operation]:
    """What `GET /openapi.json` says about these routes."""
    ctl = "control"
    return [
        Operation(
            "get",
            "/_mock/webhooks/deliveries",
            "mockWebhookDeliveries",
            "Webhook deliveries with every attempt, oldest first",
            ctl,
            200,
            DeliveriesResponse,
            (404,),
            auth=False,
            query=(("jobId", "only this job's deliveries"),),
            extra_models=(WebhookEvent,),
        ),
        Operation(
            "post",
            "/_mock/webhooks/deliveries/{deliveryId}/redeliver",
            "mockRedeliverWebhook",
            "Send a logged event again (same webhook-id, fresh timestamp and signature)",
            ctl,
            202,
            RedeliverResponse,
            (404,),
            auth=False,
        ),
        Operation(
            "post",
            "/_mock/faults",
            "mockAddFault",
            "Inject a webhook fault or a public API fault (error or latency)",
            ctl,
            201,
            FaultCreatedResponse,
            (400, 413, 415, 422),
            FaultRequest,
            "json",
            True,
            auth=False,
        ),
        Operation(
            "get",
            "/_mock/faults",
            "mockListFaults",
            "Faults registered, with what is left of each",
            ctl,
            200,
            FaultsResponse,
            auth=False,
        ),
        Operation(
            "delete",
            "/_mock/faults",
            "mockClearFaults",
            "Remove every fault",
            ctl,
            200,
            FaultsDeletedResponse,
            auth=False,
        ),
    ]
