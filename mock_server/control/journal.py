"""The request journal and the contract violations the server recorded."""

from __future__ import annotations

import re

from aiohttp import web

from ..errors import field_error, json_response
from ..http.endpoints import Endpoint, Param
from ..state import STATE_KEY
from .models import RequestsResponse, ViolationsResponse
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS"]


REQUESTS_LIMIT = 1_000_000


def _limit(raw: str | None) -> int | None:
    """`?limit=N`: only the last N matching requests (the dashboard shows a job's latest)."""
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]{1,7}", raw) or not 1 <= int(raw) <= REQUESTS_LIMIT:
        raise field_error("limit", f"must be a whole number from 1 to {REQUESTS_LIMIT}")
    return int(raw)


async def list_requests(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    job_id = request.query.get("jobId")
    api_key = request.query.get("apiKey")
    limit = _limit(request.query.get("limit"))
    found = [
        e
        for e in state.journal
        if (job_id is None or e.job_id == job_id) and (api_key is None or e.api_key == api_key)
    ]
    entries = [e.as_dict() for e in (found[-limit:] if limit else found)]
    return json_response(
        {"requests": entries, "total": state.journal.total, "dropped": state.journal.dropped}
    )


async def list_violations(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return json_response({"violations": [v.as_dict() for v in state.violations]})


ENDPOINTS = [
    Endpoint(
        "GET", CONTROL_PREFIX + "/requests", list_requests, "mockRequests",
        "The request journal", 200, RequestsResponse, tag="control", errors=(422,),
        query=(Param("jobId", "Only this job's requests"), Param("apiKey", "Only this key's"),
               Param("limit", "Only the last N of them", schema=(
                   ("type", "integer"), ("minimum", 1), ("maximum", REQUESTS_LIMIT)))),
    ),
    Endpoint(
        "GET", CONTROL_PREFIX + "/violations", list_violations, "mockViolations",
        "Contract violations", 200, ViolationsResponse, tag="control",
    ),
]  # fmt: skip
