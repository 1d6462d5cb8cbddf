"""The dashboard at `/_mock/ui/` (defined by the mock, not part of Plangrep).

The page is plain HTML, CSS and JavaScript from `static/` (no build step, nothing fetched from
elsewhere). It reads and acts through the control API that already exists (clock, forced events,
a job with its history and deliveries, the request journal, scenarios, credits, violations,
faults, redelivery); this module adds only what the page needs on top:

    GET /_mock/jobs            a compact, filtered, paged job list (10,000 jobs stay cheap)
    GET /_mock/projects        every project with its job count
    GET /_mock/accounts        credits per organisation, with keys that can set them
    GET /_mock/machine         the job machine: statuses, transitions, allowed events, mermaid
    GET /_mock/rules           the contract rules (the text behind each violation)
    GET /_mock/ui/events       the live feed (server-sent events; see feed.py)
    GET /_mock/ui/             the page; its two assets /_mock/ui/assets/app.js and app.css

`setup_ui(app)` wires them; nothing here runs on the public API's requests.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiohttp import web

from statemachine import (
    TERMINAL_STATUSES,
    JobStatus,
    allowed_events,
    format_time,
    render_diagram,
)
from statemachine.billing import Account
from statemachine.machine import JOB_TRANSITIONS

from ..contract.rules import rules
from ..errors import ApiError, json_response
from ..openapi import Operation
from ..state import STATE_KEY, MockState
from .feed import LiveFeed, job_row, status_counts
from .models import (
    JobListQuery,
    MockAccountsResponse,
    MockJobListResponse,
    MockMachineResponse,
    MockProjectsResponse,
    MockRulesResponse,
    parse_query,
    query_params,
)

__all__ = ["FEED_KEY", "STATIC_DIR", "UI_PREFIX", "openapi_operations", "setup_ui"]

UI_PREFIX = "/_mock/ui"
STATIC_DIR = Path(__file__).resolve().parent / "static"
FEED_KEY: web.AppKey[LiveFeed] = web.AppKey("plangrep_mock_ui_feed", LiveFeed)
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
                "profile": acct.profile(),
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
        raise ApiError(
            422,
            "validation_error",
            "invalid query parameter job: a job id (letters, digits, _ and -, at most 100)",
            details=[{"field": "job", "message": "not a job id"}],
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


def setup_ui(app: web.Application) -> LiveFeed:
    """Serve the dashboard and its reads; call once in `create_app`, after the webhook part
    (the feed reads its deliveries and faults when they are there)."""
    from ..openapi import OPENAPI_OPS_KEY, add_operations
    from ..webhooks.routes import DISPATCHER_KEY, FAULTS_KEY

    state = app[STATE_KEY]

    def deliveries(job_id: str) -> list[Any]:
        dispatcher = app.get(DISPATCHER_KEY)
        return dispatcher.deliveries(job_id) if dispatcher is not None else []

    def faults() -> list[Any]:
        registry = app.get(FAULTS_KEY)
        return registry.faults() if registry is not None else []

    feed = LiveFeed(state, deliveries=deliveries, faults=faults)
    app[FEED_KEY] = feed

    async def on_shutdown(_app: web.Application) -> None:
        await feed.close()

    app.on_shutdown.append(on_shutdown)
    if OPENAPI_OPS_KEY in app:
        add_operations(app, openapi_operations())
    r = app.router
    r.add_get("/_mock/jobs", list_jobs)
    r.add_get("/_mock/projects", list_projects)
    r.add_get("/_mock/accounts", list_accounts)
    r.add_get("/_mock/machine", get_machine)
    r.add_get("/_mock/rules", list_rules)
    r.add_get(UI_PREFIX + "/events", events)
    for path, name, content_type in _FILES:
        r.add_get(path, _file_handler(name, content_type))
    return feed


def openapi_operations() -> list[Operation]:
    """What `GET /openapi.json` says about the dashboard's routes (the page itself is HTML and
    not part of the API)."""
    ctl = "control"
    return [
        Operation(
            "get",
            "/_mock/jobs",
            "mockListJobs",
            "Jobs as compact rows, newest first: filtered by status, project and id, one page",
            ctl,
            200,
            MockJobListResponse,
            (422,),
            auth=False,
            query=query_params(JobListQuery),
        ),
        Operation(
            "get",
            "/_mock/projects",
            "mockListProjects",
            "Every project with its organisation and job count, newest first",
            ctl,
            200,
            MockProjectsResponse,
            auth=False,
        ),
        Operation(
            "get",
            "/_mock/accounts",
            "mockListAccounts",
            "Credits per organisation, with the keys that can set them",
            ctl,
            200,
            MockAccountsResponse,
            auth=False,
        ),
        Operation(
            "get",
            "/_mock/machine",
            "mockJobMachine",
            "The job state machine: statuses, transitions, allowed events, mermaid source",
            ctl,
            200,
            MockMachineResponse,
            auth=False,
        ),
        Operation(
            "get",
            "/_mock/rules",
            "mockContractRules",
            "The contract rules a violation names, with the text of each",
            ctl,
            200,
            MockRulesResponse,
            auth=False,
        ),
        Operation(
            "get",
            UI_PREFIX + "/events",
            "mockUiEvents",
            "The dashboard's live feed (server-sent events; JSON messages with a type: hello, "
            "jobs, clock, projects, violations, faults, job, reset, resync); never ends",
            ctl,
            200,
            None,
            (422,),
            auth=False,
            query=(
                (
                    "job",
                    "also send a `job` message when this job's history, requests or webhook "
                    "deliveries move",
                    {"type": "string", "pattern": _JOB_ID.pattern},
                ),
            ),
            ok_schema={"type": "string"},
            ok_content_type="text/event-stream",
        ),
        *(
            Operation(
                "get",
                path,
                op_id,
                summary,
                ctl,
                200,
                None,
                auth=False,
                ok_schema={"type": "string"},
                ok_content_type=content_type,
            )
            for (path, _, content_type), op_id, summary in zip(
                _FILES,
                ("mockUiPage", "mockUiScript", "mockUiStyles"),
                ("The dashboard (HTML)", "The dashboard's script", "The dashboard's styles"),
                strict=True,
            )
        ),
    ]
