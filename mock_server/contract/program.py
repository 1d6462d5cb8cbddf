"""`plangrep-mock check -- CMD`: judge a Plangrep client written in any language.

The program is run once per example against one mock server (a fresh state per example), on
the realtime clock at a time scale: the server's virtual clock runs `time_scale` virtual
seconds per wall second, and the program divides its sleeps by `PLANGREP_TIME_SCALE` (or runs
under libfaketime with `faketime=True`). Hypothesis generates the examples (`ContractPlan`s,
the same plans `check_client` runs: one canonical plan per path first, then drawn ones).

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
`judge_cancel`), in virtual time; the first broken rule kills the program (its process group).
The account owner's actions (upload, complete, top up and resume, cancel) are scheduled on the
engine's own heap, so they fire at the plan's virtual times as the clock passes them. The clock
is held while the program starts: an example's virtual time starts at its first request (or
`STARTUP_GRACE` wall seconds after it was started), so a slow start-up costs no virtual time.

Timing tolerance: at a time scale of x200 one wall millisecond is 0.2 virtual s, and a
program's timers may fire a little early (Node's setTimeout does, by up to a millisecond or
so). Polls may therefore come `jitter x time_scale` virtual seconds early (2 ms of wall time by
default: 0.4 s at x200, so the 5 s floor is judged as 4.6 s), and the report says so. A delay
on the server's side cannot make a sleep-after-answer client look fast: the answer, and so the
program's sleep, starts only after the poll was timed.
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

from aiohttp import web
from aiohttp.typedefs import Handler
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed

from statemachine import TERMINAL_STATUSES, format_time
from statemachine.engine import Job, Project, TransitionRecord

from ..app import PUBLIC_PREFIX
from ..config import MockConfig
from ..testing import MockServerThread, ServerError
from .checker import ORIGIN, _current_status, _fault_response, _retry_after, _served_status
from .coverage import MachineCoverage
from .owner import BLOCKED, Owner, OwnerAction
from .reports import CaseResult, CheckResult, Finding, RuleResult
from .rules import EPS, Seen, judge_cancel, judge_poll, judge_resume, rules
from .strategies import PATHS, ContractPlan, Fault, canonical_plans, contract_plans

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
DEFAULT_TIME_SCALE = 200.0  # a 15 s poll loop: 75 ms of wall time per poll
DEFAULT_JITTER = 0.002  # wall seconds a poll may come early (the program's timers, the OS)
DEFAULT_EXAMPLES = 20  # drawn after the canonical ones (one per path)
MAX_REQUESTS = 2000
STARTUP_GRACE = 5.0  # wall seconds the clock waits for the program's first request
STDERR_LINES = 20
COMPLETED = ("completed", "completed_with_errors")

Mode = Literal["poll", "workflow"]
MODES: tuple[str, ...] = ("poll", "workflow")


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
    examples: int, seed: int, *, faults: bool = False, paths: tuple[str, ...] = PATHS
) -> list[ContractPlan]:
    """The canonical plans (one per path, and one with every fault kind with `faults`), then
    `examples` plans drawn by hypothesis from `seed`: the same seed gives the same list."""
    plans = canonical_plans(paths, faults=faults)
    if examples <= 0:
        return plans
    drawn: list[ContractPlan] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate,),
        verbosity=Verbosity.quiet,
        print_blob=False,
    )
    @given(plan=contract_plans(faults=faults, paths=paths))
    def collect(plan: ContractPlan) -> None:
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
    status: int
    served: str | None
    fault: str | None

    def line(self) -> str:
        served = f" ({self.served})" if self.served else ""
        fault = f"  [injected: {self.fault}]" if self.fault else ""
        return (
            f"  {f'+{self.at:.2f} s':>11} (wall +{self.wall:.3f} s)  {self.method} {self.path} "
            f"-> {self.status}{served}{fault}"
        )


@dataclass(slots=True)
class _Run:
    """One run of the program, as the server's thread sees it."""

    index: int
    plan: ContractPlan
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
    seen: Seen = field(default_factory=Seen)
    status_since: tuple[str, float] = ("", 0.0)
    checks: Counter[str] = field(default_factory=Counter)
    closest: float | None = None  # the smallest gap between two polls that passed

    def rel(self, t: float) -> float:
        return t - self.t0


