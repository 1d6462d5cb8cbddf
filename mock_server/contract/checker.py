"""`check_client`: search for the server behaviour under which a client breaks Plangrep's contract.

The client is the integrator's wait-for-job function, `client(base_url, api_key, job_id, sleep)
-> job` (a coroutine function works too; it then gets an async `sleep`). For each example the kit
resets one in-process mock server (manual clock), creates a project and a job as the account
owner, and calls the client. The `sleep` it passes advances virtual time; while it does, the owner
uploads, tops up and resumes, or cancels, at the virtual times the plan says. A middleware in
front of the public API injects the plan's transient faults and judges every request as it
arrives; the first broken rule stops the client (`_ClientStopped`, a BaseException, raised in its
thread) and is reported as a `ContractViolation`, shrunk by hypothesis.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import heapq
import inspect
import json
import random
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from statemachine import TERMINAL_STATUSES, format_time
from statemachine.engine import Job, Project, TransitionRecord

from ..app import PUBLIC_PREFIX
from ..errors import ServerError
from .coverage import DELIVERY_OUTCOMES, MachineCoverage
from .kit import KitRunner, Rate, Timeline, run_search
from .owner import BLOCKED, Owner
from .rules import EPS, Seen, judge_cancel, judge_poll, judge_resume
from .strategies import (
    PATHS,
    ContractPlan,
    Fault,
    canonical_plans,
    contract_plans,
)
from .violations import RULES, ContractViolation

__all__ = [
    "CONTRACT_API_KEY",
    "ContractReport",
    "ContractRunner",
    "check_client",
    "contract_runner",
    "replay_plan",
]

CONTRACT_API_KEY = "pgk_live_contractkit"
MAX_REQUESTS_WITHOUT_SLEEP = 25

Client = Callable[[str, str, str, Callable[[float], Any]], Any]


class _ClientStopped(BaseException):
    """Raised inside the client once it broke a rule (not an Exception: `except Exception` in
    the client does not swallow it)."""


def _interrupt(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(_ClientStopped)
    )


def _clear_interrupt(thread_id: int) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)


@dataclass(slots=True)
class _Request:
    at: float  # seconds since the client was called, when the request arrived
    method: str
    path: str
    status: int
    served: str | None  # the job status in the answer, when it holds the job
    fault: str | None

    def line(self) -> str:
        served = f" ({self.served})" if self.served else ""
        fault = f"  [injected: {self.fault}]" if self.fault else ""
        return f"  {_rel(self.at)}  {self.method} {self.path} -> {self.status}{served}{fault}"


@dataclass(slots=True)
class _Example(Timeline):
    """One run of the client, as the server thread sees it."""

    plan: ContractPlan
    job_id: str
    t0: float
    faults: dict[int, Fault]
    thread_id: int = 0
    running: bool = False
    requests: list[_Request] = field(default_factory=list)
    violation: tuple[str, str] | None = None
    # what the client has been shown of the job (every poll counts, faults included)
    seen: Seen = field(default_factory=Seen)
    since_sleep: int = 0
    slept: float = 0.0
    sleeps: int = 0
    actions: list[tuple[float, int, str]] = field(default_factory=list)  # (at, seq, action)
    seq: int = 0
    owner: Owner | None = None
    status_since: tuple[str, float] = ("", 0.0)


@dataclass(slots=True)
class ContractReport(Rate):
    """What a passing `check_client` run covered."""

    seed: int
    examples: int = 0
    seconds: float = 0.0
    coverage: MachineCoverage = field(default_factory=MachineCoverage)
    paths: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # returned <status> | gave up

    def table(self) -> str:
        lines = [
            f"check_client: {self.examples} examples in {self.seconds:.2f} s "
            f"({self.examples_per_second:.0f}/s), seed {self.seed}",
            "paths: " + ", ".join(f"{p} {self.paths[p]}" for p in PATHS if self.paths[p]),
            "client outcomes: " + ", ".join(f"{k} {n}" for k, n in sorted(self.outcomes.items())),
        ]
        table = self.coverage.table(title="coverage of the job machine")
        lines.extend(line for line in table.splitlines() if "delivery outcomes" not in line)
        return "\n".join(_drop_delivery_rows(lines))


def _drop_delivery_rows(lines: list[str]) -> list[str]:
    # check_client sends no webhooks: its table stops before the delivery outcomes
    out = []
    for line in lines:
        stripped = line.strip().split(" ")[0]
        if line.startswith("  ") and stripped in DELIVERY_OUTCOMES:
            continue
        out.append(line)
    return out


class ContractRunner(KitRunner):
    """One in-process mock server that runs contract examples one after another."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.example: _Example | None = None

    # -- one example (caller's thread) ------------------------------------------

    def run(self, client: Client, plan: ContractPlan) -> dict[str, Any]:
        """Run the client against one plan; raise `ContractViolation` or return a summary."""
        ex = self.server.call(self._begin, plan)
        ex.thread_id = threading.get_ident()
        outcome: tuple[str, Any]
        ex.running = True
        try:
            if inspect.iscoroutinefunction(client):
                result = asyncio.run(
                    client(self.server.base_url, CONTRACT_API_KEY, ex.job_id, self._asleep(ex))
                )
            else:
                result = client(self.server.base_url, CONTRACT_API_KEY, ex.job_id, self._sleep(ex))
            outcome = ("returned", result)
        except _ClientStopped:
            outcome = ("stopped", None)
        except Exception as exc:
            outcome = ("raised", exc)
        finally:
            ex.running = False
            _clear_interrupt(ex.thread_id)
        summary = self.server.call(self._end, ex)
        self._judge(ex, outcome, summary)
        return summary

    def _sleep(self, ex: _Example) -> Callable[[float], None]:
        call = self.server.call

        def sleep(seconds: float) -> None:
            """Virtual sleep: the mock's clock moves `seconds` forward (no wall time)."""
            s = float(seconds)
            if not s >= 0:
                raise ValueError(f"sleep length must be non-negative, got {seconds!r}")
            call(self._sleep_on_loop, ex, s)
            if ex.violation is not None:
                raise _ClientStopped()

        return sleep

    def _asleep(self, ex: _Example) -> Callable[[float], Awaitable[None]]:
        sleep = self._sleep(ex)

        async def asleep(seconds: float) -> None:
            sleep(seconds)

        return asleep

    # -- the server's thread -------------------------------------------------------

    def _begin(self, plan: ContractPlan) -> _Example:
        state = self.server.state
        state.reset()
        eng = state.engine
        project, _ = eng.create_project(CONTRACT_API_KEY, "contract-kit")
        if project.state != "ready":
            eng.force_project(project, "provision")
        eng.set_balance(CONTRACT_API_KEY, plan.owner.balance)
        ex = _Example(plan=plan, job_id="", t0=eng.now, faults=plan.faults.by_request())
        self.example = ex
        job = eng.create_job(project, scenario=plan.scenario)
        ex.job_id = job.id
        ex.status_since = (job.state, eng.now)
        ex.owner = Owner(eng, plan, job.id, ex.t0, ex.schedule)
        ex.owner.start()
        self._run_actions(ex, eng.now)
        return ex

    def _end(self, ex: _Example) -> dict[str, Any]:
        self.example = None
        job = self.server.state.engine.jobs[ex.job_id]
        return {
            "status": job.state,
            "now": self.server.state.engine.now,
            "history": list(job.history),
            "status_since": ex.status_since,
        }

    def _sleep_on_loop(self, ex: _Example, seconds: float) -> None:
        eng = self.server.state.engine
        elapsed = ex.rel(eng.now)
        if elapsed + seconds > self.max_wait + EPS:
            self._advance_to(ex, ex.t0 + self.max_wait)
            status, since = ex.status_since
            self._violate(
                ex,
                "unbounded",
                f"the client was still waiting after {self.max_wait:g} s (it asked to sleep "
                f"{seconds:g} s at +{elapsed:.1f} s); the job has been {status} since "
                f"+{ex.rel(since):.1f} s. A client must give up with an error within a bound "
                f"(check_client's max_wait is {self.max_wait:g} s)",
            )
            return
        self._advance_to(ex, eng.now + seconds)
        ex.slept += seconds
        ex.sleeps += 1
        ex.since_sleep = 0

    def _advance_to(self, ex: _Example, target: float) -> None:
        """Advance the engine to `target`, stopping at every due engine event and owner action
        so the owner acts at the exact virtual time the plan says."""
        while True:
            t = self._step(ex.actions, target)
            self._run_actions(ex, t)
            if t >= target:
                return

    def _run_actions(self, ex: _Example, t: float) -> None:
        while ex.actions and ex.actions[0][0] <= t + 1e-9:
            _, _, action = heapq.heappop(ex.actions)
            if ex.owner is not None:
                ex.owner.act(action)

    def _on_transition(self, rec: TransitionRecord, obj: Job | Project) -> None:
        ex = self.example
        if ex is None or rec.object_id != ex.job_id:
            return
        ex.status_since = (rec.dst, rec.at)
        if ex.owner is not None:
            ex.owner.on_transition(rec)

    async def _intercept(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        ex = self.example
        if ex is None or ex.violation is not None or not request.path.startswith(PUBLIC_PREFIX):
            return await handler(request)
        eng = self.server.state.engine
        arrival = eng.now
        index = len(ex.requests)
        route = request.path[len(PUBLIC_PREFIX) :]
        job_route = f"/jobs/{ex.job_id}"
        job = eng.jobs.get(ex.job_id)
        before = job.state if job is not None else ""
        ex.since_sleep += 1
        self._judge_request(ex, request.method, route, job_route, arrival, before)
        fault = ex.faults.get(index)
        response: web.StreamResponse
        if fault is not None and fault.kind == "latency":
            self._advance_to(ex, eng.now + fault.seconds)
        if fault is not None and fault.kind != "latency":
            response = _fault_response(fault)
        else:
            response = await handler(request)
        served = _served_status(response)
        ex.requests.append(
            _Request(
                ex.rel(arrival),
                request.method,
                request.path,
                response.status,
                served,
                fault.describe().split(": ", 1)[1] if fault is not None else None,
            )
        )
        if request.method == "GET" and route == job_route:
            ex.seen.polled(arrival, status=served, retry_after=_retry_after(response))
        elif request.method == "POST" and route in (job_route + "/resume", job_route + "/cancel"):
            shown = served or _current_status(response)
            if shown is not None:
                ex.seen.shown(shown)
        if ex.violation is None:
            if ex.since_sleep > MAX_REQUESTS_WITHOUT_SLEEP:
                self._violate(
                    ex,
                    "unbounded",
                    f"the client made {ex.since_sleep} requests without calling the sleep it "
                    "was given; virtual time moves only through that sleep, so the job cannot "
                    "change (does the client call time.sleep instead of its sleep argument?)",
                )
            elif len(ex.requests) > self.max_requests:
                self._violate(
                    ex,
                    "unbounded",
                    f"the client made more than {self.max_requests} requests for one job",
                )
        return response

    def _judge_request(
        self, ex: _Example, method: str, route: str, job_route: str, at: float, status: str
    ) -> None:
        """Judge one request with the rule registry's functions; word what they find."""
        job_id = ex.job_id
        seen = ex.seen
        if method == "GET" and route == job_route:
            findings = judge_poll(seen, at)
            finding = findings[0] if findings else None
        elif method == "POST" and route == job_route + "/resume":
            finding = judge_resume(seen, status)
        elif method == "POST" and route == job_route + "/cancel":
            finding = judge_cancel(seen, status)
        else:
            return
        if finding is None:
            return
        facts = finding.facts
        if finding.rule == "poll_after_terminal":
            message = (
                f"{job_id} was polled again at +{ex.rel(at):.1f} s after it had been served the "
                f"terminal status {facts['served']} at +{ex.rel(facts['servedAt']):.1f} s; "
                "Plangrep asks clients to stop polling at the first terminal status"
            )
        elif finding.rule == "polling_too_fast":
            gap, last = facts["gap"], facts["lastPoll"]
            if facts["retryAfter"] > facts["interval"]:
                asked = facts["retryAfter"]
                why = f"the previous answer asked it to wait (Retry-After: {asked:g} s)"
            else:
                why = "Plangrep asks for at least 5 s between polls"
            hint = (
                " (the client did not call the sleep it was given in between: does it call "
                "time.sleep?)"
                if ex.since_sleep > 1 and gap < EPS
                else ""
            )
            message = (
                f"{job_id} was polled twice within {gap:.1f} s (at +{ex.rel(last):.1f} s and "
                f"+{ex.rel(at):.1f} s); {why}{hint}"
            )
        elif finding.rule == "resume_not_blocked":
            message = (
                f"the client resumed {job_id} at +{ex.rel(at):.1f} s while it was {status}, and "
                f"the last status it had been shown was {facts['lastShown'] or 'none'}; resume "
                f"applies only to a job in {BLOCKED}"
            )
        else:
            served_at = facts["servedAt"]
            when = f" at +{ex.rel(served_at):.1f} s" if served_at is not None else ""
            message = (
                f"the client cancelled {job_id} at +{ex.rel(at):.1f} s after it had been served "
                f"the terminal status {facts['served']}{when}; a terminal job cannot be cancelled"
            )
        self._violate(ex, finding.rule, message)

    def _violate(self, ex: _Example, rule: str, message: str) -> None:
        if ex.violation is not None:
            return
        ex.violation = (rule, message)
        if ex.running and ex.thread_id:
            _interrupt(ex.thread_id)  # the client stops at its next bytecode

    # -- verdict (caller's thread) -----------------------------------------------

    def _judge(self, ex: _Example, outcome: tuple[str, Any], summary: dict[str, Any]) -> None:
        status: str = summary["status"]
        waited = ex.rel(summary["now"])
        if ex.violation is not None:
            raise self._violation(ex, *ex.violation, summary)
        kind, value = outcome
        if kind == "raised":
            if waited < self.patience - EPS:
                raise self._violation(
                    ex,
                    "wrong_result",
                    f"the client raised {type(value).__name__}: {value} after waiting "
                    f"{waited:.1f} s, while the job was {status}; it must return the job at its "
                    f"terminal status, or give up only after waiting at least {self.patience:g} s",
                    summary,
                )
            summary["outcome"] = "gave up"
            return
        if kind == "stopped":  # stopped without a recorded violation: cannot happen
            raise AssertionError("check_client stopped a client without a violation")
        job = value.get("job", value) if isinstance(value, dict) else value
        if not isinstance(job, dict) or "status" not in job:
            raise self._violation(
                ex,
                "wrong_result",
                f"the client returned {value!r:.200}; it must return the job (a dict with "
                '`id` and `status`, or the API\'s `{"job": ...}`)',
                summary,
            )
        got = job.get("status")
        if status not in TERMINAL_STATUSES:
            raise self._violation(
                ex,
                "wrong_result",
                f"the client returned {ex.job_id} with status {got} after {waited:.1f} s, but "
                f"the job is still {status} (not terminal): a client must keep polling through "
                "every non-terminal status",
                summary,
            )
        if got != status or job.get("id", ex.job_id) != ex.job_id:
            raise self._violation(
                ex,
                "wrong_result",
                f"the client returned job {job.get('id')} with status {got}, but the job the "
                f"server reached is {ex.job_id} with status {status}",
                summary,
            )
        summary["outcome"] = f"returned {status}"

    def _violation(
        self, ex: _Example, rule: str, message: str, summary: dict[str, Any]
    ) -> ContractViolation:
        lines = [
            f"check_client: the client broke rule {rule!r}: {RULES[rule]}",
            f"  {message}",
            "the server's behaviour (shrunk by hypothesis):",
            *(f"  {line}" for line in ex.plan.describe().splitlines()),
            "the job's history (virtual seconds since the client was called):",
        ]
        for rec in summary["history"]:
            lines.append(f"  {_rel(ex.rel(rec.at))}  {rec.src} --{rec.event}--> {rec.dst}")
        lines.append(f"the client's requests ({len(ex.requests)}):")
        request_lines = [r.line() for r in ex.requests]
        if len(request_lines) > 40:
            skipped = len(request_lines) - 40
            request_lines = [f"  ... {skipped} earlier request(s)", *request_lines[-40:]]
        lines.extend(request_lines)
        lines.append(f"(virtual start {format_time(ex.t0)}; the client slept {ex.sleeps} times)")
        if self.seed is not None:
            lines.append(
                f"replay: check_client(client, seed={self.seed}) repeats this search; "
                "replay_plan(client, exc.plan) repeats this example"
            )
        return ContractViolation(
            "\n".join(lines),
            rule=rule,
            job_id=ex.job_id,
            scenario=ex.plan.scenario.name,
            requests=request_lines,
            seed=self.seed,
            plan=ex.plan,
        )


def _rel(seconds: float) -> str:
    return f"{f'+{seconds:.1f} s':>10}"


def _fault_response(fault: Fault) -> web.Response:
    status = int(fault.kind)
    code = {429: "rate_limited", 500: "internal_error", 503: "service_unavailable"}[status]
    return ServerError(
        status=status,
        code=code,
        message=f"a transient {status} injected by check_client(faults=True)",
        retry_after=fault.retry_after,
    ).response()


def _served_status(response: web.StreamResponse) -> str | None:
    body = getattr(response, "body", None)
    if response.status != 200 or not isinstance(body, bytes | bytearray):
        return None
    try:
        job = json.loads(body).get("job")
    except (ValueError, AttributeError):
        return None
    status = job.get("status") if isinstance(job, dict) else None
    return status if isinstance(status, str) else None


def _current_status(response: web.StreamResponse) -> str | None:
    """The `currentStatus` of a 409 answer (the status it showed the client)."""
    body = getattr(response, "body", None)
    if response.status != 409 or not isinstance(body, bytes | bytearray):
        return None
    try:
        status = json.loads(body).get("error", {}).get("currentStatus")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, str) else None


