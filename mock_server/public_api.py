"""Plangrep's public API under /api/open/v1 (API.md part A); every status change goes through the
engine."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from statemachine import (
    TERMINAL_STATUSES,
    CommandRejected,
    FileSpec,
    InvalidTransition,
    Scenario,
    UnknownScenario,
)
from statemachine.engine import Job

from .auth import JOB_ID_KEY, Principal, authenticate, get_job_for, get_project_for
from .errors import ApiError, conflict, json_response, short
from .idempotency import MAX_IDEMPOTENCY_KEY, fingerprint
from .models import (
    WEBHOOK_URL_PATTERN,
    CompleteUploadsRequest,
    CreateJobRequest,
    CreateProjectRequest,
    FormFileMetadata,
    FormMetadata,
    field_error,
    parse_model,
    read_json,
)
from .serialize import job_body, job_json, project_json
from .state import STATE_KEY, MockState

__all__ = [
    "PUBLIC_PREFIX",
    "READ",
    "WRITE",
    "command_error",
    "idempotency_key",
    "new_webhook_secret",
    "setup_public_api",
]

PUBLIC_PREFIX = "/api/open/v1"
READ = "jobs:read"
WRITE = "jobs:write"
SCENARIO_HEADER = "X-Mock-Scenario"
_ROUTE_CREATE_JOB = "POST /projects/{projectId}/jobs"
_ROUTE_COMPLETE = "POST /jobs/{jobId}/uploads/complete"
_PRIVATE_HOSTS = ("localhost", "127.", "10.", "192.168.", "0.", "[::1]", "::1")


def new_webhook_secret() -> str:
    """`wss_` + base64 of 24 random bytes; the HMAC key is those bytes (API.md part B)."""
    return "wss_" + base64.b64encode(secrets.token_bytes(24)).decode()


def command_error(exc: CommandRejected) -> ApiError:
    """An engine refusal as the API answers it (limit_exceeded is 422, the rest 409)."""
    if exc.code == "limit_exceeded":
        return ApiError(422, exc.code, str(exc))
    return conflict(exc.code, str(exc), exc.status)


def idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY:
        raise field_error(
            "Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} characters, got {len(key)}"
        )
    return key


def _replay(
    state: MockState, principal: Principal, route: str, key: str | None, print_: str
) -> web.Response | None:
    """The stored answer for a repeated Idempotency-Key, or 409 when the request differs."""
    if key is None:
        return None
    stored = state.idempotency.get(principal.org, route, key, state.engine.now)
    if stored is None:
        return None
    if stored.fingerprint != print_:
        job_id = stored.body.get("job", {}).get("id")
        job = state.engine.jobs.get(job_id) if isinstance(job_id, str) else None
        raise conflict(
            "idempotency_key_reused",
            f"the Idempotency-Key {short(key, 40)!r} was used for a different request on this "
            "route; use a new key for a new request",
            job.state if job is not None else "unknown",
        )
    return json_response({**stored.body, "idempotent": True}, status=stored.status)


def _remember(
    state: MockState,
    principal: Principal,
    route: str,
    key: str | None,
    print_: str,
    status: int,
    body: dict[str, Any],
) -> None:
    if key is None:
        return
    kept = {k: v for k, v in body.items() if k != "webhookSigningSecret"}
    state.idempotency.put(
        principal.org,
        route,
        key,
        fingerprint=print_,
        status=status,
        body=kept,
        now=state.engine.now,
    )


# --------------------------------------------------------------------------- projects


async def create_project(request: web.Request) -> web.Response:
    principal = authenticate(request, WRITE)
    body = await read_json(request, CreateProjectRequest)
    state = request.app[STATE_KEY]
    try:
        project, billing = state.engine.create_project(principal.org, body.name)
    except CommandRejected as exc:
        raise conflict(exc.code, str(exc), exc.status) from None
    return json_response({"project": project_json(state, project), "billing": billing}, status=202)


async def list_projects(request: web.Request) -> web.Response:
    principal = authenticate(request, READ)
    state = request.app[STATE_KEY]
    projects = [p for p in state.engine.projects.values() if p.org == principal.org]
    return json_response({"projects": [project_json(state, p) for p in projects]})


async def get_project(request: web.Request) -> web.Response:
    principal = authenticate(request, READ)
    project = get_project_for(request, principal, request.match_info["projectId"])
    return json_response({"project": project_json(request.app[STATE_KEY], project)})


# --------------------------------------------------------------------------- jobs


_WEBHOOK_URL = re.compile(WEBHOOK_URL_PATTERN)


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


def _scenario_header(request: web.Request, state: MockState) -> Scenario | None:
    name = request.headers.get(SCENARIO_HEADER)
    if name is None:
        return None
    try:
        return state.scenarios.get(name)
    except UnknownScenario as exc:
        raise ApiError(
            422,
            "validation_error",
            f"unknown scenario {short(name, 64)!r} in {SCENARIO_HEADER}; known scenarios: "
            f"{', '.join(exc.known)}",
            details=[{"field": SCENARIO_HEADER, "message": f"known: {', '.join(exc.known)}"}],
        ) from None


async def create_job(request: web.Request) -> web.Response:
    principal = authenticate(request, WRITE)
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    key = idempotency_key(request)
    body = await read_json(request, CreateJobRequest)
    if body.webhookUrl is not None:
        _check_webhook_url(body.webhookUrl, strict=state.config.strict_webhook_urls)
    scenario = _scenario_header(request, state)
    print_ = fingerprint(
        "POST",
        _ROUTE_CREATE_JOB,
        {
            "projectId": project.id,
            "body": body.model_dump(exclude_none=True),
            "scenario": request.headers.get(SCENARIO_HEADER),
        },
    )
    replay = _replay(state, principal, _ROUTE_CREATE_JOB, key, print_)
    if replay is not None:
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
            meta={"webhook_url": body.webhookUrl, "webhook_secret": secret},
        )
    except CommandRejected as exc:
        raise command_error(exc) from None
    request[JOB_ID_KEY] = job.id
    out = {"job": job_json(state, job), "webhookSigningSecret": secret}
    _remember(state, principal, _ROUTE_CREATE_JOB, key, print_, 202, out)
    return json_response(out, status=202)


async def list_jobs(request: web.Request) -> web.Response:
    principal = authenticate(request, READ)
    state = request.app[STATE_KEY]
    project = get_project_for(request, principal, request.match_info["projectId"])
    return json_response({"jobs": [job_json(state, j) for j in reversed(project.jobs)]})


async def get_job(request: web.Request) -> web.Response:
    principal = authenticate(request, READ)
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    policy = state.config.polling
    if policy != "off":
        _apply_polling_rule(state, principal, job, enforce=policy == "enforce")
    state.polls.answered(
        principal.api_key,
        job.id,
        state.engine.now,
        terminal=job.state in TERMINAL_STATUSES,
        status=job.state,
    )
    return web.Response(body=job_body(state, job), content_type="application/json")


def _job_violation(
    state: MockState, principal: Principal, job: Job, rule: str, message: str
) -> None:
    """Record, as of now, that this key broke one of Plangrep's rules about `job`."""
    state.violations.record(
        rule, at=state.engine.now, job_id=job.id, api_key=principal.api_key, message=message
    )


