"""The engine: projects, jobs, credits and a heap of due events on one virtual clock.

Every status change goes through the shared machines (`machine.py`). Commands (create, upload,
complete, resume, cancel, force) act at the clock's current time; `advance()` / `run_until()` fire
due events in time order. Work per advance is proportional to the events fired: nothing scans all
jobs. Processing progress (pages, debits) is computed lazily from the virtual time, so a job in
processing costs one heap entry, not one per page.

Subscribers are called once per transition, in order, as `fn(record, obj)`, after the transition's
own bookkeeping (timestamps, pages, credits) and before any follow-up transition it causes.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from heapq import heappop, heappush
from itertools import accumulate
from typing import Any, NamedTuple

from .billing import (
    DEFAULT_CREDITS,
    PROJECT_CREATION_CHARGE,
    Account,
    estimate_pages,
    split_pages,
)
from .clock import Clock
from .errors import CommandRejected
from .machine import fire_job_event, fire_project_event
from .scenarios import DEFAULT_SCENARIO, Scenario, ScenarioRegistry
from .statuses import TERMINAL_STATUSES, JobEvent, JobStatus, ProjectStatus

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
    "Subscriber",
    "TransitionRecord",
]

MAX_FILES = 100
MAX_DECLARED_BYTES = 10_000_000_000
# Ids are ULIDs spelled in lowercase Crockford base32 (no i, l, o, u), like the docs' ids
# (job_01hy3m8qtn2e5r7k9p0w4x1def): 10 characters of milliseconds of virtual time, so ids sort by
# creation like the docs' examples, then 16 characters of 80 seeded random bits. Spelled 10 bits
# (two characters) at a time; the time part is spelled once per millisecond.
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_ID_PAIRS = [a + b for a in _ID_ALPHABET for b in _ID_ALPHABET]
_BITS_80 = (1 << 80) - 1


def ulid(prefix: str, ms: int, bits: int) -> str:
    """`prefix` + the ULID of `ms` (milliseconds since the epoch) and 80 random `bits`."""
    p = _ID_PAIRS
    return "".join(
        (
            prefix,
            p[(ms >> 40) & 1023],
            p[(ms >> 30) & 1023],
            p[(ms >> 20) & 1023],
            p[(ms >> 10) & 1023],
            p[ms & 1023],
            p[(bits >> 70) & 1023],
            p[(bits >> 60) & 1023],
            p[(bits >> 50) & 1023],
            p[(bits >> 40) & 1023],
            p[(bits >> 30) & 1023],
            p[(bits >> 20) & 1023],
            p[(bits >> 10) & 1023],
            p[bits & 1023],
        )
    )


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

    def __init__(self, id_ms: int, id_bits: int, spec: FileSpec, status: str) -> None:
        self._id_ms = id_ms
        self._id_bits = id_bits  # 160 bits: the file id's 80 random bits, then the document's
        self._id: str | None = None
        self._document_id: str | None = None
        self.file_name = spec.file_name
        self.size = spec.size
        self.content_type = spec.content_type
        self.classification = spec.classification
        self.sha256 = spec.sha256
        self.status = (
            status  # pending | uploaded | skipped | processing | completed | failed | cancelled
        )
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

    @property
    def status(self) -> str:
        return self.state


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
        "files",
        "gen",
        "history",
        "id",
        "meta",
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
    )

    def __init__(
        self,
        job_id: str,
        project: Project,
        scenario: Scenario,
        now: float,
        external_id: str | None,
        meta: dict[str, Any] | None,
    ) -> None:
        self.id = job_id
        self.project_id = project.id
        self.org = project.org
        self.external_id = external_id
        self.meta = meta
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
        self.error: tuple[str, str] | None = None
        self.page_count = 0
        self.page_rates: list[int] | None = None  # per page, fixed at the first preflight
        self.pages_done = 0
        self.successful_pages = 0
        self.credits_held = 0  # reserved and not yet debited or released
        self.credits_debited = 0
        self.proc: _Processing | None = None
        self.cancel_pending = False
        self.extra_added = False
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


def _failed_page(k: int, total: int, failed: int) -> int:
    """The index of the k-th failed page (k = 1..failed) of `total`, `failed` spread evenly: page i
    fails when (i + 1) * failed // total > i * failed // total, so the k-th is ceil(k * total /
    failed) - 1."""
    return -(-k * total // failed) - 1


def _run_totals(
    rates: list[int], start: int, stop: int, failed: int, total: int
) -> tuple[int, int]:
    """(successful pages, credits) of processing pages start..stop-1, without per-page lists."""
    if stop <= start:
        return 0, 0
    cost = sum(rates) if start == 0 and stop == len(rates) else sum(rates[start:stop])
    if not failed:
        return stop - start, cost
    lo, hi = start * failed // total, stop * failed // total  # failed pages before start, stop
    cost -= sum(rates[_failed_page(k, total, failed)] for k in range(lo + 1, hi + 1))
    return stop - start - (hi - lo), cost


def _prefix_sums(
    rates: list[int], start: int, stop: int, failed: int, total: int
) -> tuple[Sequence[int], list[int]]:
    """Successful pages and credits after each page of start..stop-1 (index 0: none yet)."""
    if not failed:
        run = rates if start == 0 and stop == len(rates) else rates[start:stop]
        return range(max(0, stop - start) + 1), list(accumulate(run, initial=0))
    # before[k]: failed pages among 0..start+k-1; page start+k fails if the next is more
    before = [i * failed // total for i in range(start, max(start, stop) + 1)]
    cum_ok = [k - (b - before[0]) for k, b in enumerate(before)]
    paid = [
        r if a == b else 0
        for r, a, b in zip(rates[start:stop], before[:-1], before[1:], strict=True)
    ]
    return cum_ok, list(accumulate(paid, initial=0))


class _Processing:
    """A run of processing from page `start_page` at `started_at` up to `target` (exclusive), of
    the pages start_page..stop-1 (`target` < `stop` when the credits held run out first).

    The run's totals at `target` are computed at once; the per-page prefix sums that a look at
    a half-done run needs are built at the first such look (most runs are only seen finished).
    """

    __slots__ = (
        "_cum",
        "cost_end",
        "debited0",
        "due",
        "failed",
        "held0",
        "ok0",
        "ok_end",
        "rates",
        "speed",
        "start_page",
        "started_at",
        "stop",
        "target",
        "total",
    )

    def __init__(
        self,
        job: Job,
        rates: list[int],
        started_at: float,
        speed: float,
        stop: int,
        failed: int,
    ) -> None:
        self.rates = rates
        self.started_at = started_at
        self.start_page = job.pages_done
        self.speed = speed
        self.stop = stop
        self.failed = failed
        self.total = len(rates)
        self.ok0 = job.successful_pages
        self.debited0 = job.credits_debited
        self.held0 = job.credits_held  # set again by end_at, once the run's credits are held
        self._cum: tuple[Sequence[int], list[int]] | None = None
        self.ok_end, self.cost_end = _run_totals(rates, self.start_page, stop, failed, self.total)
        self.target = stop
        self.due = started_at

    def prefix(self) -> tuple[Sequence[int], list[int]]:
        if self._cum is None:
            self._cum = _prefix_sums(
                self.rates, self.start_page, self.stop, self.failed, self.total
            )
        return self._cum

    def end_at(self, target: int, held: int) -> None:
        """Stop at `target` (the last page the `held` credits pay for) and time the run."""
        self.held0 = held
        if target != self.stop:
            cum_ok, cum_cost = self.prefix()
            self.ok_end = cum_ok[target - self.start_page]
            self.cost_end = cum_cost[target - self.start_page]
        self.target = target
        self.due = self.started_at + (target - self.start_page) / self.speed


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


# The engine builds a TransitionRecord per transition and a Progress per look at a job: through
# tuple.__new__ they cost a third of a keyword-checked call (~0.12 vs ~0.3 us).
_new_tuple = tuple.__new__


# Enum members as module names: looking a member up on its Enum class costs ~80 ns, and the
# hot paths compare statuses and name events several times per transition.
_AWAITING_UPLOADS = JobStatus.AWAITING_UPLOADS
_BLOCKED_INSUFFICIENT_CREDITS = JobStatus.BLOCKED_INSUFFICIENT_CREDITS
_CANCELLED = JobStatus.CANCELLED
_COMPLETED = JobStatus.COMPLETED
_COMPLETED_WITH_ERRORS = JobStatus.COMPLETED_WITH_ERRORS
_FAILED = JobStatus.FAILED
_PREFLIGHTING = JobStatus.PREFLIGHTING
_PROCESSING = JobStatus.PROCESSING
_PROVISIONING = JobStatus.PROVISIONING
_UPLOADING = JobStatus.UPLOADING
_EV_BLOCK = JobEvent.BLOCK
_EV_CANCEL = JobEvent.CANCEL
_EV_COMPLETE = JobEvent.COMPLETE
_EV_COMPLETE_UPLOADS = JobEvent.COMPLETE_UPLOADS
_EV_COMPLETE_WITH_ERRORS = JobEvent.COMPLETE_WITH_ERRORS
_EV_EXPIRE = JobEvent.EXPIRE
_EV_FAIL = JobEvent.FAIL
_EV_PASS_PREFLIGHT = JobEvent.PASS_PREFLIGHT
_EV_PROVISION = JobEvent.PROVISION
_EV_RESUME = JobEvent.RESUME
_EV_START_UPLOAD = JobEvent.START_UPLOAD
_PROJECT_PROVISIONING = ProjectStatus.PROVISIONING
_PROJECT_READY = ProjectStatus.READY

Subscriber = Callable[[TransitionRecord, "Job | Project"], None]
_Due = Callable[[Any, int], None]
_Entry = tuple[float, int, _Due, Any, int]


class Engine:
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
        self.clock = clock or Clock()
        self.scenarios = scenarios or ScenarioRegistry()
        self.default_scenario = self.scenarios.get(default_scenario)
        self.default_credits = default_credits
        self.rng = random.Random(seed)
        self.now = self.clock.now()
        self.jobs: dict[str, Job] = {}
        self.projects: dict[str, Project] = {}
        self.accounts: dict[str, Account] = {}
        self._project_names: dict[str, set[str]] = {}
        self._heap: list[_Entry] = []
        # Expiries (created + TTL) come in time order when jobs share a TTL: they wait in this
        # FIFO instead of the heap, which they would otherwise fill with an entry per job for the
        # whole TTL (at 100k jobs that made every push and pop about twice as slow). Entries are
        # (at, seq, job id): plain values, which the garbage collector stops tracking.
        self._expiries: deque[tuple[float, int, str]] = deque()
        self._seq = 0  # scheduling order: ties in time fire in the order they were scheduled
        self._firing = 0  # run_until depth: > 0 while due events fire
        self._subscribers: list[Subscriber] = []
        self._capture: list[TransitionRecord] | None = None
        self._queued_scenarios: list[Scenario] = []
        self._forgotten: dict[str, int] = {}  # per project: forgotten jobs still in its list
        self._on_enter: dict[str, Callable[[Job], None]] = {
            _PREFLIGHTING: self._enter_preflighting,
            _PROCESSING: self._enter_processing,
        }

    # ------------------------------------------------------------------ plumbing

    def new_id(self, prefix: str) -> str:
        """`prefix` + a ULID of the virtual time: 26 lowercase Crockford base32 characters."""
        return ulid(prefix, int(self.now * 1000), self.rng.getrandbits(80))

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn)

    def schedule(self, at: float, fn: _Due, obj: Any, gen: int = 0) -> None:
        """Call fn(obj, gen) at virtual time `at` (never before now)."""
        seq = self._seq = self._seq + 1
        now = self.now
        heappush(self._heap, (at if at > now else now, seq, fn, obj, gen))

    def _schedule_expiry(self, job: Job) -> None:
        """`schedule(job.expires_at, _due_expire, job.id)`; in time order, into the FIFO."""
        seq = self._seq = self._seq + 1
        at = job.expires_at if job.expires_at > self.now else self.now
        fifo = self._expiries
        if not fifo or at >= fifo[-1][0]:
            fifo.append((at, seq, job.id))
        else:
            heappush(self._heap, (at, seq, self._due_expire, job.id, 0))

    def pending_events(self) -> int:
        return len(self._heap) + len(self._expiries)

    def next_due(self) -> float | None:
        heap, fifo = self._heap, self._expiries
        if heap and fifo:
            return min(heap[0][0], fifo[0][0])
        if heap:
            return heap[0][0]
        return fifo[0][0] if fifo else None

    def run_until(self, t: float) -> None:
        """Fire every event due at or before `t`, in time order; then now = t.

        Heap entries are (at, seq, fn, obj, gen) and FIFO entries (at, seq, job id), `seq`
        unique: comparing heads orders them exactly as one heap would, by time, then by
        scheduling order."""
        heap = self._heap
        fifo = self._expiries
        if not ((heap and heap[0][0] <= t) or (fifo and fifo[0][0] <= t)):
            if t > self.now:  # nothing due (most polls): skip the loop's setup
                self.now = t
            return
        pop = heappop
        popleft = fifo.popleft
        expire = self._due_expire
        self._firing += 1
        try:
            while True:
                if fifo and fifo[0][0] <= t and (not heap or fifo[0] < heap[0]):
                    at, _, job_id = popleft()
                    if at > self.now:
                        self.now = at
                    expire(job_id, 0)
                    continue
                if not heap or heap[0][0] > t:
                    break
                at, _, fn, obj, gen = pop(heap)
                if at > self.now:
                    self.now = at
                fn(obj, gen)
        finally:
            self._firing -= 1
        if t > self.now:
            self.now = t

    def sync(self) -> None:
        """Catch up with the clock (the realtime clock moves on its own)."""
        self.run_until(self.clock.now())

    def advance(self, seconds: float) -> list[TransitionRecord]:
        """Move the clock forward and fire what fell due; returns the transitions fired."""
        target = self.clock.advance(seconds)
        outer = self._capture
        captured: list[TransitionRecord] = []
        self._capture = captured
        try:
            self.run_until(target)
        finally:
            self._capture = outer
            if outer is not None:
                outer.extend(captured)
        return captured

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

    def _notify(self, rec: TransitionRecord, obj: Job | Project) -> None:
        if self._capture is not None:
            self._capture.append(rec)
        for fn in self._subscribers:
            fn(rec, obj)

    # ------------------------------------------------------------------ projects

    def create_project(self, org: str, name: str) -> tuple[Project, dict[str, int]]:
        self.sync_if_behind()
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
        names.add(name)
        self.projects[project.id] = project
        delay = self.default_scenario.project_provisioning_delay
        if delay <= 0:
            self._project_transition(project, "provision")
        else:
            self.schedule(self.now + delay, self._due_project_provision, project, project.gen)
        billing = {
            "availableCredits": available,
            "creditsCharged": charged,
            "requiredCredits": PROJECT_CREATION_CHARGE,
        }
        return project, billing

    def _due_project_provision(self, project: Project, gen: int) -> None:
        if project.gen == gen and project.state == _PROJECT_PROVISIONING:
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

    def sync_if_behind(self) -> None:
        """Fire what the clock has made due before a command acts. Not while events are firing:
        a command a due event or a subscriber issues acts at that event's time, and catching up
        there would fire later events in the middle of an earlier one."""
        if not self._firing:
            self.run_until(self.clock.now())

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
        meta: dict[str, Any] | None = None,
    ) -> Job:
        self.sync_if_behind()
        if project.state != _PROJECT_READY:
            raise CommandRejected(
                code="project_not_ready",
                message=f"project {project.id} is {project.state}; jobs can be created only "
                "once the project is ready",
                object_id=project.id,
                status=project.state,
            )
        concrete = self.resolve_scenario(scenario).draw(self.rng)
        job = Job(self.new_id("job_"), project, concrete, self.now, external_id, meta)
        self.jobs[job.id] = job
        project.jobs.append(job)
        # by id, so the entry (due days later) does not keep a forgotten job alive
        self._schedule_expiry(job)
        if concrete.job_provisioning_delay <= 0:
            self._transition(job, _EV_PROVISION)
        else:
            self.schedule(
                self.now + concrete.job_provisioning_delay,
                self._due_event,
                job,
                self._pack(job, _EV_PROVISION),
            )
        return job

    def add_files(
        self, job: Job, specs: Sequence[FileSpec], *, status: str = "uploaded"
    ) -> list[JobFile]:
        """Store (form upload) or register files; the first ones fire start_upload."""
        self.sync_if_behind()
        self._require_upload_window(job)
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
        if job.state == _AWAITING_UPLOADS:
            self._transition(job, _EV_START_UPLOAD)
        return added

    def _require_upload_window(self, job: Job) -> None:
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

    def mark_uploaded(self, job: Job, file: JobFile) -> None:
        self.sync_if_behind()
        self._require_upload_window(job)
        file.status = "uploaded"
        job.updated_at = self.now

    def complete_uploads(
        self,
        job: Job,
        include: Iterable[JobFile] | None = None,
        failed: Iterable[tuple[JobFile, str]] = (),
    ) -> Job:
        """Close the upload window: `include` (default: every uploaded file) goes to preflight;
        `failed` files are marked failed with their reason; other files are skipped."""
        self.sync_if_behind()
        if job.state == _AWAITING_UPLOADS:
            raise CommandRejected(
                code="no_documents",
                message=f"job {job.id} has no uploaded documents; upload at least one file "
                "before completing uploads",
                object_id=job.id,
                status=job.state,
            )
        self._require_upload_window(job)
        failed_files = set()
        for f, reason in failed:
            f.status = "failed"
            f.error = ("upload_failed", reason)
            failed_files.add(f)
        chosen = (
            [f for f in job.files if f.status == "uploaded"]
            if include is None
            else [f for f in include if f not in failed_files]
        )
        if not chosen:
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
                f.status = "uploaded"
            elif f not in failed_files:
                f.status = "skipped"
        self._transition(job, _EV_COMPLETE_UPLOADS)
        return job

    def resume(self, job: Job) -> Job:
        self.sync_if_behind()
        self._transition(job, _EV_RESUME)
        return job

    def cancel(self, job: Job) -> CancelOutcome:
        self.sync_if_behind()
        if job.state == _PROCESSING and not job.cancel_pending:
            mode = job.scenario.cancel_while_processing
            if mode == "deferred":
                self._freeze_processing(job)
                job.cancel_pending = True
                job.gen += 1
                self.schedule(
                    self.now + job.scenario.cancel_defer_seconds,
                    self._due_event,
                    job,
                    self._pack(job, _EV_CANCEL),
                )
                return CancelOutcome(_CANCELLED, True, self.now)
            if mode == "race_lost" and job.proc is not None and job.proc.target == job.proc.stop:
                self._finish_processing_now(job)
                return CancelOutcome(_CANCELLED, True, self.now)
        elif job.cancel_pending and job.state == _PROCESSING:
            return CancelOutcome(_CANCELLED, True, self.now)
        self._transition(job, _EV_CANCEL)
        return CancelOutcome(_CANCELLED, False, self.now)

    def force_job(self, job: Job, event: str) -> TransitionRecord:
        """Fire `event` now, as the control API's forced events do; pages are settled so the
        job stays consistent (complete processes the remaining pages, complete_with_errors
        fails them)."""
        self.sync_if_behind()
        if event in (_EV_COMPLETE, _EV_COMPLETE_WITH_ERRORS) and (job.state == _PROCESSING):
            self._freeze_processing(job)
            self._settle_rest(job, succeed=event == _EV_COMPLETE)
        if event == _EV_FAIL:
            job.error = ("forced_failure", "the job was failed through the mock's control API")
        self._transition(job, event, forced=True)
        return job.history[-1]

    # ------------------------------------------------------------------ views

    def progress(self, job: Job, at: float | None = None) -> Progress:
        """Pages and credits as of `at` (default now), without changing the job."""
        p = job.proc
        if p is None:
            return _new_tuple(
                Progress,
                (job.pages_done, job.successful_pages, job.credits_debited, job.credits_held),
            )
        t = self.now if at is None else at
        if t >= p.due:  # exact at the milestone, whatever the float error of the product below
            n = p.target - p.start_page
        else:
            n = min(p.target - p.start_page, max(0, int((t - p.started_at) * p.speed + 1e-6)))
        if n == p.target - p.start_page:  # a finished run: its totals
            ok, cost = p.ok_end, p.cost_end
        else:
            cum_ok, cum_cost = p.prefix()
            ok, cost = cum_ok[n], cum_cost[n]
        return _new_tuple(
            Progress, (p.start_page + n, p.ok0 + ok, p.debited0 + cost, p.held0 - cost)
        )

    def page_breakdown(self, job: Job) -> list[FilePages]:
        """Per file, as of now: pages, drawing/document split, and how many of each succeeded
        or failed. The one place that knows which page belongs to which file, which pages are
        drawings and which failed, so results never re-derive the engine's page plan."""
        rows = self._page_rows(job)
        if rows is None:
            return [FilePages(f.document_id, 0, 0, 0, 0, 0) for f in job.files]
        return [
            FilePages(f.document_id, f.pages, drawing, ok_drawing, ok_document, len(bad), bad)
            for f, drawing, ok_drawing, ok_document, bad in rows
        ]

    def _page_rows(self, job: Job) -> list[tuple[JobFile, int, int, int, tuple[int, ...]]] | None:
        """`page_breakdown` as plain rows (file, drawing pages, successful drawing pages,
        successful document pages, failed page numbers); None without a page plan."""
        rates = job.page_rates
        kinds = job.page_drawing
        if rates is None or kinds is None:
            return None
        if not job.files:
            return []
        done = self.progress(job).pages_done
        total = len(rates)
        failed = self._failed_count(job, total)
        settled_from = job.settled_from if job.settled_from is not None else total
        settled_ok = job.settled_ok
        rows = []
        for f in job.files:
            first = f.first_page
            end = first + f.pages
            hi = max(first, min(end, done))  # pages first..hi-1 are processed
            bad: list[int] = []  # 1-based within the file, in page order
            mid = min(hi, settled_from)
            if failed and mid > first:
                # list only the failed pages (1-based within the file), not every page
                bad = [
                    _failed_page(k, total, failed) + 1 - first
                    for k in range(first * failed // total + 1, mid * failed // total + 1)
                ]
            if not settled_ok and hi > max(first, settled_from):
                bad.extend(range(max(first, settled_from) - first + 1, hi - first + 1))
            drawing_done = kinds.count(1, first, hi)
            failed_drawing = sum(kinds[first + n - 1] for n in bad) if bad else 0
            rows.append(
                (
                    f,
                    kinds.count(1, first, end),
                    drawing_done - failed_drawing,
                    hi - first - drawing_done - (len(bad) - failed_drawing),
                    tuple(bad),
                )
            )
        return rows

    def credit_rates(self, job: Job) -> tuple[int, int]:
        """(drawing, document) credits per page for this job: the scenario's override, else the
        organisation's profile."""
        acct = self.account(job.org)
        sc = job.scenario
        return (
            acct.drawing_credits_per_page
            if sc.drawing_credits_per_page is None
            else sc.drawing_credits_per_page,
            acct.document_credits_per_page
            if sc.document_credits_per_page is None
            else sc.document_credits_per_page,
        )

    def file_stats(self, job: Job) -> None:
        """Fill each file's successful and failed page counts from `page_breakdown`."""
        rates = job.page_rates
        if rates is None:
            return
        if job.settled_from is None and not self._failed_count(job, len(rates)):
            # no failed pages: a file's processed pages are its successful ones
            done = self.progress(job).pages_done
            for f in job.files:
                first = f.first_page
                f.successful_pages = max(0, min(f.pages, done - first))
                f.failed_pages = 0
            return
        rows = self._page_rows(job)  # page_breakdown's figures, without building FilePages
        if rows is None:
            for f in job.files:
                f.successful_pages, f.failed_pages = 0, 0
            return
        for f, _, ok_drawing, ok_document, bad in rows:
            f.successful_pages, f.failed_pages = ok_drawing + ok_document, len(bad)

    # ------------------------------------------------------------------ transitions

    def _transition(self, job: Job, event: str, forced: bool = False) -> None:
        src = job.state
        fire_job_event(job, event)
        dst = job.state
        job.gen += 1
        now = self.now
        job.updated_at = now
        if dst in TERMINAL_STATUSES:
            self._settle_terminal(job, dst)
        elif dst == _BLOCKED_INSUFFICIENT_CREDITS:
            self._freeze_processing(job)
        history = job.history
        rec: TransitionRecord = _new_tuple(
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
            self._transition(job, _EV_EXPIRE)

    # preflight ---------------------------------------------------------------

    def _enter_preflighting(self, job: Job) -> None:
        if job.page_rates is None:
            self._plan_pages(job)
        for f in job.files:
            if f.status == "uploaded":
                f.status = "processing"
        # Plangrep reserves the estimate as the job enters preflighting; a balance that cannot
        # cover it blocks the job once preflight has run (see _due_preflight).
        self._reserve(job)
        self.schedule(self.now + job.scenario.preflight_delay, self._due_preflight, job, job.gen)

    def _plan_pages(self, job: Job) -> None:
        sc = job.scenario
        drawing_rate, document_rate = self.credit_rates(job)
        rates: list[int] = []
        kinds = bytearray()
        for f in job.files:
            if f.status not in ("uploaded", "processing"):
                continue
            n = estimate_pages(f.size, sc.pages_per_file)
            drawing, document = split_pages(n, f.classification)
            f.first_page, f.pages, f.drawing_pages = len(rates), n, drawing
            rates.extend([drawing_rate] * drawing)
            rates.extend([document_rate] * document)
            kinds.extend(b"\x01" * drawing)
            kinds.extend(bytes(document))
        job.page_rates = rates
        job.page_drawing = kinds
        job.page_count = len(rates)

    def _due_preflight(self, job: Job, gen: int) -> None:
        if job.gen != gen or job.state != _PREFLIGHTING:
            return
        sc = job.scenario
        acct = self.account(job.org)
        rates = job.page_rates or []
        if sc.preflight_outcome == "fail":
            job.error = ("preflight_failed", "preflight rejected the uploaded files")
            self._transition(job, _EV_FAIL)
            return
        # the limit applies to the estimate; pages found beyond it during processing do not count
        estimated = len(rates) - (sc.extra_pages if job.extra_added else 0)
        if estimated > acct.job_page_limit:
            job.error = (
                "page_limit_exceeded",
                f"the job has an estimated {estimated} pages; this organisation's "
                f"jobPageLimit is {acct.job_page_limit}",
            )
            self._transition(job, _EV_FAIL)
            return
        if not self._reserve(job):
            self._transition(job, _EV_BLOCK)
            return
        self._transition(job, _EV_PASS_PREFLIGHT)

    def _reserve(self, job: Job) -> bool:
        """Hold the credits of the job's remaining pages; False when the balance cannot."""
        rates = job.page_rates or []
        left = sum(rates[job.pages_done :]) if job.pages_done else sum(rates)
        needed = left - job.credits_held
        if needed <= 0:
            return True
        acct = self.account(job.org)
        if acct.balance < needed:
            return False
        acct.balance -= needed
        job.credits_held += needed
        return True

    # processing --------------------------------------------------------------

    def _failed_count(self, job: Job, total: int) -> int:
        sc = job.scenario
        if sc.outcome != "completed_with_errors" or total == 0:
            return 0
        return max(1, min(total, round(total * sc.failed_page_fraction)))

    def _enter_processing(self, job: Job) -> None:
        sc = job.scenario
        rates = job.page_rates
        if rates is None:  # forced straight from an earlier status
            self._plan_pages(job)
            rates = job.page_rates or []
        if sc.extra_pages and not job.extra_added:
            drawing_rate, document_rate = self.credit_rates(job)
            rate = drawing_rate if sc.extra_page_kind == "drawing" else document_rate
            rates.extend([rate] * sc.extra_pages)
            if job.page_drawing is not None:
                drawing_extra = sc.extra_page_kind == "drawing"
                job.page_drawing.extend((b"\x01" if drawing_extra else b"\x00") * sc.extra_pages)
            if job.files:
                last = [f for f in job.files if f.pages or f.status == "processing"]
                if last:
                    last[-1].pages += sc.extra_pages
                    if sc.extra_page_kind == "drawing":
                        last[-1].drawing_pages += sc.extra_pages
            job.page_count = len(rates)
            job.extra_added = True
        for f in job.files:
            if f.status == "uploaded":
                f.status = "processing"
        total = len(rates)
        stop = total // 2 if sc.outcome == "failed" else total
        start = job.pages_done
        proc = _Processing(
            job, rates, self.now, sc.pages_per_second, stop, self._failed_count(job, total)
        )
        cost = proc.cost_end
        if job.credits_held < cost:
            acct = self.account(job.org)
            take = min(cost - job.credits_held, max(acct.balance, 0))
            acct.balance -= take
            job.credits_held += take
        held = job.credits_held
        target = stop
        if cost > held:
            # the last page `held` pays for
            target = start + bisect_right(proc.prefix()[1], held) - 1
        proc.end_at(target, held)
        job.proc = proc
        self.schedule(job.proc.due, self._due_milestone, job, job.gen)

    def _due_milestone(self, job: Job, gen: int) -> None:
        if job.gen != gen or job.state != _PROCESSING or job.proc is None:
            return
        self._transition(job, self._milestone_event(job))

    def _milestone_event(self, job: Job) -> str:
        p = job.proc
        assert p is not None
        if p.target < p.stop:
            return _EV_BLOCK
        if job.scenario.outcome == "failed":
            job.error = ("processing_failed", "processing failed; see the documents for details")
            return _EV_FAIL
        if self._failed_count(job, job.page_count):
            return _EV_COMPLETE_WITH_ERRORS
        return _EV_COMPLETE

    def _finish_processing_now(self, job: Job) -> None:
        """race_lost: processing reaches its end at once, then the job ends as it would have."""
        p = job.proc
        assert p is not None
        p.started_at = self.now - (p.target - p.start_page) / p.speed
        p.due = self.now
        self._transition(job, self._milestone_event(job))

    def _freeze_processing(self, job: Job) -> None:
        """Write lazily computed progress into the job and stop the processing run."""
        if job.proc is None:
            return
        prog = self.progress(job)
        job.pages_done = prog.pages_done
        job.successful_pages = prog.successful_pages
        job.credits_debited = prog.credits_debited
        job.credits_held = prog.credits_held
        job.proc = None

    def _settle_rest(self, job: Job, *, succeed: bool) -> None:
        rates = job.page_rates or []
        acct = self.account(job.org)
        job.settled_from = job.pages_done
        job.settled_ok = succeed
        for i in range(job.pages_done, len(rates)):
            if succeed:
                cost = rates[i]
                from_held = min(cost, job.credits_held)
                job.credits_held -= from_held
                from_balance = min(cost - from_held, max(acct.balance, 0))
                acct.balance -= from_balance
                job.credits_debited += from_held + from_balance
                job.successful_pages += 1
        job.pages_done = len(rates)

    def _settle_terminal(self, job: Job, dst: str) -> None:
        self._freeze_processing(job)
        job.completed_at = self.now
        job.cancel_pending = False
        if job.credits_held:
            self.account(job.org).balance += job.credits_held
            job.credits_held = 0
        if dst in (_COMPLETED, _COMPLETED_WITH_ERRORS):
            self.file_stats(job)
            for f in job.files:
                if f.status == "processing":
                    f.status = "completed" if f.successful_pages or not f.pages else "failed"
        else:
            new = "failed" if dst == _FAILED else "cancelled"
            for f in job.files:
                if f.status in ("pending", "uploaded", "processing"):
                    f.status = new
            if dst == _FAILED and job.error is None:
                job.error = ("processing_failed", "the job failed")

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
