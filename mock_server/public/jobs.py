"""Jobs (API.md part A, "Jobs"): create (idempotent), list, read (the polling rule), resume and
cancel; every status change goes through the engine."""

from __future__ import annotations

import base64
import math
import re
import secrets
from urllib.parse import urlsplit

from aiohttp import web

from statemachine import (
    CommandRejected,
    InvalidTransition,
    Job,
    JobStatus,
)

from ..contract.rules import (
    Finding,
    create_fingerprint,
    judge_cancel,
    judge_create,
    judge_poll,
    judge_resume,
)
from ..errors import (
    Conflict,
    TooManyRequests,
    command_error,
    field_error,
    json_bytes_response,
    json_response,
)
from ..http.auth import (
    JOB_GRACE_SECONDS,
    JOB_ID_KEY,
    Principal,
    get_job_for,
    get_project_for,
)
from ..http.body import read_json
from ..http.endpoints import Endpoint, Param
from ..http.idempotency import Idempotent, fingerprint, idempotency_key
from ..state import STATE_KEY, MockState
from .models import (
    WEBHOOK_URL_PATTERN,
    CreateJobRequest,
    JobCreateResponse,
    JobResponse,
    JobsResponse,
)
from .projects import READ, SCENARIO_HEADER, WRITE, scenario_header
from .serialize import job_body, job_json

__all__ = ["ENDPOINTS", "IDEMPOTENCY_HEADER", "SCENARIO_HEADER", "new_webhook_secret"]

P = "/api/open/v1"
_ROUTE_CREATE_JOB = "POST /projects/{projectId}/jobs"
_PRIVATE_HOSTS = ("localhost", "127.", "10.", "192.168.", "0.", "[::1]", "::1")
_WEBHOOK_URL = re.compile(WEBHOOK_URL_PATTERN)
_BLOCKED = JobStatus.BLOCKED_INSUFFICIENT_CREDITS


def new_webhook_secret() -> str:
    """`wss_` + base64 of 24 random bytes; the HMAC key is those bytes (API.md part B)."""
    return "wss_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _check_webhook_url(url: str, *, strict: bool) -> None:
    # the OpenAPI document's pattern first: urlsplit raises on some inputs (`http://[::1`)
    if _WEBHOOK_URL.fullmatch(url) is None:
        raise field_error("webhookUrl", "must be an absolute http(s) URL")
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.netloc) and bool(parts.hostname)
    except ValueError:  # e.g. `HTTP://[0]`, which the pattern above keeps out anyway
        ok = False
    if not ok:
        raise field_error("webhookUrl", "must be an absolute http(s) URL")
    if strict:
        host = parts.hostname or ""
        if parts.scheme != "https" or host.startswith(_PRIVATE_HOSTS) or "." not in host:
            raise field_error(
                "webhookUrl",
                "must be a public HTTPS URL (the server runs with --strict-webhook-urls)",
            )


def _job_status(state: MockState, job_id: str | None) -> str:
    job = state.engine.jobs.get(job_id) if job_id is not None else None
    return job.state if job is not None else "unknown"