def _apply_polling_rule(
    state: MockState, principal: Principal, job: Job, *, enforce: bool
) -> None:
    now = state.engine.now
    decision = state.polls.check(principal.api_key, job.id, now)
    interval = state.polls.interval
    if decision.after_terminal:
        _job_violation(
            state,
            principal,
            job,
            "poll_after_terminal",
            f"{job.id} was polled again after it had been served the terminal status "
            f"{job.state}; Plangrep asks clients to stop polling at the first terminal status",
        )
    if decision.too_fast:
        since = decision.since_last or 0.0
        _job_violation(
            state,
            principal,
            job,
            "polling_too_fast",
            f"{job.id} was polled twice within {_secs(since)} s; Plangrep asks for at "
            f"least {_secs(interval)} s between polls",
        )
        if enforce:
            raise ApiError(
                429,
                "polling_too_fast",
                f"{job.id} was polled {_secs(since)} s after the last answered poll; wait at "
                f"least {_secs(interval)} s between polls (10-30 s recommended)",
                headers={"Retry-After": str(decision.retry_after)},
                retryAfterSeconds=decision.retry_after,
            )


def _secs(x: float) -> str:
    return f"{math.floor(x * 10) / 10:.1f}"


BLOCKED = "blocked_insufficient_credits"


async def resume_job(request: web.Request) -> web.Response:
    principal = authenticate(request, WRITE)
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    try:
        state.engine.resume(job)
    except InvalidTransition:
        # A client that last saw the job blocked raced with someone else's resume: not its fault.
        if state.polls.last_status(principal.api_key, job.id) != BLOCKED:
            _job_violation(
                state,
                principal,
                job,
                "resume_not_blocked",
                f"{job.id} was resumed while {job.state} although this key was last "
                "shown another status; resume only a job last shown blocked_insufficient_credits",
            )
        # the 409 tells the key the current status (currentStatus)
        state.polls.shown(principal.api_key, job.id, job.state, terminal=job.terminal)
        raise conflict(
            "job_not_blocked",
            f"cannot resume {job.id}: its status is {job.state}; resume needs "
            "blocked_insufficient_credits",
            job.state,
        ) from None
    state.polls.shown(principal.api_key, job.id, job.state, terminal=job.terminal)
    return json_response({"job": job_json(state, job)})


