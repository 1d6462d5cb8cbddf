"""The dashboard at `/_mock/ui/` (defined by the mock, not part of Plangrep): its page, its live
feed, and the few reads it needs beside the control API that already exists.

The page is plain HTML, CSS and JavaScript from `mock_server/ui/static/` (no build step, nothing
fetched from elsewhere). It reads and acts through the existing control routes (clock, forced
events, a job with its history and deliveries, the request journal, scenarios, credits,
violations, faults, redelivery); these endpoints add only what it needs on top:

    GET /_mock/jobs            a compact, filtered, paged job list (10,000 jobs stay cheap)
    GET /_mock/projects        every project with its job count
    GET /_mock/accounts        credits per organisation, with keys that can set them
    GET /_mock/machine         the job machine: statuses, transitions, allowed events, mermaid
    GET /_mock/rules           the contract rules (the text behind each violation)
    GET /_mock/ui/events       the live feed (server-sent events; see ui/feed.py)
    GET /_mock/ui/             the page; its two assets /_mock/ui/assets/app.js and app.css

Nothing here runs on the public API's requests.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from aiohttp import web

from statemachine import (
    JOB_TRANSITIONS,
    TERMINAL_STATUSES,
    Account,
    JobStatus,
    allowed_events,
    format_time,
    render_diagram,
)

from ..contract.rules import rules
from ..errors import ValidationFailed, json_response
from ..http.endpoints import Endpoint, Param
from ..state import STATE_KEY, MockState
from ..ui import FEED_KEY, STATIC_DIR
from ..ui.feed import job_row, status_counts
from ..ui.models import (
    JobListQuery,
    MockAccountsResponse,
    MockJobListResponse,
    MockMachineResponse,
    MockProjectsResponse,
    MockRulesResponse,
    parse_query,
    query_params,
)
from .accounts import profile_of
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS", "UI_PREFIX", "machine_json"]

UI_PREFIX = CONTROL_PREFIX + "/ui"
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


# --------------------------------------------------------------------------- reads
async def list_jobs(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    query = parse_query(JobListQuery, request.query)
    engine = state.engine
    if query.projectId is not None:
        project = engine.projects.get(query.projectId)
        jobs = list(project.jobs) if project is not None else []
    else:
        jobs = list(engine.jobs.values())
    jobs.reverse()  # newest first: jobs are kept in creation order
    if query.q:
        needle = query.q.lower()
        jobs = [
            j
            for j in jobs
            if needle in j.id or (j.external_id is not None and needle in j.external_id.lower())
        ]
    counts = status_counts(jobs)
    wanted = query.statuses
    if wanted is not None:
        jobs = [j for j in jobs if j.state in wanted]
    page = jobs[query.offset : query.offset + query.limit]
    return json_response(
        {
            "jobs": [job_row(engine, j) for j in page],
            "total": len(jobs),
            "offset": query.offset,
            "limit": query.limit,
            "totalJobs": len(engine.jobs),
            "counts": counts,
            "now": format_time(engine.now),
        }
    )


async def list_projects(request: web.Request) -> web.Response:
    engine = request.app[STATE_KEY].engine
    return json_response(
        {
            "projects": [
                {
                    "id": p.id,
                    "name": p.name,
                    "organisation": p.org,
                    "status": p.state,
                    "jobs": len(p.jobs),
                    "createdAt": format_time(p.created_at),
                }
                for p in reversed(engine.projects.values())
            ]
        }
    )


def _accounts(state: MockState) -> list[dict[str, Any]]:
    engine = state.engine
    keys: dict[str, list[str]] = {}
    for spec in state.config.api_keys:
        keys.setdefault(spec.organisation, []).append(spec.key)
    orgs = list(engine.accounts)
    orgs += [org for org in keys if org not in engine.accounts]
    out = []
    for org in orgs:
        # an organisation that has not acted yet: its account as it will be (not created here)
        acct = engine.accounts.get(org) or Account(org, engine.default_credits)
        out.append(
            {
                "organisation": org,
                "balance": acct.balance,
                "profile": profile_of(acct),
                # without configured keys every token is its own organisation: the org is its key
                "apiKeys": keys.get(org, [] if state.config.api_keys else [org]),
            }
        )
    return out


async def list_accounts(request: web.Request) -> web.Response:
    return json_response({"accounts": _accounts(request.app[STATE_KEY])})


def machine_json() -> dict[str, Any]:
    return {
        "initial": JobStatus.PROVISIONING.value,
        "statuses": [s.value for s in JobStatus],
        "terminal": [s.value for s in JobStatus if s in TERMINAL_STATUSES],
        "transitions": [
            {"event": str(event), "from": list(sources), "to": str(dest)}
            for event, sources, dest in JOB_TRANSITIONS
        ],
        "allowed": {s.value: list(allowed_events(s.value)) for s in JobStatus},
        "mermaid": render_diagram("mermaid"),
    }


async def get_machine(_request: web.Request) -> web.Response:
    return json_response(machine_json())


async def list_rules(_request: web.Request) -> web.Response:
    return json_response(
        {
            "rules": [
                {
                    "id": r.id,
                    "family": r.family,
                    "text": r.text,
                    "source": r.source,
                    "server": r.server,
                }
                for r in rules()
            ]
        }
    )


# --------------------------------------------------------------------------- the page and feed


async def events(request: web.Request) -> web.StreamResponse:
    job_id = request.query.get("job")
    if job_id is not None and not _JOB_ID.match(job_id):
        raise ValidationFailed(
            details=[{"field": "job", "message": "not a job id"}],
            message="invalid query parameter job: a job id (letters, digits, _ and -, at most "
            "100)",
        )
    return await request.app[FEED_KEY].stream(request, job_id)


# the page's files: (route, file, content type); read once, they are small
_FILES = (
    (UI_PREFIX + "/", "index.html", "text/html"),
    (UI_PREFIX + "/assets/app.js", "assets/app.js", "text/javascript"),
    (UI_PREFIX + "/assets/app.css", "assets/app.css", "text/css"),
)


def _file_handler(name: str, content_type: str) -> Any:
    body = (STATIC_DIR / name).read_bytes()

    async def serve(_request: web.Request) -> web.Response:
        # no-cache: a browser revalidates, so a newer mock's page is never mixed with old assets
        return web.Response(
            body=body,
            content_type=content_type,
            charset="utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    return serve


def _query(model: Any) -> tuple[Param, ...]:
    return tuple(
        Param(name, description, schema=tuple(schema.items()))
        for name, description, schema in query_params(model)
    )


_C: Literal["control"] = "control"
ENDPOINTS = [
    Endpoint(
        "GET", CONTROL_PREFIX + "/jobs", list_jobs, "mockListJobs",
        "Jobs as compact rows, newest first: filtered by status, project and id, one page",
        200, MockJobListResponse, tag=_C, errors=(422,), query=_query(JobListQuery),
    ),
    Endpoint(
        "GET", CONTROL_PREFIX + "/projects", list_projects, "mockListProjects",
        "Every project with its organisation and job count, newest first", 200,
        MockProjectsResponse, tag=_C,
    ),
    Endpoint(
        "GET", CONTROL_PREFIX + "/accounts", list_accounts, "mockListAccounts",
        "Credits per organisation, with the keys that can set them", 200,
        MockAccountsResponse, tag=_C,
    ),
    Endpoint(
        "GET", CONTROL_PREFIX + "/machine", get_machine, "mockJobMachine",
        "The job state machine: statuses, transitions, allowed events, mermaid source", 200,
        MockMachineResponse, tag=_C,
    ),
    Endpoint(
        "GET", CONTROL_PREFIX + "/rules", list_rules, "mockContractRules",
        "The contract rules a violation names, with the text of each", 200,
        MockRulesResponse, tag=_C,
    ),
    Endpoint(
        "GET", UI_PREFIX + "/events", events, "mockUiEvents",
        "The dashboard's live feed (server-sent events; JSON messages with a type: hello, "
        "jobs, clock, projects, violations, faults, job, reset, resync); never ends",
        200, None, tag=_C, errors=(422,), ok_schema={"type": "string"},
        ok_media_type="text/event-stream",
        query=(
            Param("job", "also send a `job` message when this job's history, requests or "
                  "webhook deliveries move",
                  schema=(("type", "string"), ("pattern", _JOB_ID.pattern))),
        ),
    ),
    *(
        Endpoint(
            "GET", path, _file_handler(name, media_type), op_id, summary, 200, None,
            tag=_C, ok_schema={"type": "string"}, ok_media_type=media_type,
        )
        for (path, name, media_type), op_id, summary in zip(
            _FILES,
            ("mockUiPage", "mockUiScript", "mockUiStyles"),
            ("The dashboard (HTML)", "The dashboard's script", "The dashboard's styles"),
            strict=True,
        )
    ),
]  # fmt: skip
