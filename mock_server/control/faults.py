"""Fault injection: add, list and clear faults (the modes are in `faults/table.py`)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ..errors import ValidationFailed, json_response
from ..faults import (
    FaultCreatedResponse,
    FaultRequest,
    FaultsDeletedResponse,
    FaultSpecError,
    FaultsResponse,
)
from ..http.body import read_json
from ..http.endpoints import ENDPOINTS_KEY, Endpoint
from ..state import STATE_KEY
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS"]


class _AnyObject(BaseModel):
    """Any JSON object; the fault registry validates it (so it can name the valid modes)."""

    model_config = ConfigDict(extra="allow")


async def add_fault(request: web.Request) -> web.Response:
    body = await read_json(request, _AnyObject)
    try:
        fault = request.app[STATE_KEY].faults.add(body.model_extra or {})
    except FaultSpecError as exc:
        raise ValidationFailed(
            message=exc.message, details=exc.details, fields=exc.valid
        ) from None
    if fault.operation is not None:
        known = sorted(
            {ep.operation_id for ep in request.app[ENDPOINTS_KEY] if ep.tag == "public"}
        )
        if fault.operation not in known:
            request.app[STATE_KEY].faults.remove(fault.id)
            raise ValidationFailed(
                message=f"unknown operation {fault.operation!r}; an API fault names a public "
                f"operationId of /openapi.json: {', '.join(known)}",
                details=[{"field": "operation", "message": "not a public operationId"}],
                fields={"validOperations": known},
            )
    return json_response({"fault": fault.as_json()}, status=201)


async def list_faults(request: web.Request) -> web.Response:
    faults = request.app[STATE_KEY].faults.faults()
    return json_response({"faults": [f.as_json() for f in faults]})


async def clear_faults(request: web.Request) -> web.Response:
    return json_response({"deleted": request.app[STATE_KEY].faults.clear()})


ENDPOINTS = [
    Endpoint(
        "POST", CONTROL_PREFIX + "/faults", add_fault, "mockAddFault",
        "Inject a webhook fault or a public API fault (error, latency, rate_limited, "
        "lost_response)", 201,
        FaultCreatedResponse, tag="control", body=FaultRequest, body_kind="json",
        body_required=True,
    ),
    Endpoint(
        "GET", CONTROL_PREFIX + "/faults", list_faults, "mockListFaults",
        "Faults registered, with what is left of each", 200, FaultsResponse, tag="control",
    ),
    Endpoint(
        "DELETE", CONTROL_PREFIX + "/faults", clear_faults, "mockClearFaults",
        "Remove every fault", 200, FaultsDeletedResponse, tag="control",
    ),
]  # fmt: skip