def _retry_after(response: web.StreamResponse) -> float:
    if response.status not in (429, 503):
        return 0.0
    try:
        return float(response.headers.get("Retry-After", "0"))
    except ValueError:
        return 0.0


# --------------------------------------------------------------------------- entry points


def check_client(
    client: Client,
    *,
    max_examples: int = 100,
    seed: int | None = None,
    faults: bool = False,
    patience: float = 600.0,
    max_wait: float = 3600.0,
    paths: tuple[str, ...] = PATHS,
) -> ContractReport:
    """Search for a server behaviour under which `client` breaks Plangrep's client contract.

    `client(base_url, api_key, job_id, sleep) -> job` waits for the job and returns it at its
    first terminal status (the job dict, or the API's `{"job": ...}`); it must wait with the
    `sleep` it is given. Raises `ContractViolation` (an AssertionError) with the rule, the shrunk
    scenario, the request log and a replay seed; returns a `ContractReport` when no example broke
    a rule. `patience`: the client may give up with an error only after waiting this long;
    `max_wait`: it must have given up by then. `faults`: add transient 429/500/503 and latency.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    report = ContractReport(seed=seed)
    strategy = contract_plans(faults=faults, paths=paths)
    with ContractRunner(patience=patience, max_wait=max_wait, seed=seed) as runner:

        def each(plan: ContractPlan) -> None:
            summary = runner.run(client, plan)
            report.examples += 1
            report.paths[plan.path] += 1
            report.outcomes[summary.get("outcome", "?")] += 1
            report.coverage.add_job_history(summary["history"])

        canonical = canonical_plans(paths, faults=faults)
        report.seconds = run_search(
            strategy, canonical, each, max_examples=max_examples, seed=seed
        )
    return report


def replay_plan(
    client: Client,
    plan: ContractPlan,
    *,
    patience: float = 600.0,
    max_wait: float = 3600.0,
) -> dict[str, Any]:
    """Run one plan (e.g. `ContractViolation.plan`) again; raises `ContractViolation` or returns
    `{"status", "outcome", ...}`."""
    with ContractRunner(patience=patience, max_wait=max_wait) as runner:
        return runner.run(client, plan)


@contextlib.contextmanager
def contract_runner(**kwargs: Any) -> Iterator[ContractRunner]:
    """A started `ContractRunner` for your own hypothesis properties (`runner.run(client,
    plan)` per example)."""
    with ContractRunner(**kwargs) as runner:
        yield runner