async def cancel_job(request: web.Request) -> web.Response:
    principal = authenticate(request, WRITE)
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    try:
        outcome = state.engine.cancel(job)
    except InvalidTransition:
        # Only a key that was already shown the terminal status broke the contract; a cancel
        # that races with the job's own ending is answered 409 but is not the client's fault.
        if state.polls.served_terminal(principal.api_key, job.id):
            _job_violation(
                state,
                principal,
                job,
                "cancel_not_cancellable",
                f"{job.id} was cancelled after this key had been shown its terminal "
                f"status {job.state}; a terminal job cannot be cancelled",
            )
        raise conflict(
            "job_not_cancellable",
            f"cannot cancel {job.id}: its status {job.state} is terminal; only non-terminal "
            "jobs can be cancelled",
            job.state,
        ) from None
    status = outcome.status if outcome.acknowledged_only else None
    state.polls.shown(principal.api_key, job.id, outcome.status, terminal=True)
    return json_response({"job": job_json(state, job, status=status)})


# --------------------------------------------------------------------------- uploads


async def upload_files(request: web.Request) -> web.Response:
    """The form upload: a `metadata` part (a JSON string) and file parts `file0`, `file1`, ..."""
    principal = authenticate(request, WRITE)
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    mime = request.content_type
    if mime != "multipart/form-data":
        raise ApiError(
            415,
            "unsupported_media_type",
            f"the body is {mime or 'without a content type'}; this route takes "
            "multipart/form-data with a metadata part and file parts file0, file1, ...",
        )
    metadata_text, parts = await _read_form(request, state.config.max_body_bytes)
    if metadata_text is None:
        raise field_error("metadata", "the form has no metadata part (a JSON string)")
    try:
        raw_meta = json.loads(metadata_text)
    except ValueError as exc:
        raise field_error("metadata", f"the metadata part is not valid JSON: {exc}") from None
    meta = parse_model(FormMetadata, raw_meta)
    if not parts:
        raise field_error("file0", "the form has no file part; name them file0, file1")
    specs, names = _form_specs(meta, parts)
    flow = meta.clientUploadFlowId
    flows: dict[str, list[dict[str, Any]]] = (job.meta or {}).setdefault("upload_flows", {})
    if flow is not None and flow in flows:
        # a retry of an upload flow that already went through: nothing is stored twice
        return json_response(
            {"job": job_json(state, job), "status": "skipped", "uploads": flows[flow]}
        )
    try:
        added = state.engine.add_files(job, specs)
    except CommandRejected as exc:
        raise command_error(exc) from None
    uploads = [
        {
            "documentId": f.document_id,
            "fileId": f.id,
            "fileName": f.file_name,
            "contentType": f.content_type,
            "fileSize": f.size,
            "partName": part,
            "status": f.status,
        }
        for f, part in zip(added, names, strict=True)
    ]
    if flow is not None:
        flows[flow] = uploads
    return json_response({"job": job_json(state, job), "status": "uploaded", "uploads": uploads})


