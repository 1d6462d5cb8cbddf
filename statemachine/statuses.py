"""Statuses and events of Plangrep jobs and projects, as public names."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIVE_STATUSES",
    "OPEN_FILE_STATUSES",
    "RESULT_STATUSES",
    "TERMINAL_STATUSES",
    "UPLOAD_WINDOW",
    "FileStatus",
    "JobEvent",
    "JobStatus",
    "ProjectEvent",
    "ProjectStatus",
]


class JobStatus(StrEnum):
    """The eleven job statuses Plangrep documents."""

    PROVISIONING = "provisioning"
    AWAITING_UPLOADS = "awaiting_uploads"
    UPLOADING = "uploading"
    PREFLIGHTING = "preflighting"
    BLOCKED_INSUFFICIENT_CREDITS = "blocked_insufficient_credits"
    PROCESSING = "processing"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


TERMINAL_STATUSES: frozenset[str] = frozenset(
    {
        JobStatus.COMPLETED,
        JobStatus.COMPLETED_WITH_ERRORS,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
        JobStatus.EXPIRED,
    }
)
ACTIVE_STATUSES: frozenset[str] = frozenset(s for s in JobStatus if s not in TERMINAL_STATUSES)
# the statuses in which a job has a result document
RESULT_STATUSES: frozenset[str] = frozenset({JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS})
# the statuses in which a job accepts files (form upload, registration, bytes)
UPLOAD_WINDOW: frozenset[str] = frozenset({JobStatus.AWAITING_UPLOADS, JobStatus.UPLOADING})


class FileStatus(StrEnum):
    """A job file's status (`job.files[].status`); the docs show the field, the mock names the
    values: registered files are `pending` until their bytes are stored."""

    PENDING = "pending"
    UPLOADED = "uploaded"
    SKIPPED = "skipped"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# files whose outcome is still open: a cancel or failure settles them
OPEN_FILE_STATUSES: frozenset[str] = frozenset(
    {FileStatus.PENDING, FileStatus.UPLOADED, FileStatus.PROCESSING}
)


class JobEvent(StrEnum):
    """Job events; the names are public (control API, diagram)."""

    PROVISION = "provision"
    START_UPLOAD = "start_upload"
    COMPLETE_UPLOADS = "complete_uploads"
    PASS_PREFLIGHT = "pass_preflight"
    BLOCK = "block"
    RESUME = "resume"
    COMPLETE = "complete"
    COMPLETE_WITH_ERRORS = "complete_with_errors"
    FAIL = "fail"
    CANCEL = "cancel"
    EXPIRE = "expire"


class ProjectStatus(StrEnum):
    PROVISIONING = "provisioning"
    READY = "ready"


class ProjectEvent(StrEnum):
    PROVISION = "provision"
