"""`check_workflow`: search for the server behaviour under which a whole submission goes wrong.

The workflow is the integrator's code for one submission, `workflow(env) -> dict` (a coroutine
function works too): create a job in `env.project_id`, upload `env.files`, complete, wait (by
webhook at `env.webhook_url`, taking deliveries with `env.next_webhook(timeout)`, and/or by
polling), and return the result document of a completed or completed_with_errors job, else the
terminal job. For each example the kit resets one in-process mock server (manual clock) and runs
the workflow against it; `env.sleep` and `env.next_webhook` move virtual time. The account owner
acts on the job as the plan says (tops up and resumes, cancels, lets it expire); the kit's
middleware in front of the public API injects the plan's API faults (through the fault table's
own functions) and judges every request as it arrives with the rule registry's functions; the
dispatcher's own webhook faults hit the deliveries; the kit forges a delivery when the plan says.
The first broken rule stops the workflow and is reported as a `ContractViolation`, shrunk by
hypothesis, with the fault that exposed it and a replay.

Webhooks go out from the server's dispatcher over real HTTP to a receiver the kit runs on the same
server (`/_contract/webhooks/<n>`); the kit lets them arrive after every step of virtual time, so
a delivery arrives at the virtual time of its transition (or of its delay).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import inspect
import json
import random
import threading
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from statemachine import TERMINAL_STATUSES, UPLOAD_WINDOW, format_time
from statemachine.engine import Job, Project, TransitionRecord

from ..app import PUBLIC_PREFIX
from ..faults import LOST_RESPONSE
from .checker import (
    CONTRACT_API_KEY,
    _clear_interrupt,
    _ClientStopped,
    _current_status,
    _interrupt,
    _rel,
    _retry_after,
    _served_status,
)
from .coverage import MachineCoverage
from .kit import (
    KitRunner,
    Rate,
    Timeline,
    answer_with_fault,
    arm_webhook_faults,
    delivery_summary,
    fault_on,
    fault_on_kind,
    forged_delivery,
    last_fault,
    run_search,
)
from .owner import BLOCKED, Owner
from .rules import (
    EPS,
    FALLBACK_WINDOW,
    RESULT_STATUSES,
    RULES,
    Creates,
    FailureRun,
    Finding,
    RetryAfters,
    Seen,
    call_key,
    create_fingerprint,
    is_poll,
    judge_cancel,
    judge_complete,
    judge_create,
    judge_poll,
    judge_result,
    judge_resume,
    judge_retry_after,
    judge_retry_storm,
    judge_uploads,
)
from .violations import ContractViolation
from .workflow_strategies import (
    WORKFLOW_PATHS,
    ApiFault,
    WorkflowPlan,
    canonical_workflow_plans,
    workflow_plans,
)

__all__ = [
    "OUTAGE_FAILURES",
    "WORKFLOW_RULES",
    "WebhookDelivery",
    "WorkflowEnv",
    "WorkflowReport",
    "WorkflowRunner",
    "check_workflow",
    "replay_workflow",
    "workflow_runner",
]

# the registry's rules check_workflow judges (the workflow family's source search rule is the
# server's: a submission here does not search)
WORKFLOW_RULES: tuple[str, ...] = (
    "duplicate_job",
    "upload_incomplete",
    "complete_repeated",
    "retry_after_ignored",
    "retry_storm",
    "no_polling_fallback",
    "forged_webhook_trusted",
    "result_not_available",
    "wrong_result",
    "unbounded",
    "polling_too_fast",
    "poll_after_terminal",
    "resume_not_blocked",
    "cancel_not_cancellable",
)
# giving up with an error is fine after this many failed attempts in a row at the last call
OUTAGE_FAILURES = 5
MAX_REQUESTS_WITHOUT_SLEEP = 40
MAX_IDLE_WEBHOOK_WAITS = 100  # next_webhook(0) in a loop: time never moves
RECEIVER_PATH = "/_contract/webhooks/{token}"

Workflow = Callable[["WorkflowEnv"], Any]


# --------------------------------------------------------------------------- the workflow's env


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One delivery as the kit's receiver got it at `webhook_url`: the raw headers (names in
    lower case) and the raw body bytes. Verify before trusting it."""

    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class WorkflowEnv:
    """What `check_workflow` hands the workflow for one example.

    `files` are `(file name, bytes, content type)`. Virtual time moves only through `sleep` /
    `asleep` and `next_webhook` / `anext_webhook` (which return a delivery as soon as one
    arrives, or None after `timeout` virtual seconds); `monotonic()` reads it (seconds since the
    workflow was called). The workflow verifies signatures itself, with the
    `webhookSigningSecret` its create call returned.
    """

    base_url: str
    api_key: str
    project_id: str
    files: list[tuple[str, bytes, str]]
    webhook_url: str
    sleep: Callable[[float], None]
    asleep: Callable[[float], Awaitable[None]]
    next_webhook: Callable[[float], WebhookDelivery | None]
    anext_webhook: Callable[[float], Awaitable[WebhookDelivery | None]]
    monotonic: Callable[[], float]


# --------------------------------------------------------------------------- one example


@dataclass(slots=True)
class _Arrival:
    """A delivery at the kit's receiver (or a forged one the kit put there)."""

    delivery: WebhookDelivery
    at: float
    job_id: str | None
    status: str | None
    previous: str | None
    sequence: int | None
    forged: bool = False
    taken_at: float | None = None


@dataclass(slots=True)
class _Request:
    at: float  # virtual seconds since the workflow was called
    method: str
    path: str
    status: int  # what the workflow saw (0: no answer at all)
    served: str | None
    fault: str | None
    committed: int | None = None  # the status the server answered, when the answer was lost

    def line(self) -> str:
        served = f" ({self.served})" if self.served else ""
        seen = "no answer" if self.status == 0 else str(self.status)
        fault = f"  [injected: {self.fault}]" if self.fault else ""
        if self.committed is not None:
            fault += f" (the server answered {self.committed})"
        return f"  {_rel(self.at)}  {self.method} {self.path} -> {seen}{served}{fault}"


