"""Jobs and projects as Plangrep documents them (API.md part A, "Projects" and "Jobs")."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from statemachine import MAX_DECLARED_BYTES, MAX_FILES, TERMINAL_STATUSES
from statemachine import format_time as _format_time
from statemachine.engine import Job, Project

from .state import MockState

__all__ = ["LIMITS", "file_json", "job_body", "job_json", "project_json"]

LIMITS: dict[str, int] = {"maxDeclaredBytes": MAX_DECLARED_BYTES, "maxFiles": MAX_FILES}
_RESULT_STATUSES = frozenset({"completed", "completed_with_errors"})
_OPEN_FILE_STATUSES = frozenset({"pending", "uploaded", "processing"})


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
    cancel_shown = shown == "cancelled" and job.state != "cancelled"
    files = [
        file_json(
            f.id,
            f.document_id,
            f.file_name,
            "cancelled" if cancel_shown and f.status in _OPEN_FILE_STATUSES else f.status,
        )
        for f in job.files
    ]
    result_url = None
    if shown in _RESULT_STATUSES and job.state in _RESULT_STATUSES and state.result_url:
        result_url = state.result_url(state, job)
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


def project_json(state: MockState, project: Project) -> dict[str, Any]:
    ready = project.state == "ready"
    return {
        "id": project.id,
        "name": project.name,
        "projectKind": "open_api",
        "status": project.state,
        "runtime": {"status": "running" if ready else "starting", "upgradeStatus": None},
        "createdAt": format_time(project.created_at),
        "updatedAt": format_time(project.updated_at),
    }


def job_body(state: MockState, job: Job) -> bytes:
    """`{"job": Job}` serialized, reused while nothing the Job object shows has changed (a poll
    of a job between two of its changes costs a dictionary lookup, not a serialization)."""
    key = (
        job.gen,
        job.updated_at,
        state.engine.progress(job),
        tuple(f.status for f in job.files),
    )
    cached = state.job_json_cache.get(job.id)
    if cached is not None and cached[0] == key:
        return cached[1]
    body = json.dumps({"job": job_json(state, job)}, separators=(",", ":")).encode()
    state.job_json_cache[job.id] = (key, body)
    return body
