"""Jobs and projects as Plangrep documents them (API.md part A, "Projects" and "Jobs")."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from statemachine import (
    MAX_DECLARED_BYTES,
    MAX_FILES,
    OPEN_FILE_STATUSES,
    RESULT_STATUSES,
    TERMINAL_STATUSES,
    FileStatus,
    Job,
    JobStatus,
    Project,
    ProjectCharge,
    ProjectStatus,
)
from statemachine import format_time as _format_time

if TYPE_CHECKING:
    from ..state import MockState

__all__ = [
    "LIMITS",
    "RESULT_STATUSES",
    "charge_json",
    "file_json",
    "job_body",
    "job_json",
    "project_json",
]

LIMITS: dict[str, int] = {"maxDeclaredBytes": MAX_DECLARED_BYTES, "maxFiles": MAX_FILES}


# A job's createdAt and expiresAt never change and updatedAt rarely does: formatting them is the
# largest cost of a poll, so the strings are cached (bounded).
format_time = lru_cache(maxsize=8192)(_format_time)


def _time(t: float | None) -> str | None:
    return None if t is None else format_time(t)


def file_json(file_id: str, document_id: str, file_name: str, status: str) -> dict[str, Any]:
    return {"id": file_id, "documentId": document_id, "fileName": file_name, "status": status}


def job_json(state: MockState, job: Job, *, status: str | None = None) -> dict[str, Any]:
    """The Job object. `status` shows the job in that status instead of its own: the answer to an
    acknowledged (deferred or race_lost) cancel, or a webhook for an earlier transition."""
    shown = job.state if status is None else status
    prog = state.engine.progress(job)
    if shown == job.state:
        completed_at = job.completed_at
    elif shown in TERMINAL_STATUSES:
        completed_at = job.completed_at if job.completed_at is not None else state.engine.now
    else:
        completed_at = None
    cancel_shown = shown == JobStatus.CANCELLED and job.state != JobStatus.CANCELLED
    files = [
        file_json(
            f.id,
            f.document_id,
            f.file_name,
            FileStatus.CANCELLED if cancel_shown and f.status in OPEN_FILE_STATUSES else f.status,
        )
        for f in job.files
    ]
    result_url = None
    if shown in RESULT_STATUSES and job.state in RESULT_STATUSES:
        result_url = state.storage.result_url(job)
    error = None
    if job.error is not None and shown == job.state:
        error = {"code": job.error[0], "message": job.error[1]}
    return {
        "id": job.id,
        "externalId": job.external_id,
        "status": shown,
        "projectId": job.project_id,
        "limits": dict(LIMITS),
        "pageCount": job.page_count,
        "successfulPageCount": prog.successful_pages,
        "billing": {
            "creditsReserved": prog.credits_held,
            "creditsDebited": prog.credits_debited,
        },
        "files": files,
        "resultUrl": result_url,
        "error": error,
        "createdAt": format_time(job.created_at),
        "updatedAt": format_time(job.updated_at),
        "completedAt": _time(completed_at),
        "expiresAt": format_time(job.expires_at),
    }


def charge_json(charge: ProjectCharge) -> dict[str, int]:
    """The `billing` of a project creation answer."""
    return {
        "availableCredits": charge.available,
        "creditsCharged": charge.charged,
        "requiredCredits": charge.required,
    }


def project_json(state: MockState, project: Project) -> dict[str, Any]:
    ready = project.state == ProjectStatus.READY
    return {
        "id": project.id,
        "name": project.name,
        "projectKind": "open_api",
        "status": project.state,
        "runtime": {
            "status": "running" if ready else "starting",
            # "none" as the API reference shows; "in_progress" while a scenario's upgrade runs
            "upgradeStatus": project.upgrade_status(state.engine.now),
        },
        "createdAt": format_time(project.created_at),
        "updatedAt": format_time(project.updated_at),
    }


def job_body(state: MockState, job: Job) -> bytes:
    """`{"job": Job}` serialized, reused while nothing the Job object shows has changed (a poll
    of a job between two of its changes costs a dictionary lookup, not a serialization)."""
    # the engine bumps `version` on every change the Job object shows; a processing run's
    # pages (and with them its credits) move with the clock between changes
    run = job.proc
    key: object = job.version if run is None else (job.version, run.pages_run(state.engine.now))
    cached = state.job_json_cache.get(job.id)
    if cached is not None and cached[0] == key:
        return cached[1]
    body = json.dumps({"job": job_json(state, job)}, separators=(",", ":")).encode()
    state.job_json_cache[job.id] = (key, body)
    return body
