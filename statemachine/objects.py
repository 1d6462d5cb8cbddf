"""The objects the engine keeps: projects, jobs, their files, and the values it answers with.

Plain slotted classes and named tuples: `simulate` builds hundreds of thousands of them. What a job
carries for the HTTP layer (its webhook URL and secret, the form-upload flows it saw) is typed here
too, so no part of the server hides data in an untyped bag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .errors import CommandRejected
from .ids import ulid
from .scenarios import Scenario
from .statuses import TERMINAL_STATUSES, FileStatus, JobStatus, ProjectStatus

if TYPE_CHECKING:
    from .processing import ProcessingRun

__all__ = [
    "MAX_DECLARED_BYTES",
    "MAX_FILES",
    "CancelOutcome",
    "FilePages",
    "FileSpec",
    "FormUploadRecord",
    "Job",
    "JobFile",
    "Progress",
    "Project",
    "ProjectCharge",
    "TransitionRecord",
    "require_upload_window",
]

MAX_FILES = 100
MAX_DECLARED_BYTES = 10_000_000_000
_BITS_80 = (1 << 80) - 1  # the document id's half of a file's 160 random bits


class TransitionRecord(NamedTuple):
    """One step of an object's history (immutable: a named tuple, cheap to build each time)."""

    kind: str  # "job" | "project"
    object_id: str
    event: str
    src: str
    dst: str
    at: float
    sequence: int  # 1-based position in the object's history
    forced: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.src, "to": self.dst, "event": self.event, "at": self.at}


class FileSpec(NamedTuple):
    """A file as declared by an upload or registration."""

    file_name: str
    size: int
    content_type: str = "application/pdf"
    classification: str | None = None
    sha256: str | None = None


class JobFile:
    """A file of a job. Its id and document id are drawn when the file is added (so they follow
    the seed) and spelled on first read: `simulate` adds ~200k files and reads none of them."""

    __slots__ = (
        "_document_id",
        "_id",
        "_id_bits",
        "_id_ms",
        "classification",
        "content_type",
        "drawing_pages",
        "error",
        "failed_pages",
        "file_name",
        "first_page",
        "pages",
        "sha256",
        "size",
        "status",
        "successful_pages",
    )

    def __init__(self, id_ms: int, id_bits: int, spec: FileSpec, status: FileStatus) -> None:
        self._id_ms = id_ms
        self._id_bits = id_bits  # 160 bits: the file id's 80 random bits, then the document's
        self._id: str | None = None
        self._document_id: str | None = None
        self.file_name = spec.file_name
        self.size = spec.size
        self.content_type = spec.content_type
        self.classification = spec.classification
        self.sha256 = spec.sha256
        self.status: str = status  # a FileStatus
        self.error: tuple[str, str] | None = None
        self.first_page = 0
        self.pages = 0
        self.drawing_pages = 0
        self.successful_pages = 0
        self.failed_pages = 0

    @property
    def id(self) -> str:
        if self._id is None:
            self._id = ulid("file_", self._id_ms, self._id_bits >> 80)
        return self._id

    @property
    def document_id(self) -> str:
        if self._document_id is None:
            self._document_id = ulid("doc_", self._id_ms, self._id_bits & _BITS_80)
        return self._document_id


_NEW_JOB_STATE: str = JobStatus.PROVISIONING.value  # a plain str: Enum.value is a property


class Project:
    __slots__ = (
        "created_at",
        "gen",
        "history",
        "id",
        "jobs",
        "name",
        "org",
        "state",
        "updated_at",
        "upgrade_from",
        "upgrade_until",
    )

    def __init__(self, project_id: str, org: str, name: str, now: float) -> None:
        self.id = project_id
        self.org = org
        self.name = name
        self.state: str = ProjectStatus.PROVISIONING.value
        self.created_at = now
        self.updated_at = now
        self.history: list[TransitionRecord] = []
        self.jobs: list[Job] = []
        self.gen = 0
        # a runtime upgrade (the scenario's project_upgrade) runs in [upgrade_from, upgrade_until)
        self.upgrade_from: float | None = None
        self.upgrade_until = 0.0

    @property
    def status(self) -> str:
        return self.state

    def upgrade_status(self, now: float) -> str:
        """`runtime.upgradeStatus` at `now`: `in_progress` while an upgrade runs, else `none`
        (the API reference's value)."""
        start = self.upgrade_from
        if start is not None and start <= now < self.upgrade_until:
            return "in_progress"
        return "none"