@dataclass(slots=True)
class _Example(Timeline):
    plan: WorkflowPlan
    t0: float
    project_id: str
    token: int
    given: list[tuple[str, int]]
    job_id: str | None = None
    thread_id: int = 0
    running: bool = False
    stop: Callable[[], object] | None = None  # cancels an async workflow's task
    requests: list[_Request] = field(default_factory=list)
    violation: tuple[str, str, str] | None = None  # (rule, message, exposed by)
    seen: Seen = field(default_factory=Seen)
    creates: Creates = field(default_factory=Creates)
    retries: RetryAfters = field(default_factory=RetryAfters)
    runs: dict[str, FailureRun] = field(default_factory=dict)
    last_run: int = 0  # failures in a row of the workflow's last call
    jobs_known: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    injected: list[tuple[float, str, str]] = field(default_factory=list)  # (at, call, what)
    since_sleep: int = 0
    sleeps: int = 0
    webhook_waits: int = 0
    idle_waits: int = 0
    actions: list[tuple[float, int, str]] = field(default_factory=list)
    seq: int = 0
    inbox: deque[_Arrival] = field(default_factory=deque)
    arrivals: list[_Arrival] = field(default_factory=list)
    forged_claim: str | None = None  # a forged delivery taken, and nothing genuine since
    terminal: tuple[str, float] | None = None  # the job's terminal status and when
    terminal_known: bool = False  # a poll served it, or a genuine delivery of it was taken
    results: list[Any] = field(default_factory=list)  # result documents the workflow was served
    owner: Owner | None = None  # the account owner, once the submission made its job
    status_since: tuple[str, float] = ("", 0.0)


@dataclass(slots=True)
class WorkflowReport(Rate):
    """What a passing `check_workflow` run covered."""

    seed: int
    examples: int = 0
    seconds: float = 0.0
    coverage: MachineCoverage = field(default_factory=MachineCoverage)
    paths: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # returned <status> | gave up
    faults: Counter[str] = field(default_factory=Counter)  # kinds of fault injected

    def table(self) -> str:
        lines = [
            f"check_workflow: {self.examples} examples in {self.seconds:.2f} s "
            f"({self.examples_per_second:.0f}/s), seed {self.seed}",
            "paths: " + ", ".join(f"{p} {self.paths[p]}" for p in WORKFLOW_PATHS if self.paths[p]),
            "workflow outcomes: "
            + ", ".join(f"{k} {n}" for k, n in sorted(self.outcomes.items())),
            "faults injected: "
            + (", ".join(f"{k} {n}" for k, n in sorted(self.faults.items())) or "none"),
            self.coverage.table(title="coverage of the job machine and the webhook deliveries"),
        ]
        return "\n".join(lines)


def _call_kind(method: str, route: str) -> tuple[str, str | None]:
    """(kind of call, the job id it names) for a public route (without the /api/open/v1)."""
    parts = route.strip("/").split("/")
    if method == "POST" and len(parts) == 3 and parts[0] == "projects" and parts[2] == "jobs":
        return "create", None
    if len(parts) < 2 or parts[0] != "jobs":
        return "other", None
    job_id, rest = parts[1], parts[2:]
    if method in ("GET", "HEAD"):
        if not rest:
            return "poll", job_id
        if rest == ["result"]:
            return "result", job_id
    elif method == "POST":
        if rest in (["files"], ["uploads"]) or (len(rest) == 3 and rest[2] == "content"):
            return "upload", job_id
        if rest == ["uploads", "complete"]:
            return "complete", job_id
        if rest in (["cancel"], ["resume"]):
            return rest[0], job_id
    return "other", job_id


def _job_of(value: Any) -> dict[str, Any] | None:
    """The job a workflow returned: a job, `{"job": ...}`, or a result document's `job`."""
    if not isinstance(value, dict):
        return None
    job = value.get("job", value)
    return job if isinstance(job, dict) and "status" in job else None