@dataclass(slots=True)
class _Outcome:
    rule: str | None
    message: str
    summary: str  # one line: what the program did


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
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- the server's thread ----------------------------------------------------

    def _begin(self, index: int, plan: ContractPlan) -> _Run:
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
        run = _Run(index=index, plan=plan, t0=eng.now, faults=plan.faults.by_request())
        run.project_id = project.id
        if self.settings.mode == "poll":
            job = eng.create_job(project, scenario=plan.scenario)
            self._attach(run, job.id, eng.now, uploads=True)
        else:
            eng.queue_scenario(plan.scenario)  # the job the program creates follows the plan
        eng.schedule(run.t0 + self.settings.max_wait, self._deadline, run)
        self.run = run
        assert self.server.loop is not None
        self.server.loop.call_later(STARTUP_GRACE, self._start_clock, run)
        return run

    def _start_clock(self, run: _Run) -> None:
        """The clock runs on without a first request after `STARTUP_GRACE` wall seconds."""
        if run is self.run:
            self.server.state.clock.release()

    def _attach(self, run: _Run, job_id: str, at: float, *, uploads: bool) -> None:
        eng = self.server.state.engine
        run.job_id = job_id
        job = eng.jobs[job_id]
        run.status_since = (job.state, at)

        def schedule(when: float, action: OwnerAction) -> None:
            eng.schedule(when, self._owner_due, (run, action))

        run.owner = Owner(eng, run.plan, job_id, at, schedule, uploads=uploads)
        run.owner.start()

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

    def _end(self, run: _Run) -> dict[str, Any]:
        self.run = None
        state = self.server.state
        state.clock.release()
        eng = state.engine
        eng.sync_if_behind()
        job = eng.jobs.get(run.job_id) if run.job_id else None
        history = list(job.history) if job is not None else []
        return {
            "status": job.state if job is not None else None,
            "now": eng.now,
            "history": history,
        }

    def _on_transition(self, rec: TransitionRecord, obj: Job | Project) -> None:
        run = self.run
        if run is None or not run.job_id or rec.object_id != run.job_id:
            return
        run.status_since = (rec.dst, rec.at)
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
        index = len(run.requests)
        route = request.path[len(PUBLIC_PREFIX) :]
        method = request.method
        job_route = f"/jobs/{run.job_id}" if run.job_id else None
        job = eng.jobs.get(run.job_id) if run.job_id else None
        current = job.state if job is not None else ""
        kind = None
        if job_route is not None:
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
        elif (
            not run.job_id
            and method == "POST"
            and route == f"/projects/{run.project_id}/jobs"
            and response.status == 202
        ):
            created = _job_id(response)
            if created is not None and created in eng.jobs:
                self._attach(run, created, arrival, uploads=False)
        if run.violation is None and len(run.requests) > MAX_REQUESTS:
            self._violate(
                run, "unbounded", f"the program made more than {MAX_REQUESTS} requests for one job"
            )
        return response

    def _judge_request(self, run: _Run, kind: str, at: float, status: str) -> None:
        """Judge one request with the rule registry's functions; word what they find."""
        seen = run.seen
        job_id = run.job_id
        tolerance = self.settings.tolerance
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
        if finding is None:
            return
        facts = finding.facts
        if finding.rule == "poll_after_terminal":
            message = (
                f"{job_id} was polled again at +{run.rel(at):.1f} s after it had been served "
                f"the terminal status {facts['served']} at +{run.rel(facts['servedAt']):.1f} s; "
                "Plangrep asks clients to stop polling at the first terminal status"
            )
        elif finding.rule == "polling_too_fast":
            gap, last = facts["gap"], facts["lastPoll"]
            if facts["retryAfter"] > facts["interval"]:
                why = (
                    "the previous answer asked it to wait (Retry-After: "
                    f"{facts['retryAfter']:g} s)"
                )
            else:
                why = "Plangrep asks for at least 5 s between polls"
            message = (
                f"{job_id} was polled twice within {gap:.2f} virtual s (at +{run.rel(last):.2f} "
                f"s and +{run.rel(at):.2f} s); {why}. Polls may come up to "
                f"{facts['tolerance']:.2f} s early here (timer jitter at "
                f"x{self.settings.time_scale:g}); " + _sleep_hint(self.settings)
            )
        elif finding.rule == "resume_not_blocked":
            message = (
                f"the program resumed {job_id} at +{run.rel(at):.1f} s while it was {status}, "
                f"and the last status it had been shown was {facts['lastShown'] or 'none'}; "
                f"resume applies only to a job in {BLOCKED}"
            )
        else:
            served_at = facts["servedAt"]
            when = f" at +{run.rel(served_at):.1f} s" if served_at is not None else ""
            message = (
                f"the program cancelled {job_id} at +{run.rel(at):.1f} s after it had been "
                f"served the terminal status {facts['served']}{when}; a terminal job cannot be "
                "cancelled"
            )
        self._violate(run, finding.rule, message)

    def _violate(self, run: _Run, rule: str, message: str) -> None:
        if run.violation is not None:
            return
        run.violation = (rule, message)
        if run.running and run.pid:
            _kill_group(run.pid)  # the program stops here: the first broken rule is the verdict

    # -- the caller's thread ------------------------------------------------------

    def run_example(self, index: int, plan: ContractPlan) -> tuple[CaseResult, _Run]:
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
        summary = self.server.call(self._end, run)
        shutil.rmtree(self.tmp / f"example{run.index}", ignore_errors=True)  # workflow's files
        self.coverage.add_job_history(summary["history"])
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
        if settings.mode == "poll":
            env["PLANGREP_JOB_ID"] = run.job_id
        else:
            files, manifest = _write_files(self.tmp / f"example{run.index}", run.plan)
            env["PLANGREP_FILES_DIR"] = str(files)
            env["PLANGREP_FILES_MANIFEST"] = str(manifest)
            env["PLANGREP_WEBHOOK_URL"] = f"http://127.0.0.1:{_free_port()}/webhooks"
        return env

    def _judge(
        self, run: _Run, code: int | None, stdout: str, summary: dict[str, Any]
    ) -> _Outcome:
        settings = self.settings
        status: str | None = summary["status"]
        waited = run.rel(summary["now"])
        if run.violation is not None:
            rule, message = run.violation
            return _Outcome(rule, message, f"stopped by the checker after {waited:.1f} s")
        if settings.mode == "workflow" and not run.job_id:
            return _Outcome(
                "wrong_result",
                f"the program exited with status {code} without creating a job in project "
                f"{run.project_id} (PLANGREP_PROJECT_ID); in workflow mode it must create the "
                "job, upload the files of PLANGREP_FILES_DIR, complete and wait",
                f"exit {code}, no job",
            )
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
                'must print the terminal job (the job, or the API\'s {"job": ...}) as JSON'
                + (" or the result document" if settings.mode == "workflow" else ""),
                "exit 0, no JSON",
            )
        is_result = isinstance(value, dict) and "schemaVersion" in value and "usage" in value
        job = value.get("job", value) if isinstance(value, dict) else value
        if not isinstance(job, dict) or "status" not in job:
            return _Outcome(
                "wrong_result",
                f"the program printed {json.dumps(value)[:200]}; it must print the job (an "
                'object with `id` and `status`, or the API\'s {"job": ...})',
                "exit 0, not a job",
            )
        got = job.get("status")
        what = "the result of" if is_result else "job"
        if status not in TERMINAL_STATUSES:
            return _Outcome(
                "wrong_result",
                f"the program printed {what} {run.job_id} with status {got} after {waited:.1f} "
                f"s, but the job is still {status} (not terminal): a client must keep polling "
                "through every non-terminal status",
                f"printed {got} early",
            )
        if got != status or job.get("id", run.job_id) != run.job_id:
            return _Outcome(
                "wrong_result",
                f"the program printed {what} {job.get('id')} with status {got}, but the job "
                f"the server reached is {run.job_id} with status {status}",
                f"printed {got}, server {status}",
            )
        kind = "the result" if is_result else status
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
        if outcome.rule is None:
            return CaseResult(
                run.index, name, wall, output=output, stderr=_tail(stderr), details=details
            )
        text = "\n".join(
            [
                f"[{outcome.rule}] {outcome.message}",
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


def _job_id(response: web.StreamResponse) -> str | None:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes | bytearray):
        return None
    try:
        job = json.loads(body).get("job")
    except (ValueError, AttributeError):
        return None
    job_id = job.get("id") if isinstance(job, dict) else None
    return job_id if isinstance(job_id, str) else None


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


def _write_files(where: Path, plan: ContractPlan) -> tuple[Path, Path]:
    """The plan's files, with their declared sizes, and a manifest of their metadata."""
    files = where / "files"
    files.mkdir(parents=True, exist_ok=True)
    manifest = []
    for i, (size, classification) in enumerate(plan.owner.files):
        name = f"sheet{i}.pdf"
        head, tail = b"%PDF-1.4\n% plangrep-mock check\n", b"\n%%EOF\n"
        body = head + b"0" * max(0, size - len(head) - len(tail)) + tail
        (files / name).write_bytes(body)
        manifest.append(
            {
                "fileName": name,
                "contentType": "application/pdf",
                "classification": classification,
                "fileSize": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
            }
        )
    manifest_path = where / "manifest.json"
    manifest_path.write_text(json.dumps({"files": manifest}, indent=2), encoding="utf-8")
    return files, manifest_path


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
    plans = generate_plans(settings.examples, seed, faults=settings.faults, paths=settings.paths)
    if settings.only is not None and settings.only > len(plans):
        raise ValueError(
            f"there is no example {settings.only}: this run has {len(plans)} (the canonical "
            f"ones and --examples {settings.examples})"
        )
    client_rules = {r.id: RuleResult(r) for r in rules("client")}
    client_rules["job_create_on_unready_project"].skip_reason = (
        "the kit creates the job" if settings.mode == "poll" else "the project is ready first"
    )
    cases: list[CaseResult] = []
    closest: float | None = None
    paths: Counter[str] = Counter()
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
            for rule_id, n in run.checks.items():
                client_rules[rule_id].checks += n
            for rule_id in ("wrong_result", "unbounded"):
                client_rules[rule_id].checks += 1
            if case.rule is not None:
                client_rules[case.rule].add(
                    Finding(case.message, case.text, dict(case.details)), keep=_keep_first
                )
            if run.closest is not None:
                closest = run.closest if closest is None else min(closest, run.closest)
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
        notes.append(
            "workflow mode judges the polling, resume, cancel and result rules; the webhook "
            "rules of check_workflow are not judged here yet"
        )
    return CheckResult(
        "client" if settings.mode == "poll" else "workflow",
        shlex.join(settings.command),
        list(client_rules.values()),
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
