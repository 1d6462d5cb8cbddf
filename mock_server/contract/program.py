"""`plangrep-mock check -- CMD`: judge a Plangrep client written in any language.

The program is run once per example against one mock server (a fresh state per example), on
the realtime clock at a time scale: the server's virtual clock runs `time_scale` virtual
seconds per wall second, and the program divides its sleeps by `PLANGREP_TIME_SCALE` (or runs
under libfaketime with `faketime=True`). Hypothesis generates the examples: in poll mode
`ContractPlan`s, the plans `check_client` runs; in workflow mode `WorkflowPlan`s, the plans
`check_workflow` runs (API faults, webhook faults and forged deliveries with `faults`). One
canonical plan per path (and per kind of trouble, with `faults`) comes first, then drawn ones.

Modes (what the program is given and must do):

- `poll`: the kit creates a job in a ready project and uploads and completes its files as the
  account owner; the program gets `PLANGREP_JOB_ID`, waits for the job and prints the terminal
  job's JSON (the job, or the API's `{"job": ...}`) on standard output.
- `workflow`: the program gets `PLANGREP_FILES_DIR` (the files to submit; the manifest
  `PLANGREP_FILES_MANIFEST` gives each one's content type and classification) and
  `PLANGREP_WEBHOOK_URL` (a free local address it may listen on and register), creates the
  job, uploads, completes, waits and prints the result JSON (or the terminal job).

Always: `PLANGREP_BASE_URL`, `PLANGREP_API_KEY`, `PLANGREP_PROJECT_ID`, `PLANGREP_TIME_SCALE`,
`PLANGREP_EXAMPLE` (the example's number).

A middleware in front of the public API injects the plan's transient faults and judges every
request on arrival with the rule registry's functions (`judge_poll`, `judge_resume`,
`judge_cancel`; in workflow mode `Submission` adds the workflow rules), in virtual time; the
first broken rule kills the program (its process group). The account owner's actions (upload,
complete, top up and resume, cancel) are scheduled on the engine's own heap, so they fire at the
plan's virtual times as the clock passes them. The clock is held while the program starts: an
example's virtual time starts at its first request (or `STARTUP_GRACE` wall seconds after it was
started), so a slow start-up costs no virtual time.

Workflow mode's webhooks: a job the program creates with `webhookUrl` (PLANGREP_WEBHOOK_URL)
gets the server's real signed deliveries, with the plan's webhook faults (rows of the fault
table, registered as the job reaches each event, as `check_workflow` does); the kit itself
posts the plan's forged delivery there. The delivery log of the job then says what the program
was told: a job terminal for `FALLBACK_WINDOW` that the program neither polled nor accepted a
delivery about is `no_polling_fallback`; a result fetch, resume, cancel or printed status that
only a forged delivery it accepted (2xx) explains is `forged_webhook_trusted`.

Timing tolerance: at a time scale of x200 one wall millisecond is 0.2 virtual s, and a
program's timers may fire a little early (Node's setTimeout does, by up to a millisecond or
so). Polls may therefore come `jitter x time_scale` virtual seconds early (2 ms of wall time by
default: 0.4 s at x200, so the 5 s floor is judged as 4.6 s), and the report says so; in
workflow mode the same tolerance applies to Retry-After on every call and to the pause before a
retry. A delay on the server's side cannot make a sleep-after-answer client look fast: the
answer, and so the program's sleep, starts only after the request was timed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from hypothesis import given
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from statemachine import TERMINAL_STATUSES, format_time
from statemachine.engine import Job, Project, TransitionRecord

from ..app import PUBLIC_PREFIX
from ..config import (
    CHECK_DEFAULT_EXAMPLES,
    CHECK_DEFAULT_JITTER,
    CHECK_DEFAULT_TIME_SCALE,
    MockConfig,
)
from ..faults import LOST_RESPONSE
from ..testing import MockServerThread, ServerError
from .checker import _current_status, _fault_response, _retry_after, _served_status
from .coverage import MachineCoverage
from .kit import (
    ORIGIN,
    answer_with_fault,
    arm_webhook_faults,
    delivery_summary,
    fault_on,
    fault_on_kind,
    forged_delivery,
    last_fault,
    search_settings,
)
from .owner import BLOCKED, Owner, OwnerAction
from .reports import CaseResult, CheckResult, Finding, RuleResult
from .rules import (
    EPS,
    FALLBACK_WINDOW,
    RESULT_STATUSES,
    RULES,
    Seen,
    call_key,
    create_fingerprint,
    judge_cancel,
    judge_poll,
    judge_resume,
    rules,
)
from .rules import Finding as RuleFinding
from .strategies import PATHS, ContractPlan, Fault, canonical_plans, contract_plans
from .submission import Answer, Submission
from .workflow import (
    OUTAGE_FAILURES,
    WORKFLOW_RULES,
    _answer_job_id,
    _call_kind,
    _idempotent,
    _job_of,
    _short,
)
from .workflow_strategies import WorkflowPlan, canonical_workflow_plans, workflow_plans

__all__ = [
    "DEFAULT_EXAMPLES",
    "DEFAULT_JITTER",
    "DEFAULT_TIME_SCALE",
    "PROGRAM_API_KEY",
    "Mode",
    "ProgramSettings",
    "ProgramUnrunnable",
    "generate_plans",
    "run_program_check",
]

PROGRAM_API_KEY = "pgk_live_checkprogram"
DEFAULT_TIME_SCALE = CHECK_DEFAULT_TIME_SCALE
DEFAULT_JITTER = CHECK_DEFAULT_JITTER
DEFAULT_EXAMPLES = CHECK_DEFAULT_EXAMPLES
MAX_REQUESTS = 2000
STARTUP_GRACE = 5.0  # wall seconds the clock waits for the program's first request
STDERR_LINES = 20
COMPLETED = ("completed", "completed_with_errors")

FORGED_TIMEOUT = 5.0  # wall seconds the program has to answer a forged delivery
FORGED_SEQUENCE_LEAD = 10  # a forged delivery's sequence: the job's history plus this

Mode = Literal["poll", "workflow"]
MODES: tuple[str, ...] = ("poll", "workflow")
Plan = ContractPlan | WorkflowPlan


class ProgramUnrunnable(RuntimeError):
    """The program could not be run at all (not found, not executable, or it exited with an
    error before making a single request): nothing could be judged."""


@dataclass(frozen=True, slots=True)
class ProgramSettings:
    """What `plangrep-mock check` runs and how (every CLI option)."""

    command: tuple[str, ...]
    mode: Mode = "poll"
    examples: int = DEFAULT_EXAMPLES
    seed: int | None = None
    faults: bool = False
    time_scale: float = DEFAULT_TIME_SCALE
    timeout: float | None = None  # wall seconds per example; None: from max_wait
    patience: float = 600.0
    max_wait: float = 3600.0
    jitter: float = DEFAULT_JITTER
    faketime: bool = False
    paths: tuple[str, ...] = PATHS
    only: int | None = None  # run only the example with this number
    cwd: str | None = None
    env: Mapping[str, str] | None = None  # the program's base environment (default: ours)

    def __post_init__(self) -> None:
        if not self.command:
            raise ValueError("no program to run: give it after `--`, e.g. -- node client.mjs")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.examples < 0:
            raise ValueError(f"examples must be >= 0, got {self.examples}")
        if not (self.time_scale > 0 and self.time_scale < float("inf")):
            raise ValueError(f"the time scale must be a number > 0, got {self.time_scale}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 wall seconds, got {self.timeout}")
        if not 0 <= self.patience <= self.max_wait:
            raise ValueError(
                f"need 0 <= patience ({self.patience:g}) <= max_wait ({self.max_wait:g})"
            )
        if not self.jitter >= 0:
            raise ValueError(f"jitter must be >= 0 wall seconds, got {self.jitter}")
        unknown = sorted(set(self.paths) - set(PATHS))
        if unknown or not self.paths:
            raise ValueError(
                f"unknown path(s) {', '.join(unknown) or '(none given)'}; known: "
                f"{', '.join(PATHS)}"
            )
        if self.only is not None and self.only < 1:
            raise ValueError(f"the example number must be >= 1, got {self.only}")

    @property
    def tolerance(self) -> float:
        """Virtual seconds a poll may come early (the jitter at the time scale)."""
        return max(EPS, self.jitter * self.time_scale)

    @property
    def wall_timeout(self) -> float:
        """Wall seconds an example may take before the program is stopped."""
        if self.timeout is not None:
            return self.timeout
        return self.max_wait / self.time_scale + 10.0


# --------------------------------------------------------------------------- the plans


def generate_plans(
    examples: int,
    seed: int,
    *,
    faults: bool = False,
    paths: tuple[str, ...] = PATHS,
    mode: Mode = "poll",
) -> list[Plan]:
    """The canonical plans, then `examples` plans drawn by hypothesis from `seed`: the same seed
    gives the same list. Poll mode: `check_client`'s plans (one per path, and one with every
    fault kind with `faults`); workflow mode: `check_workflow`'s (one per path, and with
    `faults` one per kind of trouble: lost answers, Retry-After, bursts, an outage, webhook
    faults, forged deliveries)."""
    plans: list[Plan]
    strategy: st.SearchStrategy[Plan]
    if mode == "workflow":
        plans = list(canonical_workflow_plans(paths, faults=faults))
        strategy = workflow_plans(faults=faults, paths=paths)
    else:
        plans = list(canonical_plans(paths, faults=faults))
        strategy = contract_plans(faults=faults, paths=paths)
    if examples <= 0:
        return plans
    drawn: list[Plan] = []

    @hypothesis_seed(seed)
    @search_settings(examples, shrink=False)
    @given(plan=strategy)
    def collect(plan: Plan) -> None:
        drawn.append(plan)

    collect()
    return plans + drawn[:examples]


# --------------------------------------------------------------------------- one example


@dataclass(slots=True)
class _Request:
    at: float  # virtual seconds since the example started, on arrival
    wall: float  # wall seconds since the program was started
    method: str
    path: str
    status: int  # what the program saw (0: the connection closed without an answer)
    served: str | None
    fault: str | None
    committed: int | None = None  # the status the server answered, when the answer was lost

    def line(self) -> str:
        served = f" ({self.served})" if self.served else ""
        fault = f"  [injected: {self.fault}]" if self.fault else ""
        if self.committed is not None:
            fault += f" (the server answered {self.committed})"
        seen = "no answer" if self.status == 0 else str(self.status)
        return (
            f"  {f'+{self.at:.2f} s':>11} (wall +{self.wall:.3f} s)  {self.method} {self.path} "
            f"-> {seen}{served}{fault}"
        )


@dataclass(slots=True)
class _Forged:
    """A forged delivery the kit posted to PLANGREP_WEBHOOK_URL, and what became of it."""

    at: float  # virtual seconds since the example started
    claims: str
    previous: str
    answer: str = "sending"  # the program's HTTP status, or why there was none

    @property
    def accepted(self) -> bool:
        return self.answer.isdigit() and 200 <= int(self.answer) < 300


@dataclass(slots=True)
class _Run:
    """One run of the program, as the server's thread sees it."""

    index: int
    plan: Plan
    t0: float
    faults: dict[int, Fault]
    project_id: str = ""
    job_id: str = ""
    owner: Owner | None = None
    wall0: float = 0.0
    pid: int = 0
    running: bool = False
    requests: list[_Request] = field(default_factory=list)
    violation: tuple[str, str] | None = None
    exposed: str | None = None  # workflow mode: the fault that exposed the violation
    seen: Seen = field(default_factory=Seen)
    status_since: tuple[str, float] = ("", 0.0)
    checks: Counter[str] = field(default_factory=Counter)
    closest: float | None = None  # the smallest gap between two polls that passed
    # workflow mode
    sub: Submission | None = None
    webhook_url: str = ""
    jobs_known: int = 0  # the project's jobs looked at (the first is the submission's)
    terminal: tuple[str, float] | None = None  # the job's terminal status and when
    injected: list[tuple[float, str, str]] = field(default_factory=list)  # (at, call, what)
    forged: list[_Forged] = field(default_factory=list)
    registered: bool = False  # the job has a webhookUrl

    def rel(self, t: float) -> float:
        return t - self.t0