def _event_meta(body: bytes) -> tuple[str | None, str | None, str | None, int | None]:
    """(job id, status, previous status, sequence) a delivery's body claims (unverified)."""
    try:
        data = json.loads(body)["data"]
        job = data["job"]
        return (
            str(job.get("id")),
            str(job.get("status")),
            str(data.get("previousStatus")),
            int(data.get("sequence")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, None, None, None


class WorkflowRunner(KitRunner):
    """One in-process mock server that runs workflow examples one after another."""

    config_extra = {"webhook_timeout": 5.0}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.example: _Example | None = None
        self._tokens = 0

    # -- lifecycle ---------------------------------------------------------------------------

    def _install(self, app: web.Application) -> None:
        super()._install(app)
        app.router.add_post(RECEIVER_PATH, self._receive)

    # -- one example (caller's thread) -------------------------------------------------------

    def run(self, workflow: Workflow, plan: WorkflowPlan) -> dict[str, Any]:
        """Run the workflow against one plan; raise `ContractViolation` or return a summary."""
        ex = self.server.call(self._begin, plan)
        env = self._env(ex)
        ex.thread_id = threading.get_ident()
        outcome: tuple[str, Any]
        ex.running = True
        try:
            if inspect.iscoroutinefunction(workflow):
                result = asyncio.run(self._main(ex, workflow(env)))
            else:
                result = workflow(env)
            outcome = ("returned", result)
        except (_ClientStopped, asyncio.CancelledError):
            if ex.violation is None:
                raise
            outcome = ("stopped", None)
        except Exception as exc:
            outcome = ("raised", exc)
        finally:
            ex.running = False
            _clear_interrupt(ex.thread_id)
        summary: dict[str, Any] = self.server.run(self._end(ex, outcome[0]))
        self._judge(ex, outcome, summary)
        return summary

    @staticmethod
    async def _main(ex: _Example, workflow: Awaitable[Any]) -> Any:
        """An async workflow is stopped by cancelling its task (an exception thrown into the
        thread could land inside asyncio's own transport code)."""
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        ex.stop = lambda: loop.call_soon_threadsafe(task.cancel)
        return await workflow

    def _env(self, ex: _Example) -> WorkflowEnv:
        server = self.server
        engine = server.state.engine

        def sleep(seconds: float) -> None:
            """Virtual sleep: the mock's clock moves `seconds` forward (no wall time)."""
            s = float(seconds)
            if not s >= 0:
                raise ValueError(f"sleep length must be non-negative, got {seconds!r}")
            server.run(self._sleep(ex, s))
            if ex.violation is not None:
                raise _ClientStopped()

        async def asleep(seconds: float) -> None:
            sleep(seconds)

        def next_webhook(timeout: float) -> WebhookDelivery | None:
            """The next delivery to `webhook_url` (oldest first), or None after `timeout`."""
            t = float(timeout)
            if not t >= 0:
                raise ValueError(f"timeout must be non-negative, got {timeout!r}")
            arrival: _Arrival | None = server.run(self._next_webhook(ex, t))
            if ex.violation is not None:
                raise _ClientStopped()
            return arrival.delivery if arrival is not None else None

        async def anext_webhook(timeout: float) -> WebhookDelivery | None:
            return next_webhook(timeout)

        def monotonic() -> float:
            # time moves only while the workflow waits on the kit: a plain read is exact
            return engine.now - ex.t0

        return WorkflowEnv(
            base_url=server.base_url,
            api_key=CONTRACT_API_KEY,
            project_id=ex.project_id,
            files=ex.plan.file_data(),
            webhook_url=server.url + RECEIVER_PATH.format(token=ex.token),
            sleep=sleep,
            asleep=asleep,
            next_webhook=next_webhook,
            anext_webhook=anext_webhook,
            monotonic=monotonic,
        )

    # -- the server's thread -----------------------------------------------------------------

    def _begin(self, plan: WorkflowPlan) -> _Example:
        state = self.server.state
        state.reset()
        eng = state.engine
        project, _ = eng.create_project(CONTRACT_API_KEY, "check-workflow")
        if project.state != "ready":
            eng.force_project(project, "provision")
        eng.set_balance(CONTRACT_API_KEY, plan.owner.balance)
        eng.default_scenario = plan.scenario
        self._tokens += 1
        given = [(name, size) for name, size, _ in plan.files]
        ex = _Example(
            plan=plan, t0=eng.now, project_id=project.id, token=self._tokens, given=given
        )
        self.example = ex
        self._arm_webhook_fault(ex, 0)
        return ex

    async def _end(self, ex: _Example, outcome: str) -> dict[str, Any]:
        state = self.server.state
        if state.webhooks.pending:
            await state.webhooks.drain(timeout=5.5)
        if outcome == "raised":  # a webhook-only waiter giving up on a job long finished
            self._check_fallback(ex, giving_up=True)
        self.example = None
        job = state.engine.jobs.get(ex.job_id) if ex.job_id is not None else None
        deliveries = state.webhooks.deliveries(ex.job_id) if ex.job_id is not None else []
        return {
            "status": job.state if job is not None else None,
            "now": state.engine.now,
            "history": list(job.history) if job is not None else [],
            "deliveries": delivery_summary(deliveries),
            # the log is worded only for a report
            "webhook_log": lambda: self._webhook_log(ex, deliveries),
        }

    def _webhook_log(self, ex: _Example, deliveries: list[Any]) -> list[str]:
        rows: list[tuple[float, int, str]] = []
        for d in deliveries:
            faults = f"  [injected: {', '.join(d.faults)}]" if d.faults else ""
            sent = sum(1 for a in d.attempts if a.outcome != "dropped")
            rows.append(
                (
                    d.at,
                    0,
                    f"  {_rel(ex.rel(d.at))}  event #{d.sequence - 1} {d.previous_status} -> "
                    f"{d.status}: {d.state}, sent {sent}x{faults}",
                )
            )
        for a in ex.arrivals:
            what = (
                f"FORGED (bad signature), claims {a.status}"
                if a.forged
                else (f"{a.previous} -> {a.status} (sequence {a.sequence})")
            )
            if a.job_id != ex.job_id:
                what += f" of another job, {a.job_id}"
            taken = (
                f"taken at +{ex.rel(a.taken_at):.1f} s"
                if a.taken_at is not None
                else "never taken"
            )
            rows.append((a.at, 1, f"  {_rel(ex.rel(a.at))}  received {what}; {taken}"))
        return [line for _, _, line in sorted(rows, key=lambda r: (r[0], r[1]))]

    def _arm_webhook_fault(self, ex: _Example, event: int) -> None:
        """Register the plan's fault for the job's `event`-th webhook now: the dispatcher takes
        a fault when it queues an event, and event `event - 1` has just been queued."""
        arm_webhook_faults(self.server.state, ex.plan.webhook_faults, event)

    def _adopt(self, ex: _Example, job: Job) -> None:
        """The submission's job: the owner's timed actions count from its creation."""
        ex.job_id = job.id
        ex.status_since = (job.state, job.created_at)
        eng = self.server.state.engine
        # the workflow uploads; the owner only reacts to blocks and cancels
        ex.owner = Owner(eng, ex.plan, job.id, job.created_at, ex.schedule, uploads=False,
                         cancel_on=ex.plan.cancel_on)  # fmt: skip
        ex.owner.start()
        if ex.plan.forged is not None:
            ex.schedule(job.created_at + ex.plan.forged.at, "forge")

    def _on_transition(self, rec: TransitionRecord, obj: Job | Project) -> None:
        ex = self.example
        if ex is None or rec.kind != "job" or not isinstance(obj, Job):
            return
        if ex.job_id is None and obj.project_id == ex.project_id:
            self._adopt(ex, obj)  # it moved before its create was answered
        if rec.object_id != ex.job_id:
            return
        ex.status_since = (rec.dst, rec.at)
        self._arm_webhook_fault(ex, rec.sequence)
        if rec.dst in TERMINAL_STATUSES and ex.terminal is None:
            ex.terminal = (rec.dst, rec.at)
        if ex.owner is not None:
            ex.owner.on_transition(rec)

    def _run_actions(self, ex: _Example, t: float) -> None:
        while ex.actions and ex.actions[0][0] <= t + 1e-9:
            _, _, action = heapq.heappop(ex.actions)
            self._act(ex, action)

    def _act(self, ex: _Example, action: str) -> None:
        """The account owner's actions (and the forger's); a refusal (the job moved on) is not
        the workflow's business and is ignored."""
        job = self.server.state.engine.jobs.get(ex.job_id) if ex.job_id is not None else None
        if job is None:
            return
        if action == "forge":
            self._forge(ex, job)
        elif ex.owner is not None:
            ex.owner.act(action)

    def _forge(self, ex: _Example, job: Job) -> None:
        """A delivery no Plangrep sent: the job claims a status it has not reached, signed
        with a key that is not the job's (an attacker who knows the URL, not the secret)."""
        forged = ex.plan.forged
        assert forged is not None
        if job.state in TERMINAL_STATUSES or job.state == forged.claims:
            return
        now = self.server.state.engine.now
        headers, body = forged_delivery(
            self.server.state, job, forged.claims, len(job.history) + 1
        )
        arrival = _Arrival(
            WebhookDelivery(headers, body),
            now,
            job.id,
            forged.claims,
            job.state,
            len(job.history) + 1,
            forged=True,
        )
        ex.inbox.append(arrival)
        ex.arrivals.append(arrival)
        ex.injected.append((now, "webhook", forged.describe()))

    async def _receive(self, request: web.Request) -> web.Response:
        """The kit's webhook receiver: every delivery goes to the example's inbox, as sent."""
        body = await request.read()
        ex = self.example
        if ex is not None and request.match_info["token"] == str(ex.token):
            headers = {k.lower(): v for k, v in request.headers.items()}
            job_id, status, previous, sequence = _event_meta(body)
            arrival = _Arrival(
                WebhookDelivery(headers, body),
                self.server.state.engine.now,
                job_id,
                status,
                previous,
                sequence,
            )
            ex.inbox.append(arrival)
            ex.arrivals.append(arrival)
        return web.Response(status=204)

    # -- virtual time --------------------------------------------------------------------------

    async def _advance(self, ex: _Example, target: float, *, until_delivery: bool = False) -> None:
        """Advance to `target`, stopping at every due engine event and owner action, letting
        the webhooks of each step arrive before the next (with `until_delivery`, stop once one
        is in the inbox)."""
        state = self.server.state
        while True:
            t = self._step(ex.actions, target)
            self._run_actions(ex, t)
            if state.webhooks.pending:
                await state.webhooks.drain(timeout=5.5)
            self._check_fallback(ex)
            if ex.violation is not None or t >= target or (until_delivery and ex.inbox):
                return

    async def _wait(self, ex: _Example, seconds: float) -> None:
        """`ApiCall.wait` in the kit: a slow answer takes virtual time."""
        await self._advance(ex, self.server.state.engine.now + seconds)

    async def _sleep(self, ex: _Example, seconds: float) -> None:
        state = self.server.state
        eng = state.engine
        ex.since_sleep = 0
        ex.sleeps += 1
        if state.webhooks.pending:
            await state.webhooks.drain(timeout=5.5)
        elapsed = ex.rel(eng.now)
        if elapsed + seconds > self.max_wait + EPS:
            await self._advance(ex, ex.t0 + self.max_wait)
            self._waited_too_long(ex, f"it asked to sleep {seconds:g} s at +{elapsed:.1f} s")
            return
        await self._advance(ex, eng.now + seconds)

    async def _next_webhook(self, ex: _Example, timeout: float) -> _Arrival | None:
        state = self.server.state
        eng = state.engine
        ex.since_sleep = 0
        ex.webhook_waits += 1
        if state.webhooks.pending:
            await state.webhooks.drain(timeout=5.5)
        start = eng.now
        limit = ex.t0 + self.max_wait
        if not ex.inbox and timeout > 0:
            await self._advance(ex, min(start + timeout, limit), until_delivery=True)
        if ex.violation is not None:
            return None
        if ex.inbox:
            ex.idle_waits = 0
            arrival = ex.inbox.popleft()
            self._taken(ex, arrival)
            return arrival
        if start + timeout > limit + EPS:
            self._waited_too_long(
                ex, f"it waited for a webhook for up to {timeout:g} s at +{ex.rel(start):.1f} s"
            )
            return None
        ex.idle_waits = ex.idle_waits + 1 if timeout == 0 else 0
        if ex.idle_waits > MAX_IDLE_WEBHOOK_WAITS:
            self._violate(
                ex,
                "unbounded",
                f"the workflow called next_webhook {ex.idle_waits} times in a row without "
                "any time passing (a timeout of 0 in a loop?); virtual time moves only through "
                "env.sleep and env.next_webhook's timeout",
            )
        return None

    def _taken(self, ex: _Example, arrival: _Arrival) -> None:
        arrival.taken_at = self.server.state.engine.now
        if arrival.forged:
            ex.forged_claim = arrival.status
            return
        ex.forged_claim = None
        if (
            arrival.job_id == ex.job_id
            and ex.terminal is not None
            and arrival.status == ex.terminal[0]
        ):
            ex.terminal_known = True

    def _check_fallback(self, ex: _Example, *, giving_up: bool = False) -> None:
        """A workflow waiting on webhooks alone, long after its job ended without it learning
        (or giving up then)."""
        if ex.terminal is None or ex.terminal_known or ex.webhook_waits == 0:
            return
        status, at = ex.terminal
        now = self.server.state.engine.now
        if now - at < FALLBACK_WINDOW - EPS:
            return
        doing = "gave up" if giving_up else "had"
        self._violate(
            ex,
            "no_polling_fallback",
            f"the job reached {status} at +{ex.rel(at):.1f} s; {self._why_not_told(ex)}; "
            f"{now - at:.0f} s later the workflow {doing} neither polled the job nor taken a "
            "webhook announcing it: it waits on webhooks alone. Plangrep: failed deliveries "
            "may not be retried, so poll as a fallback",
            self._terminal_fault(ex),
        )

    def _why_not_told(self, ex: _Example) -> str:
        job = self.server.state.engine.jobs.get(ex.job_id or "")
        if job is not None and not job.webhook_url:
            return "the workflow's create gave no webhookUrl, so no webhook announced it"
        status = ex.terminal[0] if ex.terminal else ""
        for a in ex.arrivals:
            if not a.forged and a.status == status:
                return (
                    f"the webhook announcing it reached webhook_url at +{ex.rel(a.at):.1f} s "
                    "but the workflow did not take it"
                )
        return "the webhook announcing it never arrived"

    def _terminal_fault(self, ex: _Example) -> str:
        status = ex.terminal[0] if ex.terminal else ""
        for d in self.server.state.webhooks.deliveries(ex.job_id or ""):
            if d.status == status and d.faults:
                return f"webhook event #{d.sequence - 1} ({status}): {', '.join(d.faults)}"
        return "no fault: the workflow never looked for the terminal status by other means"

    def _waited_too_long(self, ex: _Example, doing: str) -> None:
        self._check_fallback(ex)
        if ex.violation is not None:
            return
        status, since = ex.status_since
        self._violate(
            ex,
            "unbounded",
            f"the workflow was still waiting after {self.max_wait:g} s ({doing}); the job has "
            f"been {status or 'not created'} since +{ex.rel(since):.1f} s. A workflow must give "
            f"up with an error within a bound (check_workflow's max_wait is {self.max_wait:g} s)",
        )

    # -- the public API, as the workflow calls it ----------------------------------------------

    async def _intercept(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        ex = self.example
        if ex is None or ex.violation is not None or not request.path.startswith(PUBLIC_PREFIX):
            return await handler(request)
        state = self.server.state
        eng = state.engine
        self._run_actions(ex, eng.now)  # what the owner does at this very instant comes first
        arrival = eng.now
        method, path = request.method, request.path
        kind, job_id = _call_kind(method, path[len(PUBLIC_PREFIX) :])
        mine = job_id is not None and job_id == ex.job_id
        ex.since_sleep += 1
        self._judge_arrival(ex, request, kind, mine, arrival)
        nth = ex.counts[kind]
        ex.counts[kind] += 1
        fault = ex.plan.fault_for(kind, nth)
        if fault is not None:
            ex.injected.append((arrival, call_key(method, path), f"{kind} #{nth}: {fault.what()}"))
        response, real = await answer_with_fault(
            request, handler, fault, "check_workflow", lambda s: self._wait(ex, s)
        )
        lost = fault is not None and fault.mode == LOST_RESPONSE
        seen_status = 0 if lost and fault is not None and fault.status is None else response.status
        served = None if lost else _served_status(response)
        self._after(ex, request, kind, mine, arrival, response, real, lost, fault)
        ex.requests.append(
            _Request(
                ex.rel(arrival),
                method,
                path,
                seen_status,
                served,
                fault.what() if fault is not None else None,
                real.status if lost and real is not None else None,
            )
        )
        if ex.violation is None:
            if ex.since_sleep > MAX_REQUESTS_WITHOUT_SLEEP:
                self._violate(
                    ex,
                    "unbounded",
                    f"the workflow made {ex.since_sleep} requests without calling env.sleep or "
                    "env.next_webhook; virtual time moves only through them, so nothing can "
                    "change (does it call time.sleep instead?)",
                )
            elif len(ex.requests) > self.max_requests:
                self._violate(
                    ex,
                    "unbounded",
                    f"the workflow made more than {self.max_requests} requests for one job",
                )
        return response

    def _judge_arrival(
        self, ex: _Example, request: web.Request, kind: str, mine: bool, at: float
    ) -> None:
        """Judge one request as it arrives with the rule registry's functions."""
        method, path = request.method, request.path
        call = call_key(method, path)
        found = judge_retry_after(ex.retries, method, path, at)
        if found is not None:
            f = found.facts
            self._violate(
                ex,
                found.rule,
                f"{call} was sent again {f['gap']:.1f} s after an answer (at "
                f"+{ex.rel(f['answeredAt']):.1f} s) that asked it to wait "
                f"{f['retryAfter']:g} s (Retry-After)",
                self._fault_on(ex, call),
            )
            return
        run = ex.runs.get(call)
        if run is not None:
            found = judge_retry_storm(run, at)
            if found is not None:
                f = found.facts
                how = (
                    f"{f['quick']} retries in a row each sooner than 1 s after the failure "
                    "(no back-off)"
                    if f["quick"] >= 3
                    else f"attempt {f['attempt']} in a row at one call"
                )
                self._violate(
                    ex,
                    found.rule,
                    f"{call} failed {run.attempts} times in a row and was sent again "
                    f"{f['pause']:.1f} s after the last failure: {how}",
                    self._fault_on(ex, call),
                )
                return
        if not mine:
            return
        job = self.server.state.engine.jobs.get(ex.job_id or "")
        if job is None:
            return
        status = job.state
        finding: Finding | None = None
        if kind == "poll":
            findings = judge_poll(ex.seen, at)
            finding = findings[0] if findings else None
        elif kind == "result":
            if ex.forged_claim in RESULT_STATUSES and status not in RESULT_STATUSES:
                finding = Finding("forged_webhook_trusted", {"action": "fetched the result of"})
            else:
                finding = judge_result(status)
        elif kind in ("resume", "cancel"):
            if ex.forged_claim == BLOCKED and status != BLOCKED:
                finding = Finding("forged_webhook_trusted", {"action": f"{kind}d"})
            else:
                finding = (judge_resume if kind == "resume" else judge_cancel)(ex.seen, status)
        elif kind == "complete":
            finding = judge_complete(ex.seen, request.headers.get("Idempotency-Key"))
            if finding is None and status in UPLOAD_WINDOW:
                stored = [(f.file_name, f.size) for f in job.files if f.status == "uploaded"]
                finding = judge_uploads(ex.given, stored)
        if finding is not None:
            self._word(ex, finding, kind, status, at)

    def _word(self, ex: _Example, finding: Finding, kind: str, status: str, at: float) -> None:
        """A finding about the submission's job, in words relative to the example's start."""
        f, job_id, when = finding.facts, ex.job_id, f"+{ex.rel(at):.1f} s"
        exposed: str | None = None
        if finding.rule == "poll_after_terminal":
            message = (
                f"{job_id} was polled again at {when} after it had been served the terminal "
                f"status {f['served']} at +{ex.rel(f['servedAt']):.1f} s; Plangrep asks "
                "clients to stop polling at the first terminal status"
            )
        elif finding.rule == "polling_too_fast":
            why = (
                f"the previous answer asked it to wait (Retry-After: {f['retryAfter']:g} s)"
                if f["retryAfter"] > f["interval"]
                else "Plangrep asks for at least 5 s between polls"
            )
            message = (
                f"{job_id} was polled twice within {f['gap']:.1f} s (at "
                f"+{ex.rel(f['lastPoll']):.1f} s and {when}); {why}"
            )
        elif finding.rule == "resume_not_blocked":
            message = (
                f"the workflow resumed {job_id} at {when} while it was {status}, and the last "
                f"status it had been shown was {f['lastShown'] or 'none'}; resume applies only "
                f"to a job in {BLOCKED}"
            )
        elif finding.rule == "cancel_not_cancellable":
            message = (
                f"the workflow cancelled {job_id} at {when} after it had been served the "
                f"terminal status {f['served']}; a terminal job cannot be cancelled"
            )
        elif finding.rule == "forged_webhook_trusted":
            message = (
                f"the workflow {f['action']} {job_id} at {when} while it was {status}, right "
                f"after it took a delivery claiming {ex.forged_claim} whose signature does not "
                "verify with the job's webhookSigningSecret; verify every delivery before "
                "acting on it"
            )
            exposed = self._forged_fault(ex)
        elif finding.rule == "result_not_available":
            message = (
                f"the workflow asked for the result of {job_id} at {when} while it was "
                f"{status}; a result exists only once a poll (or a verified webhook) shows "
                "completed or completed_with_errors"
            )
        elif finding.rule == "complete_repeated":
            first = f"with Idempotency-Key {f['firstKey']!r}" if f["firstKey"] else "without a key"
            again = f"with Idempotency-Key {f['key']!r}" if f["key"] else "without a key"
            message = (
                f"the workflow completed {job_id}'s uploads again at {when} {again}; its "
                f"complete at +{ex.rel(f['completedAt']):.1f} s ({first}) had been accepted. "
                "Retry a complete whose answer was lost with the same Idempotency-Key"
            )
            exposed = self._fault_on_kind(ex, "complete")
        else:  # upload_incomplete
            parts = []
            if f["missing"]:
                parts.append("never stored: " + ", ".join(f"{n} ({s} B)" for n, s in f["missing"]))
            if f["twice"]:
                parts.append("stored twice: " + ", ".join(f"{n} ({s} B)" for n, s in f["twice"]))
            message = (
                f"the workflow completed {job_id}'s uploads at {when}, but of the "
                f"{len(ex.given)} file(s) it was given, {'; '.join(parts)}. Upload every file "
                "once (retry a form upload with the same clientUploadFlowId) before completing"
            )
            exposed = self._fault_on_kind(ex, "upload")
        self._violate(ex, finding.rule, message, exposed)

    def _after(
        self,
        ex: _Example,
        request: web.Request,
        kind: str,
        mine: bool,
        at: float,
        response: web.StreamResponse,
        real: web.StreamResponse | None,
        lost: bool,
        fault: ApiFault | None,
    ) -> None:
        """What the answer told the workflow (nothing, if it was lost), and what it made."""
        eng = self.server.state.engine
        method, path = request.method, request.path
        call = call_key(method, path)
        self._new_jobs(ex, at, lost)
        if kind == "create" and not lost and ex.creates.lost:
            replayed = _answer_job_id(response)
            if replayed is not None:
                ex.creates.answered(replayed)
        served = None if lost else _served_status(response)
        if served is not None:
            ex.forged_claim = None
        if mine and kind == "poll" and not lost:
            # a lost GET was never run by the server (faults/table.py): it is no poll there,
            # nor here (aiohttp sends a GET again at once when its connection drops)
            ex.seen.polled(at, status=served, retry_after=_retry_after(response))
            if served is not None and ex.terminal is not None and served == ex.terminal[0]:
                ex.terminal_known = True
        elif mine and kind in ("cancel", "resume"):
            shown = served or (None if lost else _current_status(response))
            if shown is not None:
                ex.seen.shown(shown)
        elif mine and kind == "complete" and real is not None and real.status == 202:
            if not _idempotent(real):
                ex.seen.completed(at, request.headers.get("Idempotency-Key"))
        elif mine and kind == "result" and not lost and response.status == 200:
            body = getattr(response, "body", None)
            if isinstance(body, bytes | bytearray):
                ex.results.append(json.loads(body))
        if not is_poll(method, path):
            ex.retries.answered(call, at, 0.0 if lost else _retry_after(response))
        failed = lost or response.status == 429 or response.status >= 500
        if failed:
            run = ex.runs.setdefault(call, FailureRun())
            run.failed(eng.now)
            ex.last_run = run.attempts
        else:
            ex.runs.pop(call, None)
            ex.last_run = 0

    def _new_jobs(self, ex: _Example, at: float, lost: bool) -> None:
        """Jobs this request made: the submission's, or a second one (`duplicate_job`)."""
        eng = self.server.state.engine
        jobs = eng.projects[ex.project_id].jobs
        while ex.jobs_known < len(jobs):
            job = jobs[ex.jobs_known]
            ex.jobs_known += 1
            what = create_fingerprint(job.external_id, job.webhook_url)
            if ex.job_id is None:
                self._adopt(ex, job)
            elif job.id != ex.job_id:
                found = judge_create(ex.creates, at, what)
                first = eng.jobs.get(ex.job_id)
                made = f"+{ex.rel(first.created_at):.1f} s" if first is not None else "before"
                why = (
                    "its create repeats one whose answer was lost; retry a create with the "
                    "same Idempotency-Key, so the replay returns the job already made"
                    if found is not None
                    else "one submission must create one job (a retry with the same "
                    "Idempotency-Key returns the job already made)"
                )
                self._violate(
                    ex,
                    "duplicate_job",
                    f"the workflow created a second job, {job.id}, at +{ex.rel(at):.1f} s; "
                    f"{ex.job_id} was made at {made}: {why}. Two jobs are two bills",
                    self._fault_on_kind(ex, "create"),
                )
            if lost:
                ex.creates.answer_lost(job.id, job.created_at, what)

    # -- the fault that exposed it -------------------------------------------------------------

    def _fault_on(self, ex: _Example, call: str) -> str:
        return fault_on(ex.injected, call, ex.plan.path)

    def _fault_on_kind(self, ex: _Example, kind: str) -> str:
        return fault_on_kind(ex.injected, kind, ex.plan.path)

    def _forged_fault(self, ex: _Example) -> str:
        return ex.plan.forged.describe() if ex.plan.forged else self._last_fault(ex)

    def _last_fault(self, ex: _Example) -> str:
        return last_fault(ex.injected, ex.plan.path)

    def _violate(self, ex: _Example, rule: str, message: str, exposed: str | None = None) -> None:
        if ex.violation is not None:
            return
        ex.violation = (rule, message, exposed or self._last_fault(ex))
        if ex.running and ex.stop is not None:
            ex.stop()  # an async workflow: its task is cancelled at its next await
        elif ex.running and ex.thread_id:
            _interrupt(ex.thread_id)  # the workflow stops at its next bytecode

    # -- verdict (caller's thread) -------------------------------------------------------------

    def _judge(self, ex: _Example, outcome: tuple[str, Any], summary: dict[str, Any]) -> None:
        status: str | None = summary["status"]
        waited = ex.rel(summary["now"])
        if ex.violation is not None:
            raise self._violation(ex, *ex.violation, summary)
        kind, value = outcome
        if kind == "stopped":  # stopped without a recorded violation: cannot happen
            raise AssertionError("check_workflow stopped a workflow without a violation")
        if kind == "raised":
            self._judge_raise(ex, value, status, waited, summary)
            return
        got = _job_of(value)
        claim = ex.forged_claim
        if claim is not None and got is not None and got.get("status") == claim != status:
            raise self._violation(
                ex,
                "forged_webhook_trusted",
                f"the workflow returned {ex.job_id} as {claim}, what a delivery whose "
                f"signature does not verify claimed; the job is {status}. Verify every delivery "
                "with the job's webhookSigningSecret before acting on it",
                self._forged_fault(ex),
                summary,
            )
        problem: str | None
        if ex.job_id is None or status is None:
            problem = "without creating a job"
        elif status not in TERMINAL_STATUSES:
            problem = (
                f"while {ex.job_id} is still {status} (not terminal): keep waiting through every "
                "non-terminal status"
            )
        elif status in RESULT_STATUSES:
            problem = (
                None
                if any(value == r for r in ex.results)
                else f"but {ex.job_id} ended {status}: return its result document (GET "
                "/jobs/{jobId}/result), exactly as served"
                + ("" if ex.results else "; the workflow never fetched it")
            )
        elif got is None or got.get("status") != status or got.get("id", ex.job_id) != ex.job_id:
            problem = (
                f"but the job the server reached is {ex.job_id} with status {status}: return "
                "that terminal job"
            )
        else:
            problem = None
        if problem is not None:
            raise self._violation(
                ex,
                "wrong_result",
                f"after {waited:.1f} s the workflow returned {_short(value)} {problem}",
                None,
                summary,
            )
        summary["outcome"] = f"returned {status}"

    def _judge_raise(
        self,
        ex: _Example,
        exc: BaseException,
        status: str | None,
        waited: float,
        summary: dict[str, Any],
    ) -> None:
        if waited >= self.patience - EPS:
            summary["outcome"] = "gave up"
            return
        if ex.last_run >= OUTAGE_FAILURES:
            summary["outcome"] = "gave up (outage)"
            return
        raise self._violation(
            ex,
            "wrong_result",
            f"the workflow raised {type(exc).__name__}: {exc} after {waited:.1f} s, while the "
            f"job was {status or 'not created'}; it must return the result (or the terminal "
            f"job), or give up only after waiting at least {self.patience:g} s or after "
            f"{OUTAGE_FAILURES} failed attempts in a row at one call",
            None,
            summary,
        )

    def _violation(
        self, ex: _Example, rule: str, message: str, exposed: str | None, summary: dict[str, Any]
    ) -> ContractViolation:
        lines = [
            f"check_workflow: the workflow broke rule {rule!r}: {RULES[rule].text}",
            f"  {message}",
            f"exposed by: {exposed or self._last_fault(ex)}",
            "the server's behaviour (shrunk by hypothesis):",
            *(f"  {line}" for line in ex.plan.describe().splitlines()),
            "the job's history (virtual seconds since the workflow was called):",
        ]
        for rec in summary["history"]:
            lines.append(f"  {_rel(ex.rel(rec.at))}  {rec.src} --{rec.event}--> {rec.dst}")
        lines.append(f"the workflow's requests ({len(ex.requests)}):")
        request_lines = [r.line() for r in ex.requests]
        if len(request_lines) > 40:
            skipped = len(request_lines) - 40
            request_lines = [f"  ... {skipped} earlier request(s)", *request_lines[-40:]]
        lines.extend(request_lines)
        webhook_lines: list[str] = summary["webhook_log"]()
        lines.append(f"the webhooks ({len(webhook_lines)} line(s)):")
        lines.extend(webhook_lines[-40:] or ["  (none: the job had no webhookUrl)"])
        lines.append(
            f"(virtual start {format_time(ex.t0)}; the workflow slept {ex.sleeps} times and "
            f"waited for webhooks {ex.webhook_waits} times)"
        )
        if self.seed is not None:
            lines.append(
                f"replay: check_workflow(workflow, seed={self.seed}) repeats this search; "
                "replay_workflow(workflow, exc.plan) repeats this example"
            )
        else:
            lines.append("replay: replay_workflow(workflow, exc.plan) repeats this example")
        return ContractViolation(
            "\n".join(lines),
            rule=rule,
            job_id=ex.job_id,
            scenario=ex.plan.scenario.name,
            requests=request_lines,
            seed=self.seed,
            plan=ex.plan,
            fault=exposed or self._last_fault(ex),
            webhooks=webhook_lines,
        )


def _answer_job_id(response: web.StreamResponse) -> str | None:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes | bytearray):
        return None
    try:
        job_id = json.loads(body)["job"]["id"]
    except (ValueError, KeyError, TypeError):
        return None
    return job_id if isinstance(job_id, str) else None


def _idempotent(response: web.StreamResponse) -> bool:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes | bytearray):
        return False
    try:
        return bool(json.loads(body).get("idempotent"))
    except (ValueError, AttributeError):
        return False


def _short(value: Any) -> str:
    job = _job_of(value)
    if isinstance(value, dict) and "schemaVersion" in value and job is not None:
        return f"a result document of {job.get('id')} ({job.get('status')})"
    if job is not None:
        return f"job {job.get('id')} ({job.get('status')})"
    return f"{value!r:.120}"


# --------------------------------------------------------------------------- entry points


def check_workflow(
    workflow: Workflow,
    *,
    max_examples: int = 100,
    seed: int | None = None,
    faults: bool = True,
    patience: float = 600.0,
    max_wait: float = 3600.0,
    paths: tuple[str, ...] = WORKFLOW_PATHS,
) -> WorkflowReport:
    """Search for a server behaviour under which `workflow` breaks Plangrep's contract.

    `workflow(env) -> dict` submits `env.files` as one job of `env.project_id`, waits, and
    returns the result document of a completed or completed_with_errors job, else the terminal
    job (see `WorkflowEnv`). Raises `ContractViolation` (an AssertionError) naming the rule, the
    fault that exposed it, the shrunk scenario and fault plan, the request and webhook logs and
    a replay seed; returns a `WorkflowReport` when no example broke a rule. `faults`: lost
    answers, 5xx/429 with and without Retry-After, slow answers, dropped / duplicated / delayed /
    reordered webhooks and forged deliveries. `patience`: the workflow may give up with an error
    after waiting this long (or after an outage of 5 failed attempts in a row at one call);
    `max_wait`: it must have given up by then.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    report = WorkflowReport(seed=seed)
    strategy = workflow_plans(faults=faults, paths=paths)
    with WorkflowRunner(patience=patience, max_wait=max_wait, seed=seed) as runner:

        def each(plan: WorkflowPlan) -> None:
            summary = runner.run(workflow, plan)
            report.examples += 1
            report.paths[plan.path] += 1
            report.outcomes[summary.get("outcome", "?")] += 1
            report.coverage.add_job_history(summary["history"])
            for delivery in summary["deliveries"]:
                report.coverage.add_delivery(delivery)
            for f in plan.api_faults:
                report.faults[f.mode] += 1
            for w in plan.webhook_faults:
                report.faults[f"webhook {w.mode}"] += 1
            if plan.forged is not None:
                report.faults["forged delivery"] += 1

        canonical = canonical_workflow_plans(paths, faults=faults)
        report.seconds = run_search(
            strategy, canonical, each, max_examples=max_examples, seed=seed
        )
    return report


def replay_workflow(
    workflow: Workflow,
    plan: WorkflowPlan,
    *,
    patience: float = 600.0,
    max_wait: float = 3600.0,
) -> dict[str, Any]:
    """Run one plan (e.g. `ContractViolation.plan`) again; raises `ContractViolation` or returns
    `{"status", "outcome", ...}`."""
    with WorkflowRunner(patience=patience, max_wait=max_wait) as runner:
        return runner.run(workflow, plan)


@contextlib.contextmanager
def workflow_runner(**kwargs: Any) -> Iterator[WorkflowRunner]:
    """A started `WorkflowRunner` for your own hypothesis properties (`runner.run(workflow,
    plan)` per example)."""
    with WorkflowRunner(**kwargs) as runner:
        yield runner