async def create_job(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    key = idempotency_key(request)
    body = await read_json(request, CreateJobRequest)
    if body.webhookUrl is not None:
        _check_webhook_url(body.webhookUrl, strict=state.config.strict_webhook_urls)
    scenario = scenario_header(request, state)
    idem = Idempotent(
        state.idempotency,
        principal.org,
        _ROUTE_CREATE_JOB,
        key,
        fingerprint(
            "POST",
            _ROUTE_CREATE_JOB,
            {
                "projectId": project.id,
                "body": body.model_dump(exclude_none=True),
                "scenario": request.headers.get(SCENARIO_HEADER),
            },
        ),
    )
    replay = idem.replay(state.engine.now, lambda job_id: _job_status(state, job_id))
    lost = state.polls.lost_creates(principal.api_key, project.id)
    if replay is not None:
        if lost is not None and key is not None:  # the client now has the job it created
            stored = state.idempotency.get(principal.org, _ROUTE_CREATE_JOB, key, state.engine.now)
            if stored is not None:
                lost.answered(str(stored.body.get("job", {}).get("id")))
        return replay
    if project.state != "ready":
        state.violations.record(
            "job_create_on_unready_project",
            at=state.engine.now,
            api_key=principal.api_key,
            project_id=project.id,
            message=f"a job was created in project {project.id} while it was {project.state}; "
            "Plangrep asks clients to wait until GET /projects/{projectId} says ready",
        )
    secret = new_webhook_secret()
    try:
        job = state.engine.create_job(
            project,
            external_id=body.externalId,
            scenario=scenario,
            webhook_url=body.webhookUrl,
            webhook_secret=secret,
        )
    except CommandRejected as exc:
        raise command_error(exc) from None
    request[JOB_ID_KEY] = job.id
    if lost is not None:
        what = create_fingerprint(body.externalId, body.webhookUrl)
        finding = judge_create(lost, state.engine.now, what)
        if finding is not None:
            state.violations.record(
                "duplicate_job",
                at=state.engine.now,
                job_id=job.id,
                api_key=principal.api_key,
                project_id=project.id,
                message=f"{job.id} repeats the create of {finding.facts['first']}, whose "
                "answer was lost; retry a create with the same Idempotency-Key, so the replay "
                "returns the job that was made instead of making another",
            )
    out = {"job": job_json(state, job), "webhookSigningSecret": secret}
    idem.remember(state.engine.now, 202, out)
    return json_response(out, status=202)


async def list_jobs(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    # jobs gone 24 h past their expiresAt (GET /jobs/{jobId} answers job_expired) are not listed
    gone = state.engine.now - JOB_GRACE_SECONDS
    return json_response(
        {"jobs": [job_json(state, j) for j in reversed(project.jobs) if j.expires_at > gone]}
    )


async def get_job(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    seen = state.polls.of(principal.api_key, job.id)
    now = state.engine.now
    policy = state.config.polling
    if policy != "off":
        for finding in judge_poll(seen, now, interval=state.polls.interval):
            _record(state, principal, job, finding)
            if finding.rule == "polling_too_fast" and policy == "enforce":
                # refused, so it does not count as a poll: the interval runs from the last
                # answered one
                raise TooManyRequests(
                    code="polling_too_fast",
                    message=f"{job.id} was polled {_secs(finding.facts['gap'])} s after the last "
                    f"answered poll; wait at least {_secs(finding.facts['interval'])} s between "
                    "polls (10-30 s recommended)",
                    retry_after=finding.facts["wait"],
                    fields={"retryAfterSeconds": finding.facts["wait"]},
                )
    seen.polled(now, status=job.state)
    return json_bytes_response(job_body(state, job))


def _record(state: MockState, principal: Principal, job: Job, finding: Finding) -> None:
    """Record, as of now, that this key broke one of the registry's rules about `job`."""
    facts = finding.facts
    if finding.rule == "polling_too_fast":
        message = (
            f"{job.id} was polled twice within {_secs(facts['gap'])} s; Plangrep asks for at "
            f"least {_secs(facts['interval'])} s between polls"
        )
    elif finding.rule == "poll_after_terminal":
        message = (
            f"{job.id} was polled again after it had been served the terminal status "
            f"{facts['served']}; Plangrep asks clients to stop polling at the first terminal "
            "status"
        )
    elif finding.rule == "resume_not_blocked":
        message = (
            f"{job.id} was resumed while {facts['status']} although this key was last shown "
            "another status; resume only a job last shown blocked_insufficient_credits"
        )
    else:
        message = (
            f"{job.id} was cancelled after this key had been shown its terminal status "
            f"{facts['status']}; a terminal job cannot be cancelled"
        )
    state.violations.record(
        finding.rule,
        at=state.engine.now,
        job_id=job.id,
        api_key=principal.api_key,
        message=message,
    )


def _secs(x: float) -> str:
    return f"{math.floor(x * 10) / 10:.1f}"


async def resume_job(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    seen = state.polls.of(principal.api_key, job.id)
    try:
        state.engine.resume(job)
    except InvalidTransition:
        finding = judge_resume(seen, job.state)
        if finding is not None:
            _record(state, principal, job, finding)
        seen.shown(job.state)  # the 409 tells the key the current status (currentStatus)
        raise Conflict(
            code="job_not_blocked",
            message=f"cannot resume {job.id}: its status is {job.state}; resume needs "
            "blocked_insufficient_credits",
            current_status=job.state,
        ) from None
    seen.shown(job.state)
    return json_response({"job": job_json(state, job)})


async def cancel_job(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    seen = state.polls.of(principal.api_key, job.id)
    try:
        outcome = state.engine.cancel(job)
    except InvalidTransition:
        finding = judge_cancel(seen, job.state)
        if finding is not None:
            _record(state, principal, job, finding)
        raise Conflict(
            code="job_not_cancellable",
            message=f"cannot cancel {job.id}: its status {job.state} is terminal; only "
            "non-terminal jobs can be cancelled",
            current_status=job.state,
        ) from None
    status = outcome.status if outcome.acknowledged_only else None
    seen.shown(outcome.status)
    return json_response({"job": job_json(state, job, status=status)})


IDEMPOTENCY_HEADER = Param(
    "Idempotency-Key",
    "Optional, at most 256 characters; a replay returns the first answer",
    schema=(("type", "string"), ("minLength", 1), ("maxLength", 256)),
)

ENDPOINTS = [
    Endpoint(
        "POST", P + "/projects/{projectId}/jobs", create_job, "createJob",
        "Create a job in a ready project", 202, JobCreateResponse, scope=WRITE,
        errors=(404, 409), body=CreateJobRequest, body_kind="json",
        headers=(
            IDEMPOTENCY_HEADER,
            Param(SCENARIO_HEADER, "The mock's scenario for this job (not part of Plangrep)"),
        ),
    ),
    Endpoint(
        "GET", P + "/projects/{projectId}/jobs", list_jobs, "listJobs",
        "List a project's jobs, newest first", 200, JobsResponse, scope=READ, errors=(404,),
    ),
    Endpoint(
        "GET", P + "/jobs/{jobId}", get_job, "getJob",
        "Get a job (at most once per 5 s per key)", 200, JobResponse, scope=READ,
        errors=(404, 429),
    ),
    Endpoint(
        "POST", P + "/jobs/{jobId}/resume", resume_job, "resumeJob",
        "Resume a job blocked for credits", 200, JobResponse, scope=WRITE, errors=(404, 409),
    ),
    Endpoint(
        "POST", P + "/jobs/{jobId}/cancel", cancel_job, "cancelJob",
        "Cancel a non-terminal job", 200, JobResponse, scope=WRITE, errors=(404, 409),
    ),
]  # fmt: skip
