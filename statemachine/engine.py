"""The engine: projects, jobs, credits and commands on one virtual clock.

Every status change goes through the shared machines (`machine.py`). The engine is one class
assembled by concern: `Scheduler` (clock, due events, subscribers), `JobProcessing` (preflight,
processing, settling), `JobQueries` (progress and pages, read only); this module holds the
commands and the transitions. The objects it keeps are in `objects.py`, ids in `ids.py`.

Subscribers are called once per transition, in order, as `fn(record, obj)`, after the transition's
own bookkeeping (timestamps, pages, credits) and before any follow-up transition it causes.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence

from ._hot import (
    AWAITING_UPLOADS,
    BLOCKED_INSUFFICIENT_CREDITS,
    CANCELLED,
    EV_CANCEL,
    EV_COMPLETE,
    EV_COMPLETE_UPLOADS,
    EV_COMPLETE_WITH_ERRORS,
    EV_EXPIRE,
    EV_FAIL,
    EV_PROVISION,
    EV_RESUME,
    EV_START_UPLOAD,
    F_FAILED,
    F_SKIPPED,
    F_UPLOADED,
    PREFLIGHTING,
    PROCESSING,
    PROJECT_PROVISIONING,
    PROJECT_READY,
    new_tuple,
)
from .billing import DEFAULT_CREDITS, PROJECT_CREATION_CHARGE, Account
from .clock import Clock
from .errors import CommandRejected
from .ids import ulid
from .machine import fire_job_event, fire_project_event
from .objects import (
    MAX_DECLARED_BYTES,
    MAX_FILES,
    CancelOutcome,
    FilePages,
    FileSpec,
    Job,
    JobFile,
    Progress,
    Project,
    ProjectCharge,
    TransitionRecord,
    require_upload_window,
)
from .processing import JobProcessing
from .queries import JobQueries
from .scenarios import DEFAULT_SCENARIO, Scenario, ScenarioRegistry
from .scheduler import Scheduler, Subscriber
from .statuses import TERMINAL_STATUSES, FileStatus, JobEvent

__all__ = [
    "MAX_DECLARED_BYTES",
    "MAX_FILES",
    "CancelOutcome",
    "Engine",
    "FilePages",
    "FileSpec",
    "Job",
    "JobFile",
    "Progress",
    "Project",
    "ProjectCharge",
    "Subscriber",
    "TransitionRecord",
]


class Engine(Scheduler, JobProcessing, JobQueries):
    """The lifecycle core shared by the server, `simulate` and the contract kit."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        scenarios: ScenarioRegistry | None = None,
        default_scenario: str = DEFAULT_SCENARIO,
        seed: int | None = None,
        default_credits: int = DEFAULT_CREDITS,
    ) -> None:
        super().__init__(clock)
        self.scenarios = scenarios or ScenarioRegistry()
        self.default_scenario = self.scenarios.get(default_scenario)
        self.default_credits = default_credits
        self.rng = random.Random(seed)
        self.jobs: dict[str, Job] = {}
        self.projects: dict[str, Project] = {}
        # each organisation's projects in creation order (GET /projects reads only its own)
        self.projects_by_org: dict[str, list[Project]] = {}
        self.accounts: dict[str, Account] = {}
        self._project_names: dict[str, set[str]] = {}
        self._queued_scenarios: list[Scenario] = []
        self._forgotten: dict[str, int] = {}  # per project: forgotten jobs still in its list
        self._on_enter: dict[str, Callable[[Job], None]] = {
            PREFLIGHTING: self._enter_preflighting,
            PROCESSING: self._enter_processing,
        }

    def new_id(self, prefix: str) -> str:
        """`prefix` + a ULID of the virtual time: 26 lowercase Crockford base32 characters."""
        return ulid(prefix, int(self.now * 1000), self.rng.getrandbits(80))

    def account(self, org: str) -> Account:
        acct = self.accounts.get(org)
        if acct is None:
            acct = self.accounts[org] = Account(org=org, balance=self.default_credits)
        return acct

    def set_balance(self, org: str, balance: int) -> Account:
        acct = self.account(org)
        acct.balance = balance
        return acct

    def queue_scenario(self, scenario: Scenario) -> None:
        """The next job created without an explicit scenario takes this one (FIFO)."""
        self._queued_scenarios.append(scenario)

    @property
    def queued_scenarios(self) -> Sequence[Scenario]:
        return tuple(self._queued_scenarios)

    # ------------------------------------------------------------------ projects

    def create_project(
        self, org: str, name: str, *, scenario: Scenario | str | None = None
    ) -> tuple[Project, ProjectCharge]:
        """Create a project; `scenario` (default: the default scenario, never a queued one)
        sets its provisioning delay and a runtime upgrade (`project_upgrade`)."""
        self.sync_if_behind()
        chosen = (
            self.default_scenario
            if scenario is None
            else scenario
            if isinstance(scenario, Scenario)
            else self.scenarios.get(scenario)
        )
        names = self._project_names.setdefault(org, set())
        if name in names:
            raise CommandRejected(
                code="name_taken",
                message=f"a project named {name!r} already exists in this organisation; "
                "project names must be unique",
                object_id=name,
                status="exists",
            )
        acct = self.account(org)
        available = acct.balance
        charged = min(PROJECT_CREATION_CHARGE, max(available, 0))
        acct.balance -= charged
        project = Project(self.new_id("proj_"), org, name, self.now)
        upgrade = chosen.project_upgrade
        if upgrade is not None:
            project.upgrade_from = self.now + upgrade.start_after
            project.upgrade_until = project.upgrade_from + upgrade.duration
        names.add(name)
        self.projects[project.id] = project
        self.projects_by_org.setdefault(org, []).append(project)
        delay = chosen.project_provisioning_delay
        if delay <= 0:
            self._project_transition(project, "provision")
        else:
            self.schedule(self.now + delay, self._due_project_provision, project, project.gen)
        return project, ProjectCharge(available, charged, PROJECT_CREATION_CHARGE)

    def _due_project_provision(self, project: Project, gen: int) -> None:
        if project.gen == gen and project.state == PROJECT_PROVISIONING:
            self._project_transition(project, "provision")

    def _project_transition(self, project: Project, event: str, forced: bool = False) -> None:
        src = project.state
        fire_project_event(project, event)
        project.gen += 1
        project.updated_at = self.now
        rec = TransitionRecord(
            "project",
            project.id,
            event,
            src,
            project.state,
            self.now,
            len(project.history) + 1,
            forced,
        )
        project.history.append(rec)
        self._notify(rec, project)

    def force_project(self, project: Project, event: str) -> TransitionRecord:
        self.sync_if_behind()
        self._project_transition(project, event, forced=True)
        return project.history[-1]

    # ------------------------------------------------------------------ jobs: commands

    def resolve_scenario(self, scenario: Scenario | str | None) -> Scenario:
        if isinstance(scenario, Scenario):
            return scenario
        if scenario is not None:
            return self.scenarios.get(scenario)
        if self._queued_scenarios:
            return self._queued_scenarios.pop(0)
        return self.default_scenario

    def create_job(
        self,
        project: Project,
        *,
        external_id: str | None = None,
        scenario: Scenario | str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> Job:
        self.sync_if_behind()
        if project.state != PROJECT_READY:
            raise CommandRejected(
                code="project_not_ready",
                message=f"project {project.id} is {project.state}; jobs can be created only "
                "once the project is ready",
                object_id=project.id,
                status=project.state,
            )
        concrete = self.resolve_scenario(scenario).draw(self.rng)
        job = Job(
            self.new_id("job_"),
            project,
            concrete,
            self.now,
            external_id,
            webhook_url,
            webhook_secret,
        )
        self.jobs[job.id] = job
        project.jobs.append(job)
        # by id, so the entry (due days later) does not keep a forgotten job alive
        self._schedule_expiry(job)
        if concrete.job_provisioning_delay <= 0:
            self._transition(job, EV_PROVISION)
        else:
            self.schedule(
                self.now + concrete.job_provisioning_delay,
                self._due_event,
                job,
                self._pack(job, EV_PROVISION),
            )
        return job

    def add_files(
        self, job: Job, specs: Sequence[FileSpec], *, status: FileStatus = F_UPLOADED
    ) -> list[JobFile]:
        """Store (form upload) or register (`status=FileStatus.PENDING`) files; the first ones
        fire start_upload."""
        self.sync_if_behind()
        require_upload_window(job)
        if len(job.files) + len(specs) > MAX_FILES:
            raise CommandRejected(
                code="limit_exceeded",
                message=f"job {job.id} would hold {len(job.files) + len(specs)} files; "
                f"a job holds at most {MAX_FILES}",
                object_id=job.id,
                status=job.state,
            )
        declared = job.declared_bytes
        for spec in specs:
            declared += spec.size
        if declared > MAX_DECLARED_BYTES:
            raise CommandRejected(
                code="limit_exceeded",
                message=f"job {job.id} would declare {declared} bytes; a job declares at most "
                f"{MAX_DECLARED_BYTES} bytes",
                object_id=job.id,
                status=job.state,
            )
        ms = int(self.now * 1000)
        bits = self.rng.getrandbits
        added = [JobFile(ms, bits(160), s, status) for s in specs]
        job.files.extend(added)
        job.declared_bytes = declared
        job.updated_at = self.now
        job.version += 1
        if job.state == AWAITING_UPLOADS:
            self._transition(job, EV_START_UPLOAD)
        return added

    def mark_uploaded(self, job: Job, file: JobFile) -> None:
        self.sync_if_behind()
        require_upload_window(job)
        file.status = F_UPLOADED
        job.updated_at = self.now
        job.version += 1

    def complete_uploads(
        self,
        job: Job,
        include: Iterable[JobFile] | None = None,
        failed: Iterable[tuple[JobFile, str]] = (),
    ) -> Job:
        """Close the upload window: `include` (default: every uploaded file) goes to preflight;
        `failed` files are marked failed with their reason; other files are skipped. A job with
        failed files ends completed_with_errors, or failed at preflight when none is left."""
        self.sync_if_behind()
        if job.state == AWAITING_UPLOADS:
            raise CommandRejected(
                code="no_documents",
                message=f"job {job.id} has no uploaded documents; upload at least one file "
                "before completing uploads",
                object_id=job.id,
                status=job.state,
            )
        require_upload_window(job)
        job.version += 1  # file statuses change below
        failed_files = set()
        for f, reason in failed:
            f.status = F_FAILED
            f.error = ("upload_failed", reason)
            failed_files.add(f)
        chosen = (
            [f for f in job.files if f.status == F_UPLOADED]
            if include is None
            else [f for f in include if f not in failed_files]
        )
        if not chosen and not failed_files:
            raise CommandRejected(
                code="no_documents",
                message=f"job {job.id} has no uploaded documents to process; upload a file or "
                "name uploaded documentIds",
                object_id=job.id,
                status=job.state,
            )
        chosen_files = set(chosen)
        for f in job.files:
            if f in chosen_files:
                f.status = F_UPLOADED
            elif f not in failed_files:
                f.status = F_SKIPPED
        # with every file failed the job still goes to preflight, which fails it (API.md: the
        # job ends failed when no file is left)
        job.failed_uploads = len(failed_files)
        self._transition(job, EV_COMPLETE_UPLOADS)
        return job

    def resume(self, job: Job) -> Job:
        self.sync_if_behind()
        self._transition(job, EV_RESUME)
        return job

    def cancel(self, job: Job) -> CancelOutcome:
        self.sync_if_behind()
        if job.state == PROCESSING and not job.cancel_pending:
            mode = job.scenario.cancel_while_processing
            if mode == "deferred":
                self._freeze_processing(job)
                job.cancel_pending = True
                job.gen += 1
                job.version += 1
                self.schedule(
                    self.now + job.scenario.cancel_defer_seconds,
                    self._due_event,
                    job,
                    self._pack(job, EV_CANCEL),
                )
                return CancelOutcome(CANCELLED, True, self.now)
            if mode == "race_lost" and job.proc is not None and job.proc.target == job.proc.stop:
                self._finish_processing_now(job)
                return CancelOutcome(CANCELLED, True, self.now)
        elif job.cancel_pending and job.state == PROCESSING:
            return CancelOutcome(CANCELLED, True, self.now)
        self._transition(job, EV_CANCEL)
        return CancelOutcome(CANCELLED, False, self.now)

    def force_job(self, job: Job, event: str) -> TransitionRecord:
        """Fire `event` now, as the control API's forced events do; pages are settled so the
        job stays consistent (complete processes the remaining pages, complete_with_errors
        fails them)."""
        self.sync_if_behind()
        if event in (EV_COMPLETE, EV_COMPLETE_WITH_ERRORS) and (job.state == PROCESSING):
            self._freeze_processing(job)
            self._settle_rest(job, succeed=event == EV_COMPLETE)
        if event == EV_FAIL:
            job.error = ("forced_failure", "the job was failed through the mock's control API")
        self._transition(job, event, forced=True)
        return job.history[-1]

    # ------------------------------------------------------------------ transitions

    def _transition(self, job: Job, event: str, forced: bool = False) -> None:
        src = job.state
        fire_job_event(job, event)
        dst = job.state
        job.gen += 1
        job.version += 1
        now = self.now
        job.updated_at = now
        if dst in TERMINAL_STATUSES:
            self._settle_terminal(job, dst)
        elif dst == BLOCKED_INSUFFICIENT_CREDITS:
            self._freeze_processing(job)
        history = job.history
        rec: TransitionRecord = new_tuple(
            TransitionRecord, ("job", job.id, event, src, dst, now, len(history) + 1, forced)
        )
        history.append(rec)
        # _notify, inlined: this runs once per transition
        if self._capture is not None:
            self._capture.append(rec)
        for fn in self._subscribers:
            fn(rec, job)
        enter = self._on_enter.get(dst)
        if enter is not None and job.state == dst:
            enter(job)

    @staticmethod
    def _pack(job: Job, event: str) -> int:
        # The heap's gen slot carries (gen, event) so a stale entry is skipped cheaply.
        return job.gen * 16 + _EVENT_CODES[event]

    def _due_event(self, job: Job, packed: int) -> None:
        gen, code = divmod(packed, 16)
        if job.gen == gen and job.state not in TERMINAL_STATUSES:
            self._transition(job, _EVENT_NAMES[code])

    def _due_expire(self, job_id: str, _gen: int) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.state not in TERMINAL_STATUSES:
            self._transition(job, EV_EXPIRE)

    def forget(self, job: Job) -> None:
        """Drop a job from the engine and its project, and its bulk (files, history, page plan):
        `simulate` forgets each job at its terminal status, so memory stays flat."""
        if self.jobs.pop(job.id, None) is not None:
            project = self.projects.get(job.project_id)
            if project is not None:
                # compact the project's list once half of it is forgotten: O(1) amortized
                n = self._forgotten.get(project.id, 0) + 1
                if 2 * n >= len(project.jobs):
                    jobs = self.jobs
                    project.jobs[:] = [j for j in project.jobs if j.id in jobs]
                    n = 0
                self._forgotten[project.id] = n
        job.files = []
        job.declared_bytes = 0
        job.history = []
        job.page_rates = None
        job.page_drawing = None
        job.proc = None


_EVENT_NAMES: list[str] = [e.value for e in JobEvent]
_EVENT_CODES: dict[str, int] = {name: i for i, name in enumerate(_EVENT_NAMES)}
assert len(_EVENT_NAMES) <= 16
