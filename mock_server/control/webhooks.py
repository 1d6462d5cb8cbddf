"""The webhook delivery log and redelivery."""

from __future__ import annotations

from aiohttp import web

from ..errors import NotFound, json_response, short
from ..http.endpoints import Endpoint, Param
from ..state import STATE_KEY
from ..webhooks.models import DeliveriesResponse, RedeliverResponse, WebhookEvent
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS"]


async def list_deliveries(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    dispatcher = state.webhooks
    job_id = request.query.get("jobId")
    if job_id is None:
        return json_response({"deliveries": [d.as_json() for d in dispatcher.deliveries()]})
    found = dispatcher.deliveries(job_id)
    if not found and job_id not in state.engine.jobs:
        raise NotFound(
            code="job_not_found",
            message=f"no job {short(job_id)!r} on this server; list every delivery without "
            "?jobId=",
        )
    return json_response({"deliveries": [d.as_json() for d in found]})


async def redeliver(request: web.Request) -> web.Response:
    dispatcher = request.app[STATE_KEY].webhooks
    delivery_id = request.match_info["deliveryId"]
    try:
        delivery = dispatcher.redeliver(delivery_id)
    except KeyError:
        raise NotFound(
            code="not_found",
            message=f"no webhook delivery {short(delivery_id)!r}; GET "
            "/_mock/webhooks/deliveries lists them (ids start dlv_)",
        ) from None
    return json_response({"delivery": delivery.as_json()}, status=202)


ENDPOINTS = [
    Endpoint(
        "GET", CONTROL_PREFIX + "/webhooks/deliveries", list_deliveries,
        "mockWebhookDeliveries", "Webhook deliveries with every attempt, oldest first",
        200, DeliveriesResponse, tag="control", errors=(404,),
        query=(Param("jobId", "only this job's deliveries"),), extra_models=(WebhookEvent,),
    ),
    Endpoint(
        "POST", CONTROL_PREFIX + "/webhooks/deliveries/{deliveryId}/redeliver", redeliver,
        "mockRedeliverWebhook",
        "Send a logged event again (same webhook-id, fresh timestamp and signature)",
        202, RedeliverResponse, tag="control", errors=(404,),
    ),
]  # fmt: skip