class Job:
    __slots__ = (
        "cancel_pending",
        "completed_at",
        "created_at",
        "credits_debited",
        "credits_held",
        "declared_bytes",
        "error",
        "expires_at",
        "external_id",
        "extra_added",
        "failed_uploads",
        "files",
        "gen",
        "history",
        "id",
        "org",
        "page_count",
        "page_drawing",
        "page_rates",
        "pages_done",
        "proc",
        "project_id",
        "scenario",
        "settled_from",
        "settled_ok",
        "state",
        "successful_pages",
        "updated_at",
        "upload_flows",
        "version",
        "webhook_secret",
        "webhook_url",
    )

    def __init__(
        self,
        job_id: str,
        project: Project,
        scenario: Scenario,
        now: float,
        external_id: str | None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        self.id = job_id
        self.project_id = project.id
        self.org = project.org
        self.external_id = external_id
        # where and with what secret the job's status changes are signed and sent
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        # form uploads by clientUploadFlowId: a retried flow stores nothing twice
        self.upload_flows: dict[str, tuple[FormUploadRecord, ...]] | None = None
        self.scenario = scenario
        self.state: str = _NEW_JOB_STATE
        self.created_at = now
        self.updated_at = now
        self.completed_at: float | None = None
        self.expires_at = now + scenario.job_ttl
        self.files: list[JobFile] = []
        self.declared_bytes = 0  # the sum of the files' sizes
        self.history: list[TransitionRecord] = []
        self.gen = 0
        # bumped on every change to what the Job object shows (a transition, a file added or
        # stored): with the progress of a processing run, all a cached Job JSON depends on
        self.version = 0
        self.error: tuple[str, str] | None = None
        self.page_count = 0
        self.page_rates: list[int] | None = None  # per page, fixed at the first preflight
        self.pages_done = 0
        self.successful_pages = 0
        self.credits_held = 0  # reserved and not yet debited or released
        self.credits_debited = 0
        self.proc: ProcessingRun | None = None
        self.cancel_pending = False
        self.extra_added = False
        # files the client reported in failedUploads: the job then ends completed_with_errors,
        # or failed when no other file is left to process
        self.failed_uploads = 0
        self.page_drawing: bytearray | None = None  # 1 per drawing page, parallel to page_rates
        # a forced complete / complete_with_errors settles pages from here: all ok / all failed
        self.settled_from: int | None = None
        self.settled_ok = False

    @property
    def status(self) -> str:
        return self.state

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATUSES


class Progress(NamedTuple):
    """A job's page and credit figures as of a virtual time."""

    pages_done: int
    successful_pages: int
    credits_debited: int
    credits_held: int


@dataclass(frozen=True, slots=True)
class FilePages:
    """One file's pages as the engine processed them (see `Engine.page_breakdown`)."""

    document_id: str
    pages: int
    drawing_pages: int
    successful_drawing_pages: int
    successful_document_pages: int
    failed_pages: int
    failed_page_numbers: tuple[int, ...] = ()  # 1-based within the file

    @property
    def document_pages(self) -> int:
        return self.pages - self.drawing_pages

    @property
    def successful_pages(self) -> int:
        return self.successful_drawing_pages + self.successful_document_pages


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What a cancel request answers: `cancelled` unless the job already changed otherwise.

    `acknowledged_only` is true when the response says cancelled but the job itself is not
    (yet) cancelled: a deferred cancel, or one that lost the race with processing.
    """

    status: str
    acknowledged_only: bool
    at: float


@dataclass(frozen=True, slots=True)
class FormUploadRecord:
    """One file a form upload stored: the part it came in and its status then."""

    file: JobFile
    part_name: str
    status: str


@dataclass(frozen=True, slots=True)
class ProjectCharge:
    """What creating a project cost: the balance before, the charge, and the price."""

    available: int
    charged: int
    required: int


def require_upload_window(job: Job) -> None:
    """The one upload-window check: a job takes files and bytes only in awaiting_uploads and
    uploading. Raises `CommandRejected` (`job_not_ready` while provisioning, `uploads_closed`
    after)."""
    if job.state == _PROVISIONING:
        raise CommandRejected(
            code="job_not_ready",
            message=f"job {job.id} is still provisioning; uploads open at awaiting_uploads",
            object_id=job.id,
            status=job.state,
        )
    if job.state not in (_AWAITING_UPLOADS, _UPLOADING):
        raise CommandRejected(
            code="uploads_closed",
            message=f"job {job.id} is {job.state}; uploads are accepted only in "
            "awaiting_uploads and uploading",
            object_id=job.id,
            status=job.state,
        )


_PROVISIONING = JobStatus.PROVISIONING
_AWAITING_UPLOADS = JobStatus.AWAITING_UPLOADS
_UPLOADING = JobStatus.UPLOADING