async def _read_form(
    request: web.Request, limit: int
) -> tuple[str | None, dict[str, tuple[str | None, str | None, bytes]]]:
    """(metadata text, {part name: (file name, content type, bytes)}), at most `limit` bytes."""
    try:
        return await _read_form_parts(request, limit)
    except (HttpProcessingError, ValueError) as exc:
        # aiohttp's multipart reader raises these for a body it cannot parse (a part header
        # with control characters, a missing boundary, ...): the client's error, not ours
        raise field_error("(body)", f"the multipart body is malformed: {exc}") from None


async def _read_form_parts(
    request: web.Request, limit: int
) -> tuple[str | None, dict[str, tuple[str | None, str | None, bytes]]]:
    reader = await request.multipart()
    metadata: str | None = None
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    total = 0
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise field_error("(body)", "nested multipart bodies are not accepted")
        name = part.name or ""
        chunks: list[bytes] = []
        while True:
            chunk = await part.read_chunk(256 * 1024)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ApiError(
                    413,
                    "payload_too_large",
                    f"the upload is larger than {limit} bytes (see --max-upload-mb)",
                    maxBytes=limit,
                )
            chunks.append(chunk)
        data = b"".join(chunks)
        if name == "metadata":
            try:
                metadata = data.decode("utf-8")
            except UnicodeDecodeError:
                raise field_error("metadata", "the metadata part is not UTF-8 text") from None
        else:  # a part without a name is checked like any other name (it is not file0..N)
            if name in parts:
                raise field_error(short(name, 64), "this part name appears twice")
            parts[name] = (part.filename, part.headers.get("Content-Type"), data)
    return metadata, parts


def _bad_file_name(name: str) -> str | None:
    if "/" in name or "\\" in name:
        return "a file name cannot contain / or \\"
    if name in (".", "..") or ".." in name.split("."):
        return "a file name cannot be . or .. or contain .."
    if "\x00" in name or any(ord(c) < 32 for c in name):
        return "a file name cannot contain NUL or control characters"
    if not name.strip():
        return "a file name cannot be empty"
    if len(name) > 255:
        return f"a file name has at most 255 characters, got {len(name)}"
    return None


