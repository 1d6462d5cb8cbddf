"""The request journal and the contract violations the server recorded."""

from __future__ import annotations

from aiohttp import web

from ..errors import json_response
from ..http.endpoints import Endpoint, Param
from ..state import STATE_KEY
from .models import RequestsResponse, ViolationsResponse
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS"]


async def list_requests(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    job_id = request.query.get("jobId")
    api_key = request.query.get("apiKey")
    entries = [
        e.as_dict()
        for e in state.journal
        if (job_id is None or e.job_id == job_id) and (api_key is None or e.api_key == api_key)
    ]
    return json_response(
        {"requests": entries, "total": state.journal.total, "dropped": state.journal.dropped}
    )


async def list_violations(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return json_response({"violations": [v.as_dict() for v in state.violations]})


ENDPOINTS = [
    Endpoint(
        "GET", CONTROL_PREFIX + "/requests", list_requests, "mockRequests",
        "The request journal", 200, RequestsResponse, tag="control",
        query=(Param("jobId", "Only this job's requests"), Param("apiKey", "Only this key's")),
    ),
    Endpoint(
        "GET", CONTROL_PREFIX + "/violations", list_violations, "mockViolations",
        "Contract violations", 200, ViolationsResponse, tag="control",
    ),
]  # fmt: skip