@dataclass(slots=True)
class _Outcome:
    rule: str | None
    message: str
    summary: str  # one line: what the program did
    exposed: str | None = None  # workflow mode: the fault that exposed a broken rule


class _Runner:
    """One mock server on the realtime clock that runs the program's examples in turn."""

    def __init__(self, settings: ProgramSettings) -> None:
        self.settings = settings
        config = MockConfig(
            clock="realtime",
            speed=settings.time_scale,
            port=0,
            polling="off",  # the checker judges polls itself (and stops the program)
            clock_origin=ORIGIN,
            seed=0,
            journal_size=100,
            tick_interval=0.005,
        )
        self.server = MockServerThread(config, prepare=self._install)
        self.run: _Run | None = None
        self.coverage = MachineCoverage()
        self.tmp = Path(tempfile.mkdtemp(prefix="plangrep-check-"))
        self.examples_run = 0
        self._sends: set[asyncio.Task[None]] = set()  # forged deliveries on their way

    def _install(self, app: web.Application) -> None:
        runner = self

        @web.middleware
        async def check_program(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await runner._intercept(request, handler)

        app.middlewares.insert(0, check_program)  # outermost: it sees every public request

    def __enter__(self) -> _Runner:
        self.server.start()
        self.server.call(self.server.state.subscribe, self._on_transition)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._sends:  # a forged delivery to a program that never answered it
            self.server.call(lambda: [task.cancel() for task in self._sends])
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the server's thread ----------------------------------------------------

    def _begin(self, index: int, plan: Plan) -> _Run:
        state = self.server.state
        # the clock stands still until the program's first request: its start-up (hundreds of
        # milliseconds for a Node process on a busy machine) costs no virtual time
        state.clock.hold()
        state.reset()
        eng = state.engine
        eng.sync_if_behind()
        project, _ = eng.create_project(PROGRAM_API_KEY, "plangrep-mock check")
        if project.state != "ready":
            eng.force_project(project, "provision")
        eng.set_balance(PROGRAM_API_KEY, plan.owner.balance)
        faults = plan.faults.by_request() if isinstance(plan, ContractPlan) else {}
        run = _Run(index=index, plan=plan, t0=eng.now, faults=faults)
        run.project_id = project.id
        if isinstance(plan, ContractPlan):
            job = eng.create_job(project, scenario=plan.scenario)
            self._attach(run, job.id, eng.now, uploads=True)
        else:
            # every job the program creates follows the plan (a second one too)
            eng.default_scenario = plan.scenario
            given = [(name, size) for name, size, _ in plan.files]
            run.sub = Submission(given, tolerance=self.settings.tolerance)
            self._arm_webhook_fault(run, 0)
        eng.schedule(run.t0 + self.settings.max_wait, self._deadline, run)
        self.run = run
        assert self.server.loop is not None
        self.server.loop.call_later(STARTUP_GRACE, self._start_clock, run)
        return run

    def _start_clock(self, run: _Run) -> None:
        """The clock runs on without a first request after `STARTUP_GRACE` wall seconds."""
        if run is self.run:
            self.server.state.clock.release()

    def _attach(
        self,
        run: _Run,
        job_id: str,
        at: float,
        *,
        uploads: bool,
        cancel_on: str | None = None,
    ) -> None:
        eng = self.server.state.engine
        run.job_id = job_id
        job = eng.jobs[job_id]
        run.status_since = (job.state, at)

        def schedule(when: float, action: OwnerAction) -> None:
            eng.schedule(when, self._owner_due, (run, action))

        run.owner = Owner(
            eng, run.plan, job_id, at, schedule, uploads=uploads, cancel_on=cancel_on
        )
        run.owner.start()

    def _adopt(self, run: _Run, job: Job) -> None:
        """Workflow mode: the program's job (the first of the project). The owner's timed
        actions and the forged delivery count from its creation."""
        plan = run.plan
        if run.job_id or run.sub is None or not isinstance(plan, WorkflowPlan):
            return
        run.sub.job_id = job.id
        self._attach(run, job.id, job.created_at, uploads=False, cancel_on=plan.cancel_on)
        if plan.forged is not None:
            eng = self.server.state.engine
            eng.schedule(job.created_at + plan.forged.at, self._forge_due, run)

    def _owner_due(self, item: tuple[_Run, OwnerAction], _gen: int) -> None:
        run, action = item
        if run is self.run and run.owner is not None:
            run.owner.act(action)

    def _deadline(self, run: _Run, _gen: int) -> None:
        if run is not self.run or not run.running:
            return
        status, since = run.status_since
        self._violate(
            run,
            "unbounded",
            f"the program was still running after {self.settings.max_wait:g} virtual s; the "
            f"job has been {status or 'not created'} since +{run.rel(since):.1f} s. A client "
            "must give up with an error within a bound (max_wait is "
            f"{self.settings.max_wait:g} s)",
        )

    def _end(self, run: _Run, code: int | None = None) -> dict[str, Any]:
        self.run = None
        state = self.server.state
        state.clock.release()
        eng = state.engine
        eng.sync_if_behind()
        job = eng.jobs.get(run.job_id) if run.job_id else None
        history = list(job.history) if job is not None else []
        deliveries = state.webhooks.deliveries(run.job_id) if run.job_id else []
        run.registered = job is not None and bool(job.webhook_url)
        if run.sub is not None:
            self._webhooks_told(run)
            if code not in (0, None):  # a webhook-only waiter giving up on a job long finished
                self._check_fallback(run, giving_up=True)
        return {
            "status": job.state if job is not None else None,
            "now": eng.now,
            "history": history,
            "webhookUrl": job.webhook_url if job is not None else None,
            # what coverage counts, and the report's log (worded now: the next example resets
            # the dispatcher)
            "deliveries": delivery_summary(deliveries),
            "webhooks": self._webhook_log(run, deliveries) if run.sub is not None else [],
        }

    def _on_transition(self, rec: TransitionRecord, obj: Job | Project) -> None:
        run = self.run
        if run is None:
            return
        if (
            not run.job_id
            and run.sub is not None
            and isinstance(obj, Job)
            and obj.project_id == run.project_id
        ):
            self._adopt(run, obj)  # it moved before its create was answered
        if not run.job_id or rec.object_id != run.job_id:
            return
        run.status_since = (rec.dst, rec.at)
        if run.sub is not None:
            self._arm_webhook_fault(run, rec.sequence)
            if rec.dst in TERMINAL_STATUSES and run.terminal is None:
                run.terminal = (rec.dst, rec.at)
                if isinstance(obj, Job) and obj.webhook_url:
                    run.sub.checks["no_polling_fallback"] += 1
                    eng = self.server.state.engine
                    eng.schedule(rec.at + FALLBACK_WINDOW, self._fallback_due, run)
        if run.owner is not None:
            run.owner.on_transition(rec)

    async def _intercept(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        run = self.run
        if run is None or run.violation is not None or not request.path.startswith(PUBLIC_PREFIX):
            return await handler(request)
        state = self.server.state
        state.clock.release()  # the program's first request starts the example's clock
        eng = state.engine
        eng.sync_if_behind()
        arrival = eng.now
        wall = time.monotonic() - run.wall0
        if run.sub is not None:
            return await self._intercept_submission(run, run.sub, request, handler, arrival, wall)
        index = len(run.requests)
        route = request.path[len(PUBLIC_PREFIX) :]
        method = request.method
        job_route = f"/jobs/{run.job_id}"
        job = eng.jobs.get(run.job_id)
        current = job.state if job is not None else ""
        kind = None
        if method == "GET" and route == job_route:
            kind = "poll"
        elif method == "POST" and route == job_route + "/resume":
            kind = "resume"
        elif method == "POST" and route == job_route + "/cancel":
            kind = "cancel"
        if kind is not None:
            self._judge_request(run, kind, arrival, current)
        fault = run.faults.get(index)
        if fault is not None and fault.kind == "latency":
            await asyncio.sleep(fault.seconds / self.settings.time_scale)
        response: web.StreamResponse
        if fault is not None and fault.kind != "latency":
            response = _fault_response(fault)
        else:
            response = await handler(request)
        served = _served_status(response)
        run.requests.append(
            _Request(
                run.rel(arrival),
                wall,
                method,
                request.path,
                response.status,
                served,
                fault.describe().split(": ", 1)[1] if fault is not None else None,
            )
        )
        if kind == "poll":
            run.seen.polled(arrival, status=served, retry_after=_retry_after(response))
        elif kind in ("resume", "cancel"):
            shown = served or _current_status(response)
            if shown is not None:
                run.seen.shown(shown)
        if run.violation is None and len(run.requests) > MAX_REQUESTS:
            self._violate(
                run, "unbounded", f"the program made more than {MAX_REQUESTS} requests for one job"
            )
        return response

    def _judge_request(self, run: _Run, kind: str, at: float, status: str) -> None:
        """Poll mode: judge one request with the rule registry's functions."""
        seen = run.seen
        tolerance = self.settings.tolerance
        finding: RuleFinding | None
        if kind == "poll":
            run.checks["poll_after_terminal"] += 1
            if seen.last_poll is not None:
                run.checks["polling_too_fast"] += 1
            findings = judge_poll(seen, at, tolerance=tolerance)
            finding = findings[0] if findings else None
            if seen.last_poll is not None and not any(
                f.rule == "polling_too_fast" for f in findings
            ):
                gap = at - seen.last_poll
                run.closest = gap if run.closest is None else min(run.closest, gap)
        elif kind == "resume":
            run.checks["resume_not_blocked"] += 1
            finding = judge_resume(seen, status)
        else:
            run.checks["cancel_not_cancellable"] += 1
            finding = judge_cancel(seen, status)
        if finding is not None:
            self._word(run, finding, at, status)

    # -- workflow mode: the program's calls ----------------------------------------

    async def _intercept_submission(
        self,
        run: _Run,
        sub: Submission,
        request: web.Request,
        handler: Handler,
        arrival: float,
        wall: float,
    ) -> web.StreamResponse:
        """A call of the program in workflow mode: judged on arrival by `Submission` (with the
        registry's functions), faulted as the plan says (the fault table's own functions, the
        plan's virtual seconds at the time scale), then its answer recorded."""
        plan = run.plan
        assert isinstance(plan, WorkflowPlan)
        eng = self.server.state.engine
        method, path = request.method, request.path
        kind, job_id = _call_kind(method, path[len(PUBLIC_PREFIX) :])
        mine = bool(run.job_id) and job_id == run.job_id
        job = eng.jobs.get(run.job_id) if mine else None
        if job is not None and kind in ("result", "resume", "cancel"):
            self._webhooks_told(run)  # what the deliveries it accepted told it so far
        key = request.headers.get("Idempotency-Key")
        nth = sub.calls[kind]

        def stored() -> list[tuple[str, int]]:
            files = job.files if job is not None else []
            return [(f.file_name, f.size) for f in files if f.status == "uploaded"]

        status = job.state if job is not None else None
        finding = sub.arrive(method, path, kind, arrival, status=status, key=key, stored=stored)
        if finding is not None:
            self._word(run, finding, arrival, status or "")
        fault = plan.fault_for(kind, nth)
        if fault is not None:
            what = f"{kind} #{nth}: {fault.what()}"
            run.injected.append((arrival, call_key(method, path), what))
        response, real = await answer_with_fault(
            request, handler, fault, "plangrep-mock check", self._wait
        )
        eng.sync_if_behind()
        lost = fault is not None and fault.mode == LOST_RESPONSE
        answer = Answer(
            status=0 if lost and fault is not None and fault.status is None else response.status,
            lost=lost,
            committed=real.status if real is not None else None,
            served=None if lost else _served_status(response),
            shown=None if lost else _current_status(response),
            retry_after=0.0 if lost else _retry_after(response),
            idempotent=real is not None and _idempotent(real),
            job_id=None if lost else _answer_job_id(response),
            result=_body(response) if mine and kind == "result" and not lost else None,
        )
        self._new_jobs(run, sub, lost)
        sub.answered(method, path, kind, mine, arrival, eng.now, answer, key=key)
        run.requests.append(
            _Request(
                run.rel(arrival),
                wall,
                method,
                path,
                answer.status,
                answer.served,
                fault.what() if fault is not None else None,
                real.status if lost and real is not None else None,
            )
        )
        if run.violation is None and len(run.requests) > MAX_REQUESTS:
            self._violate(
                run, "unbounded", f"the program made more than {MAX_REQUESTS} requests for one job"
            )
        return response

    async def _wait(self, seconds: float) -> None:
        """A fault's virtual seconds (a slow answer), at the time scale."""
        await asyncio.sleep(seconds / self.settings.time_scale)

    def _new_jobs(self, run: _Run, sub: Submission, lost: bool) -> None:
        """Jobs the program's last call made: its own, or a second one (`duplicate_job`)."""
        eng = self.server.state.engine
        jobs = eng.projects[run.project_id].jobs
        while run.jobs_known < len(jobs):
            job = jobs[run.jobs_known]
            run.jobs_known += 1
            if not run.job_id:
                self._adopt(run, job)
            what = create_fingerprint(job.external_id, job.webhook_url)
            found = sub.job_made(job.id, job.created_at, what, lost=lost)
            if found is not None:
                self._word(run, found, job.created_at, job.state)

    def _arm_webhook_fault(self, run: _Run, event: int) -> None:
        """Register the plan's fault for the job's `event`-th webhook now: the dispatcher takes
        a fault when it queues an event, and event `event - 1` has just been queued (the same
        timing as check_workflow's)."""
        plan = run.plan
        if not isinstance(plan, WorkflowPlan):
            return
        arm_webhook_faults(self.server.state, plan.webhook_faults, event)

    # -- workflow mode: webhooks -----------------------------------------------------

    def _forge_due(self, run: _Run, _gen: int) -> None:
        """A delivery no Plangrep sent: the job claims a status it has not reached, signed with
        a key that is not the job's (an attacker who knows the URL, not the secret), posted to
        PLANGREP_WEBHOOK_URL."""
        plan = run.plan
        if run is not self.run or run.sub is None or not isinstance(plan, WorkflowPlan):
            return
        forged = plan.forged
        state = self.server.state
        job = state.engine.jobs.get(run.job_id)
        if forged is None or job is None:
            return
        if job.state in TERMINAL_STATUSES or job.state == forged.claims:
            return
        now = state.engine.now
        # its sequence is ahead of the genuine events that may reach the program first (it
        # travels over real HTTP while the job moves on), so that a client ordering events by
        # sequence does not drop it as old: what it does with it is what is judged
        sequence = len(job.history) + FORGED_SEQUENCE_LEAD
        headers, body = forged_delivery(state, job, forged.claims, sequence)
        record = _Forged(run.rel(now), forged.claims, job.state)
        run.forged.append(record)
        run.injected.append((now, "webhook", forged.describe()))
        run.sub.forged_sent(forged.claims, now)
        task = asyncio.get_running_loop().create_task(
            self._send_forged(run, run.sub, record, headers, body)
        )
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _send_forged(
        self,
        run: _Run,
        sub: Submission,
        record: _Forged,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        timeout = aiohttp.ClientTimeout(total=FORGED_TIMEOUT)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout, trust_env=False) as session,
                session.post(
                    run.webhook_url, data=body, headers=headers, allow_redirects=False
                ) as answer,
            ):
                await answer.read()
                record.answer = str(answer.status)
        except aiohttp.ClientConnectorError:
            record.answer = "refused (nobody listening)"
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            record.answer = f"no answer ({type(exc).__name__})"
        sub.forged_answered(record.claims, accepted=record.accepted)

    def _webhooks_told(self, run: _Run) -> None:
        """The statuses the job's genuine deliveries told the program (those it accepted)."""
        if run.sub is None or not run.job_id:
            return
        for d in self.server.state.webhooks.deliveries(run.job_id):
            for a in d.attempts:
                if a.outcome == "delivered":
                    run.sub.told(d.status, a.virtual_time)
                    break

    def _fallback_due(self, run: _Run, _gen: int) -> None:
        if run is self.run and run.running:
            self._check_fallback(run)

    def _check_fallback(self, run: _Run, *, giving_up: bool = False) -> None:
        """A program that registered PLANGREP_WEBHOOK_URL and waits on webhooks alone: its job
        has been terminal for `FALLBACK_WINDOW` s and it neither polled it nor accepted a
        delivery announcing it (or it gives up then)."""
        sub = run.sub
        if sub is None or run.terminal is None or run.violation is not None:
            return
        state = self.server.state
        job = state.engine.jobs.get(run.job_id)
        if job is None or not job.webhook_url:
            return
        status, at = run.terminal
        now = state.engine.now
        if now - at < FALLBACK_WINDOW - EPS:
            return
        if sub.seen.terminal_served is not None or sub.seen.terminal_shown:
            return
        mine = [d for d in state.webhooks.deliveries(job.id) if d.status == status]
        if any(a.outcome == "delivered" for d in mine for a in d.attempts):
            return
        if not mine:
            why = "no webhook announcing it went out"
        else:
            d = mine[0]
            tried = "; ".join(_attempt_words(a) for a in d.attempts if a.outcome != "dropped")
            why = f"the webhook announcing it is {d.state}" + (f" ({tried})" if tried else "")
        faults = [f"webhook event #{d.sequence - 1} ({status}): {', '.join(d.faults)}"
                  for d in mine if d.faults]  # fmt: skip
        doing = "gave up having" if giving_up else "had"
        self._violate(
            run,
            "no_polling_fallback",
            f"the job reached {status} at +{run.rel(at):.1f} s; {why}; {now - at:.0f} s later "
            f"the program {doing} neither polled the job nor accepted (2xx) a delivery "
            "announcing it: it waits on webhooks alone. Plangrep: failed deliveries may not be "
            "retried, so poll as a fallback",
            faults[0]
            if faults
            else "no fault: the program never looked for the terminal status by other means",
        )

    def _webhook_log(self, run: _Run, deliveries: list[Any]) -> list[str]:
        rows: list[tuple[float, str]] = []
        for d in deliveries:
            faults = f"  [injected: {', '.join(d.faults)}]" if d.faults else ""
            tried = "; ".join(_attempt_words(a) for a in d.attempts) or "not sent"
            rows.append(
                (
                    run.rel(d.at),
                    f"event #{d.sequence - 1} {d.previous_status} -> {d.status}: {d.state} "
                    f"({tried}){faults}",
                )
            )
        for f in run.forged:
            rows.append(
                (
                    f.at,
                    f"FORGED (signed with another key) {f.previous} -> {f.claims}: the program "
                    f"answered {f.answer}",
                )
            )
        rows.sort(key=lambda r: r[0])
        return [f"  {f'+{at:.2f} s':>11}  {what}" for at, what in rows]

    # -- verdicts ----------------------------------------------------------------------

    def _word(self, run: _Run, finding: RuleFinding, at: float, status: str) -> None:
        """A rule broken by one request, in words relative to the example's start; stops the
        program."""
        f, job_id, when = finding.facts, run.job_id, f"+{run.rel(at):.1f} s"
        exposed: str | None = None
        rule = finding.rule
        if rule == "poll_after_terminal":
            message = (
                f"{job_id} was polled again at {when} after it had been served the terminal "
                f"status {f['served']} at +{run.rel(f['servedAt']):.1f} s; Plangrep asks "
                "clients to stop polling at the first terminal status"
            )
        elif rule == "polling_too_fast":
            gap, last = f["gap"], f["lastPoll"]
            if f["retryAfter"] > f["interval"]:
                why = f"the previous answer asked it to wait (Retry-After: {f['retryAfter']:g} s)"
            else:
                why = "Plangrep asks for at least 5 s between polls"
            message = (
                f"{job_id} was polled twice within {gap:.2f} virtual s (at +{run.rel(last):.2f} "
                f"s and +{run.rel(at):.2f} s); {why}. Polls may come up to "
                f"{f['tolerance']:.2f} s early here (timer jitter at "
                f"x{self.settings.time_scale:g}); " + _sleep_hint(self.settings)
            )
        elif rule == "resume_not_blocked":
            seen = run.sub.seen if run.sub is not None else run.seen
            message = (
                f"the program resumed {job_id} at {when} while it was {status}, and the last "
                f"status it had been shown was {seen.last_status or 'none'}; resume applies "
                f"only to a job in {BLOCKED}"
            )
        elif rule == "cancel_not_cancellable":
            served_at = f["servedAt"]
            shown = f" at +{run.rel(served_at):.1f} s" if served_at is not None else ""
            message = (
                f"the program cancelled {job_id} at {when} after it had been served the "
                f"terminal status {f['served']}{shown}; a terminal job cannot be cancelled"
            )
        elif rule == "retry_after_ignored":
            message = (
                f"{f['call']} was sent again {f['gap']:.2f} virtual s after an answer (at "
                f"+{run.rel(f['answeredAt']):.2f} s) that asked it to wait {f['retryAfter']:g} "
                f"s (Retry-After). Calls may come up to {self.settings.tolerance:.2f} s early "
                f"here (timer jitter at x{self.settings.time_scale:g}); "
                + _sleep_hint(self.settings)
            )
            exposed = self._fault_on(run, f["call"])
        elif rule == "retry_storm":
            how = (
                f"{f['quick']} retries in a row each sooner than 1 s after the failure (no "
                "back-off)"
                if f["quick"] >= 3
                else f"attempt {f['attempt']} in a row at one call"
            )
            message = (
                f"a call failed {f['attempt'] - 1} times in a row and was sent again at {when}, "
                f"{f['pause']:.2f} s after the last failure: {how}. Retry with growing pauses "
                "and give up after a bound"
            )
            exposed = self._last_fault(run)
        elif rule == "duplicate_job":
            mine = self.server.state.engine.jobs.get(run.job_id)
            made = f"+{run.rel(mine.created_at):.1f} s" if mine is not None else "before"
            why = (
                "its create repeats one whose answer was lost; retry a create with the same "
                "Idempotency-Key, so the replay returns the job already made"
                if f["repeat"]
                else "one submission must create one job (a retry with the same "
                "Idempotency-Key returns the job already made)"
            )
            message = (
                f"the program created a second job, {f['job']}, at {when}; {job_id} was made "
                f"at {made}: {why}. Two jobs are two bills"
            )
            exposed = self._fault_on_kind(run, "create")
        elif rule == "complete_repeated":
            first = f"with Idempotency-Key {f['firstKey']!r}" if f["firstKey"] else "without a key"
            again = f"with Idempotency-Key {f['key']!r}" if f["key"] else "without a key"
            message = (
                f"the program completed {job_id}'s uploads again at {when} {again}; its "
                f"complete at +{run.rel(f['completedAt']):.1f} s ({first}) had been accepted. "
                "Retry a complete whose answer was lost with the same Idempotency-Key"
            )
            exposed = self._fault_on_kind(run, "complete")
        elif rule == "upload_incomplete":
            parts = []
            if f["missing"]:
                parts.append("never stored: " + ", ".join(f"{n} ({s} B)" for n, s in f["missing"]))
            if f["twice"]:
                parts.append("stored twice: " + ", ".join(f"{n} ({s} B)" for n, s in f["twice"]))
            given = len(run.sub.given) if run.sub is not None else 0
            message = (
                f"the program completed {job_id}'s uploads at {when}, but of the {given} "
                f"file(s) in PLANGREP_FILES_DIR, {'; '.join(parts)}. Upload every file once "
                "(retry a form upload with the same clientUploadFlowId) before completing"
            )
            exposed = self._fault_on_kind(run, "upload")
        elif rule == "result_not_available":
            message = (
                f"the program asked for the result of {job_id} at {when} while it was "
                f"{status}; a result exists only once a poll (or a verified webhook) shows "
                "completed or completed_with_errors"
            )
        elif rule == "forged_webhook_trusted":
            claim = run.sub.forged_claim if run.sub is not None else None
            message = (
                f"the program {f['action']} {job_id} at {when} while it was {status}, after it "
                f"accepted a delivery on PLANGREP_WEBHOOK_URL claiming {claim} whose signature "
                "does not verify with the job's webhookSigningSecret; verify every delivery "
                "(HMAC-SHA256 of id.timestamp.body, keyed with the base64-decoded secret after "
                "wss_) before acting on it"
            )
            exposed = self._forged_fault(run)
        else:
            message = f"{rule}: {dict(f)}"
        self._violate(run, rule, message, exposed)

    def _fault_on(self, run: _Run, call: str) -> str:
        return fault_on(run.injected, call, run.plan.path)

    def _fault_on_kind(self, run: _Run, kind: str) -> str:
        return fault_on_kind(run.injected, kind, run.plan.path)

    def _forged_fault(self, run: _Run) -> str:
        plan = run.plan
        if isinstance(plan, WorkflowPlan) and plan.forged is not None:
            return plan.forged.describe()
        return self._last_fault(run)

    def _last_fault(self, run: _Run) -> str:
        return last_fault(run.injected, run.plan.path)

    def _violate(self, run: _Run, rule: str, message: str, exposed: str | None = None) -> None:
        if run.violation is not None:
            return
        run.violation = (rule, message)
        run.exposed = exposed
        if run.running and run.pid:
            _kill_group(run.pid)  # the program stops here: the first broken rule is the verdict

    # -- the caller's thread ------------------------------------------------------

    def run_example(self, index: int, plan: Plan) -> tuple[CaseResult, _Run]:
        settings = self.settings
        run = self.server.call(self._begin, index, plan)
        env = self._environment(run)
        argv = list(settings.command)
        if settings.faketime:
            start = format_time(run.t0).replace("T", " ")[:19]
            argv = ["faketime", "-f", f"@{start} x{settings.time_scale:g}", *argv]
        run.wall0 = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=settings.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        except OSError as exc:
            self.server.call(self._end, run)
            raise ProgramUnrunnable(
                f"cannot run {shlex.join(settings.command)}: {exc.strerror or exc}"
            ) from None
        run.pid = proc.pid
        run.running = True
        if run.violation is not None:  # broken before the pid was known
            _kill_group(proc.pid)
        timed_out = False
        try:
            out, err = proc.communicate(timeout=settings.wall_timeout)
        except subprocess.TimeoutExpired:
            timed_out = proc.poll() is None
            _kill_group(proc.pid)
            out, err = proc.communicate()
        finally:
            run.running = False
        _kill_group(proc.pid)  # anything it left running in the background
        wall = time.monotonic() - run.wall0
        if timed_out:
            self.server.call(
                self._violate,
                run,
                "unbounded",
                f"the program was still running after {settings.wall_timeout:g} wall s "
                f"(--timeout); at x{settings.time_scale:g} that is "
                f"{settings.wall_timeout * settings.time_scale:g} virtual s. "
                + _sleep_hint(settings),
            )
        summary = self.server.call(self._end, run, proc.returncode)
        shutil.rmtree(self.tmp / f"example{run.index}", ignore_errors=True)  # workflow's files
        self.coverage.add_job_history(summary["history"])
        for delivery in summary["deliveries"]:
            self.coverage.add_delivery(delivery)
        stdout = out.decode("utf-8", "replace")
        stderr = err.decode("utf-8", "replace")
        outcome = self._judge(run, proc.returncode, stdout, summary)
        if (
            outcome.rule is not None
            and run.violation is None
            and not run.requests
            and proc.returncode not in (0, None)
            and self.examples_run == 0
        ):
            raise ProgramUnrunnable(
                f"{shlex.join(settings.command)} exited with status {proc.returncode} before "
                f"making a single request (example {index}, the first run): it could not be "
                "run. Its standard error:\n" + (_tail(stderr) or "  (nothing)")
            )
        self.examples_run += 1
        return self._case(run, outcome, summary, proc.returncode, wall, stdout, stderr), run

    def _environment(self, run: _Run) -> dict[str, str]:
        settings = self.settings
        env = dict(os.environ if settings.env is None else settings.env)
        env.update(
            PLANGREP_BASE_URL=self.server.base_url,
            PLANGREP_API_KEY=PROGRAM_API_KEY,
            PLANGREP_PROJECT_ID=run.project_id,
            # under libfaketime the program's clock and sleeps are scaled already
            PLANGREP_TIME_SCALE="1" if settings.faketime else f"{settings.time_scale:g}",
            PLANGREP_EXAMPLE=str(run.index),
        )
        if isinstance(run.plan, WorkflowPlan):
            files, manifest = _write_files(self.tmp / f"example{run.index}", run.plan)
            run.webhook_url = f"http://127.0.0.1:{_free_port()}/webhooks"
            env["PLANGREP_FILES_DIR"] = str(files)
            env["PLANGREP_FILES_MANIFEST"] = str(manifest)
            env["PLANGREP_WEBHOOK_URL"] = run.webhook_url
        else:
            env["PLANGREP_JOB_ID"] = run.job_id
        return env

    def _judge(
        self, run: _Run, code: int | None, stdout: str, summary: dict[str, Any]
    ) -> _Outcome:
        settings = self.settings
        status: str | None = summary["status"]
        waited = run.rel(summary["now"])
        if run.violation is not None:
            rule, message = run.violation
            return _Outcome(
                rule, message, f"stopped by the checker after {waited:.1f} s", run.exposed
            )
        if run.sub is not None:
            return self._judge_submission(run, run.sub, code, stdout, status, waited)
        if code != 0:
            if waited < settings.patience - EPS:
                return _Outcome(
                    "wrong_result",
                    f"the program exited with status {code} after waiting {waited:.1f} virtual "
                    f"s, while the job was {status}; it must print the job at its terminal "
                    f"status, or give up only after waiting at least {settings.patience:g} s",
                    f"exit {code} after {waited:.1f} s",
                )
            return _Outcome(None, "", f"gave up (exit {code}) after {waited:.1f} s")
        value = _parse_output(stdout)
        if value is None:
            shown = stdout.strip()[-200:] or "nothing"
            return _Outcome(
                "wrong_result",
                f"the program exited 0 but its standard output is not JSON ({shown!r}); it "
                'must print the terminal job (the job, or the API\'s {"job": ...}) as JSON',
                "exit 0, no JSON",
            )
        job = value.get("job", value) if isinstance(value, dict) else value
        if not isinstance(job, dict) or "status" not in job:
            return _Outcome(
                "wrong_result",
                f"the program printed {json.dumps(value)[:200]}; it must print the job (an "
                'object with `id` and `status`, or the API\'s {"job": ...})',
                "exit 0, not a job",
            )
        got = job.get("status")
        if status not in TERMINAL_STATUSES:
            return _Outcome(
                "wrong_result",
                f"the program printed job {run.job_id} with status {got} after {waited:.1f} "
                f"s, but the job is still {status} (not terminal): a client must keep polling "
                "through every non-terminal status",
                f"printed {got} early",
            )
        if got != status or job.get("id", run.job_id) != run.job_id:
            return _Outcome(
                "wrong_result",
                f"the program printed job {job.get('id')} with status {got}, but the job "
                f"the server reached is {run.job_id} with status {status}",
                f"printed {got}, server {status}",
            )
        return _Outcome(None, "", f"printed {status} after {waited:.1f} s")

    def _judge_submission(
        self,
        run: _Run,
        sub: Submission,
        code: int | None,
        stdout: str,
        status: str | None,
        waited: float,
    ) -> _Outcome:
        """Workflow mode: what the program printed (or how it gave up), as check_workflow
        judges what a workflow returns."""
        settings = self.settings
        if not run.job_id or status is None:
            return _Outcome(
                "wrong_result",
                f"the program exited with status {code} without creating a job in project "
                f"{run.project_id} (PLANGREP_PROJECT_ID); in workflow mode it must create the "
                "job, upload the files of PLANGREP_FILES_DIR, complete and wait",
                f"exit {code}, no job",
                self._last_fault(run),
            )
        if code != 0:
            if waited >= settings.patience - EPS:
                return _Outcome(None, "", f"gave up (exit {code}) after {waited:.1f} s")
            if sub.last_run >= OUTAGE_FAILURES:
                return _Outcome(
                    None,
                    "",
                    f"gave up (exit {code}) after {sub.last_run} failed attempts in a row",
                )
            return _Outcome(
                "wrong_result",
                f"the program exited with status {code} after {waited:.1f} virtual s, while "
                f"the job was {status}; it must print the result (or the terminal job), or give "
                f"up only after waiting at least {settings.patience:g} s or after "
                f"{OUTAGE_FAILURES} failed attempts in a row at one call",
                f"exit {code} after {waited:.1f} s",
                self._last_fault(run),
            )
        value = _parse_output(stdout)
        if value is None:
            shown = stdout.strip()[-200:] or "nothing"
            return _Outcome(
                "wrong_result",
                f"the program exited 0 but its standard output is not JSON ({shown!r}); it "
                "must print the result document (GET /jobs/{jobId}/result) of a completed job, "
                'else the terminal job (the job, or the API\'s {"job": ...}), as JSON',
                "exit 0, no JSON",
            )
        got = _job_of(value)
        claim = sub.forged_claim
        if claim is not None and got is not None and got.get("status") == claim != status:
            return _Outcome(
                "forged_webhook_trusted",
                f"the program printed {run.job_id} as {claim}, what a delivery whose signature "
                f"does not verify claimed; the job is {status}. Verify every delivery with the "
                "job's webhookSigningSecret before acting on it",
                f"printed the forged {claim}",
                self._forged_fault(run),
            )
        problem: str | None = None
        if status not in TERMINAL_STATUSES:
            problem = (
                f"while {run.job_id} is still {status} (not terminal): keep waiting through "
                "every non-terminal status"
            )
        elif status in RESULT_STATUSES:
            if not any(value == r for r in sub.results):
                problem = (
                    f"but {run.job_id} ended {status}: print its result document (GET "
                    "/jobs/{jobId}/result), exactly as served"
                    + ("" if sub.results else "; the program never fetched it")
                )
        elif got is None or got.get("status") != status or got.get("id", run.job_id) != run.job_id:
            problem = (
                f"but the job the server reached is {run.job_id} with status {status}: print "
                "that terminal job"
            )
        if problem is not None:
            return _Outcome(
                "wrong_result",
                f"after {waited:.1f} s the program printed {_short(value)} {problem}",
                f"printed {got.get('status') if got else 'no job'}, server {status}",
                self._last_fault(run),
            )
        kind = "the result" if status in RESULT_STATUSES else status
        return _Outcome(None, "", f"printed {kind} after {waited:.1f} s")

    def _case(
        self,
        run: _Run,
        outcome: _Outcome,
        summary: dict[str, Any],
        code: int | None,
        wall: float,
        stdout: str,
        stderr: str,
    ) -> CaseResult:
        settings = self.settings
        plan = run.plan
        name = f"example {run.index}: {plan.path}"
        lines = [
            f"{name}: {outcome.summary} ({wall:.2f} wall s)",
            "the server's behaviour:",
            *(f"  {line}" for line in plan.describe().splitlines()),
            "the job's history (virtual seconds since the example started):",
        ]
        for rec in summary["history"]:
            lines.append(
                f"  {f'+{run.rel(rec.at):.2f} s':>11}  {rec.src} --{rec.event}--> {rec.dst}"
            )
        lines.append(f"the program's requests ({len(run.requests)}):")
        request_lines = [r.line() for r in run.requests]
        if len(request_lines) > 40:
            skipped = len(request_lines) - 40
            request_lines = [f"  ... {skipped} earlier request(s)", *request_lines[-40:]]
        lines.extend(request_lines)
        if run.sub is not None:
            webhook_lines: list[str] = summary["webhooks"]
            where = summary["webhookUrl"] or "no webhookUrl"
            lines.append(f"the webhooks ({where}, {len(webhook_lines)} line(s)):")
            lines.extend(webhook_lines[-40:] or ["  (none)"])
        stopped = " (stopped by the checker)" if run.violation is not None else ""
        lines.append(f"the program exited with status {code}{stopped}")
        output = "\n".join(lines)
        details: dict[str, Any] = {
            "path": plan.path,
            "scenario": plan.scenario.name,
            "jobId": run.job_id or None,
            "jobStatus": summary["status"],
            "exitStatus": code,
            "wallSeconds": round(wall, 4),
            "virtualSeconds": round(run.rel(summary["now"]), 3),
            "requests": [
                {
                    "at": round(r.at, 3),
                    "wall": round(r.wall, 4),
                    "method": r.method,
                    "path": r.path,
                    "status": r.status,
                    "served": r.served,
                    "fault": r.fault,
                }
                for r in run.requests[-200:]
            ],
        }
        if run.sub is not None:
            details["webhookUrl"] = summary["webhookUrl"]
            details["webhooks"] = summary["webhooks"]
            details["forged"] = [
                {"at": round(f.at, 3), "claims": f.claims, "answer": f.answer} for f in run.forged
            ]
        if outcome.rule is None:
            return CaseResult(
                run.index, name, wall, output=output, stderr=_tail(stderr), details=details
            )
        head = [f"[{outcome.rule}] {outcome.message}"]
        if outcome.exposed is not None:
            head.append(f"exposed by: {outcome.exposed}")
            details["exposedBy"] = outcome.exposed
        text = "\n".join(
            [
                *head,
                output,
                "its standard error (last lines):",
                _tail(stderr) or "  (nothing)",
                f"replay: {_replay(settings, run.index)}",
            ]
        )
        if stdout.strip():
            details["stdoutTail"] = stdout.strip()[-1000:]
        return CaseResult(
            run.index,
            name,
            wall,
            rule=outcome.rule,
            message=outcome.message,
            text=text,
            output=output,
            stderr=_tail(stderr),
            details=details,
        )


# --------------------------------------------------------------------------- helpers


def _sleep_hint(settings: ProgramSettings) -> str:
    if settings.faketime:
        return "the program runs under libfaketime (see the compatibility table in docs/ci.md)"
    return f"does the program divide its sleeps by PLANGREP_TIME_SCALE (={settings.time_scale:g})?"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _parse_output(stdout: str) -> Any:
    """The JSON the program printed: all of standard output, else its last line that is JSON
    (progress lines before it are forgiven)."""
    text = stdout.strip()
    if not text:
        return None
    with contextlib.suppress(ValueError):
        return json.loads(text)
    for line in reversed(text.splitlines()):
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                return value
    return None


def _tail(text: str, lines: int = STDERR_LINES) -> str:
    rows = text.rstrip().splitlines()
    shown = rows[-lines:]
    prefix = [f"  ... {len(rows) - len(shown)} earlier line(s)"] if len(rows) > len(shown) else []
    return "\n".join(prefix + [f"  {row[:500]}" for row in shown])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _write_files(where: Path, plan: WorkflowPlan) -> tuple[Path, Path]:
    """The plan's files and a manifest of their metadata. `classification` is null: the plan's
    credits are reckoned for files Plangrep classifies itself (document pages)."""
    files = where / "files"
    files.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, data, content_type in plan.file_data():
        (files / name).write_bytes(data)
        manifest.append(
            {
                "fileName": name,
                "contentType": content_type,
                "classification": None,
                "fileSize": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    manifest_path = where / "manifest.json"
    manifest_path.write_text(json.dumps({"files": manifest}, indent=2), encoding="utf-8")
    return files, manifest_path


def _body(response: web.StreamResponse) -> Any:
    """The JSON body of a 200 answer (a result document), or None."""
    body = getattr(response, "body", None)
    if response.status != 200 or not isinstance(body, bytes | bytearray):
        return None
    with contextlib.suppress(ValueError):
        return json.loads(body)
    return None


def _attempt_words(attempt: Any) -> str:
    """One webhook attempt from the dispatcher's log, in a few words."""
    if attempt.outcome == "dropped":
        return "dropped"
    if attempt.http_status is not None:
        return f"{attempt.kind}: answered {attempt.http_status}"
    return f"{attempt.kind}: {attempt.error or 'no answer'}"


def _replay(settings: ProgramSettings, index: int | None = None) -> str:
    parts = ["plangrep-mock check", f"--mode {settings.mode}", f"--seed {settings.seed}"]
    parts.append(f"--examples {settings.examples}")
    if settings.faults:
        parts.append("--faults")
    if settings.time_scale != DEFAULT_TIME_SCALE:
        parts.append(f"--time-scale {settings.time_scale:g}")
    if settings.faketime:
        parts.append("--faketime")
    if settings.paths != PATHS:
        parts.append(f"--paths {','.join(settings.paths)}")
    if settings.patience != 600.0 or settings.max_wait != 3600.0:
        parts.append(f"--patience {settings.patience:g} --max-wait {settings.max_wait:g}")
    if settings.jitter != DEFAULT_JITTER:
        parts.append(f"--jitter {settings.jitter * 1000:g}")
    if index is not None:
        parts.append(f"--only-example {index}")
    return " ".join(parts) + " -- " + shlex.join(settings.command)


# --------------------------------------------------------------------------- the check


def run_program_check(
    settings: ProgramSettings, *, progress: Callable[[CaseResult, int], None] | None = None
) -> CheckResult:
    """Run the program once per example and judge it; the `CheckResult` has a case per
    example. Raises `ProgramUnrunnable` when the program cannot be run at all, `ValueError`
    for an example number that does not exist. `progress(case, total)` after each example."""
    program = settings.command[0]
    if shutil.which(program, path=(settings.env or os.environ).get("PATH")) is None and not (
        os.sep in program and Path(settings.cwd or ".", program).exists()
    ):
        raise ProgramUnrunnable(
            f"cannot run {shlex.join(settings.command)}: {program!r} is not an executable on "
            "PATH (nor a path to a file)"
        )
    if settings.faketime and shutil.which("faketime") is None:
        raise ProgramUnrunnable(
            "--faketime needs libfaketime's `faketime` command on PATH (Debian/Ubuntu: "
            "apt-get install faketime)"
        )
    seed = settings.seed
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
        settings = replace(settings, seed=seed)
    plans = generate_plans(
        settings.examples, seed, faults=settings.faults, paths=settings.paths, mode=settings.mode
    )
    if settings.only is not None and settings.only > len(plans):
        raise ValueError(
            f"there is no example {settings.only}: this run has {len(plans)} (the canonical "
            f"ones and --examples {settings.examples})"
        )
    judged = rules("client") if settings.mode == "poll" else [RULES[r] for r in WORKFLOW_RULES]
    checked = {r.id: RuleResult(r) for r in judged}
    checked["job_create_on_unready_project"] = RuleResult(
        RULES["job_create_on_unready_project"],
        skip_reason="the kit creates the job"
        if settings.mode == "poll"
        else "the project is ready first",
    )
    if settings.mode == "workflow" and not settings.faults:
        checked["forged_webhook_trusted"].skip_reason = "no forged deliveries without --faults"
    cases: list[CaseResult] = []
    closest: float | None = None
    paths: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    registered = 0  # workflow mode: examples whose job has a webhookUrl
    forged: Counter[str] = Counter()
    started_wall, started = time.time(), time.perf_counter()
    with _Runner(settings) as runner:
        for index, plan in enumerate(plans, 1):
            if settings.only is not None and index != settings.only:
                continue
            case, run = runner.run_example(index, plan)
            cases.append(case)
            if progress is not None:
                progress(case, len(plans))
            paths[plan.path] += 1
            counts = run.checks if run.sub is None else run.sub.checks
            for rule_id, n in counts.items():
                checked[rule_id].checks += n
            for rule_id in ("wrong_result", "unbounded"):
                checked[rule_id].checks += 1
            if case.rule is not None:
                checked[case.rule].add(
                    Finding(case.message, case.text, dict(case.details)), keep=_keep_first
                )
            nearest = run.closest if run.sub is None else run.sub.closest_poll
            if nearest is not None:
                closest = nearest if closest is None else min(closest, nearest)
            if isinstance(plan, WorkflowPlan):
                faults.update(f.mode for f in plan.api_faults)
                faults.update(f"webhook {w.mode}" for w in plan.webhook_faults)
                registered += run.registered
                forged.update(_forged_outcome(f) for f in run.forged)
        errors = runner.server.server_errors()
        coverage = runner.coverage
    if errors:
        raise ServerError(errors)
    seconds = time.perf_counter() - started
    walls = sorted(c.seconds for c in cases)
    per_example = sum(walls) / len(walls) if walls else 0.0
    stats: dict[str, Any] = {
        "mode": settings.mode,
        "examples": len(cases),
        "passedExamples": sum(1 for c in cases if c.passed),
        "failedExamples": sum(1 for c in cases if not c.passed),
        "timeScale": settings.time_scale,
        "faketime": settings.faketime,
        "jitterWallSeconds": settings.jitter,
        "toleranceSeconds": round(settings.tolerance, 4),
        "timeoutWallSeconds": settings.wall_timeout,
        "patienceSeconds": settings.patience,
        "maxWaitSeconds": settings.max_wait,
        "wallSecondsPerExample": round(per_example, 4),
        "wallSecondsMedian": round(walls[len(walls) // 2], 4) if walls else 0.0,
        "wallSecondsMax": round(walls[-1], 4) if walls else 0.0,
        "closestPollsSeconds": None if closest is None else round(closest, 4),
        "paths": dict(sorted(paths.items())),
        "coverageMissing": coverage.missing(),
        "summary": (
            f"{len(cases)} example(s) in {settings.mode} mode at x{settings.time_scale:g}"
            f"{' under libfaketime' if settings.faketime else ''}, {per_example:.2f} wall s "
            "per example"
        ),
    }
    notes = [
        f"timing: the server's clock ran {settings.time_scale:g} virtual s per wall s; polls "
        f"were allowed to come up to {settings.tolerance:.2f} virtual s early "
        f"({settings.jitter * 1000:g} ms of timer jitter), so the 5 s floor was judged "
        f"as {5 - settings.tolerance:.2f} s",
    ]
    if settings.mode == "workflow":
        notes[0] += (
            "; the same tolerance applies to Retry-After on every call and to the pause before "
            "a retry"
        )
        outcomes = coverage.delivery_outcomes
        stats["faultsInjected"] = dict(sorted(faults.items()))
        stats["webhooks"] = {
            "examplesWithWebhookUrl": registered,
            "deliveryAttempts": dict(sorted(outcomes.items())),
            "forged": dict(sorted(forged.items())),
        }
        attempts = ", ".join(f"{k} {n}" for k, n in sorted(outcomes.items()) if n)
        sent = (
            f"; forged deliveries: {', '.join(f'{k} {n}' for k, n in sorted(forged.items()))}"
            if forged
            else "; no forged delivery was sent"
            + ("" if settings.faults else " (they come with --faults)")
        )
        notes.append(
            f"webhooks: the program registered PLANGREP_WEBHOOK_URL in {registered} of "
            f"{len(cases)} example(s); delivery attempts: {attempts or 'none'}{sent}"
        )
    return CheckResult(
        "client" if settings.mode == "poll" else "workflow",
        shlex.join(settings.command),
        list(checked.values()),
        seed=seed,
        started_at=started_wall,
        seconds=seconds,
        stats=stats,
        notes=notes,
        replay=_replay(settings),
        cases=cases,
    )


def _keep_first(kept: list[Finding], new: Finding) -> bool:
    return True


def _forged_outcome(forged: _Forged) -> str:
    if forged.accepted:
        return "accepted (2xx)"
    if forged.answer.isdigit():
        return "rejected"
    return "not received" if forged.answer != "sending" else "unanswered"