def _form_specs(
    meta: FormMetadata, parts: dict[str, tuple[str | None, str | None, bytes]]
) -> tuple[list[FileSpec], list[str]]:
    """Match metadata entries to file parts; entries without a part and parts with a name
    other than file0..N are errors."""
    by_part: dict[str, FormFileMetadata] = {}
    for i, entry in enumerate(meta.files or []):
        if entry.partName in by_part:
            raise field_error(f"metadata.files.{i}.partName", "named twice")
        if entry.partName not in parts:
            raise field_error(
                f"metadata.files.{i}.partName",
                f"no form part named {short(entry.partName, 64)!r}; "
                f"parts sent: {', '.join(sorted(parts)) or 'none'}",
            )
        by_part[entry.partName] = entry
    specs: list[FileSpec] = []
    names: list[str] = []
    for name in sorted(parts, key=_part_order):
        if _part_order(name) == (1, 0, name):
            raise field_error(short(name, 64), "file parts are named file0, file1, ...")
        filename, content_type, data = parts[name]
        found = by_part.get(name)
        file_name = found.fileName if found else (filename or name)
        problem = _bad_file_name(file_name)
        if problem:
            raise field_error(f"{short(name, 64)}.fileName", problem)
        if found and found.sha256 and hashlib.sha256(data).hexdigest() != found.sha256:
            raise ApiError(
                422,
                "integrity_error",
                f"the bytes of part {name} do not match its declared sha256",
                documentField="sha256",
                partName=name,
            )
        specs.append(
            FileSpec(
                file_name=file_name,
                size=len(data),
                content_type=(found.contentType if found else content_type) or "application/pdf",
                classification=found.classification if found else None,
                sha256=found.sha256 if found else None,
            )
        )
        names.append(name)
    return specs, names


def _part_order(name: str) -> tuple[int, int, str]:
    digits = name[4:]
    # ASCII digits only: "file²" is isdigit() but not int()-able
    if name.startswith("file") and digits.isascii() and digits.isdigit() and len(name) <= 8:
        return (0, int(digits), name)
    return (1, 0, name)


async def complete_uploads(request: web.Request) -> web.Response:
    principal = authenticate(request, WRITE)
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    key = idempotency_key(request)
    body = await read_json(request, CompleteUploadsRequest)
    print_ = fingerprint(
        "POST", _ROUTE_COMPLETE, {"jobId": job.id, "body": body.model_dump(exclude_none=True)}
    )
    replay = _replay(state, principal, _ROUTE_COMPLETE, key, print_)
    if replay is not None:
        return replay
    include, failed = _resolve_complete(state, job, body)
    try:
        state.engine.complete_uploads(job, include=include, failed=failed)
    except CommandRejected as exc:
        raise command_error(exc) from None
    out = {"job": job_json(state, job)}
    _remember(state, principal, _ROUTE_COMPLETE, key, print_, 202, out)
    return json_response(out, status=202)


def _resolve_complete(
    state: MockState, job: Job, body: CompleteUploadsRequest
) -> tuple[list[Any] | None, list[tuple[Any, str]]]:
    """Which files to process and which failed. The registered-upload fields (directUploads,
    multipartUploads, failedUploads) are resolved by the uploads part when it is installed."""
    resolver = state.complete_resolver
    if resolver is not None:
        return resolver(state, job, body)
    if body.documentIds is None:
        return None, []
    by_doc = {f.document_id: f for f in job.files}
    include = []
    for i, doc in enumerate(body.documentIds):
        f = by_doc.get(doc)
        if f is None:
            raise ApiError(
                404,
                "document_not_found",
                f"documentIds[{i}]: no document {short(doc)} in job {job.id}",
            )
        if f.status != "uploaded":
            raise conflict(
                "uploads_closed" if f.status != "pending" else "no_documents",
                f"documentIds[{i}]: document {doc} is {f.status}, not uploaded",
                job.state,
            )
        include.append(f)
    return include, []


def setup_public_api(app: web.Application) -> None:
    r = app.router
    p = PUBLIC_PREFIX
    r.add_post(p + "/projects", create_project)
    r.add_get(p + "/projects", list_projects)
    r.add_get(p + "/projects/{projectId}", get_project)
    r.add_post(p + "/projects/{projectId}/jobs", create_job)
    r.add_get(p + "/projects/{projectId}/jobs", list_jobs)
    r.add_get(p + "/jobs/{jobId}", get_job)
    r.add_post(p + "/jobs/{jobId}/resume", resume_job)
    r.add_post(p + "/jobs/{jobId}/cancel", cancel_job)
    r.add_post(p + "/jobs/{jobId}/files", upload_files)
    r.add_post(p + "/jobs/{jobId}/uploads/complete", complete_uploads)
