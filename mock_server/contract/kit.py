"""What the checkers share: hypothesis's settings and the search over canonical then drawn
plans, the in-process server a runner drives, a call answered through the fault table, an
example's timeline of owner actions, a run's rate, and the delivery summary that coverage
counts.

`check_client`, `check_workflow`, `plangrep-mock check` and `check_receiver` each search with
their own strategy and judge with the rule registry; this module holds only the plumbing that
would otherwise be written four times.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy

from statemachine import format_time
from statemachine.engine import Job, Project, TransitionRecord

from ..config import MockConfig
from ..faults import FAULT_MODES, ApiCall, FaultHit
from ..public.serialize import job_json
from ..testing import MockServerThread
from ..webhooks.dispatcher import EVENT_TYPE
from ..webhooks.signing import new_message_id, new_secret, serialize_body, signature_headers
from .workflow_strategies import ApiFault, WebhookFault

ORIGIN = 1_730_538_000.0  # 2024-11-02T09:00:00.000Z: stable reports

P = TypeVar("P")

if TYPE_CHECKING:
    from ..state import MockState


def search_settings(max_examples: int, *, shrink: bool) -> settings:
    """Hypothesis's settings for a checker's search: no deadline, no database, every health
    check off (a checker's examples are slow by design), quiet. With `shrink` the explicit
    (canonical) examples run first and a failing one is shrunk; without it the examples are
    only drawn."""
    phases = (Phase.explicit, Phase.generate, Phase.shrink) if shrink else (Phase.generate,)
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
        phases=phases,
        verbosity=Verbosity.quiet,
        print_blob=False,
    )


def run_search(
    strategy: SearchStrategy[P],
    canonical: Sequence[P],
    each: Callable[[P], None],
    *,
    max_examples: int,
    seed: int,
) -> float:
    """Run `each` on every canonical plan first (explicit examples, in order), then on
    `max_examples` drawn ones; a failing plan is shrunk and its error raised. Returns the wall
    seconds of the search."""

    @hypothesis_seed(seed)
    @search_settings(max_examples, shrink=True)
    @given(plan=strategy)
    def search(plan: P) -> None:
        each(plan)

    for plan in reversed(canonical):
        search = example(plan=plan)(search)
    started = time.perf_counter()
    search()
    return time.perf_counter() - started


async def answer_with_fault(
    request: web.Request,
    handler: Handler,
    fault: ApiFault | None,
    source: str,
    wait: Callable[[float], Awaitable[None]],
) -> tuple[web.StreamResponse, web.StreamResponse | None]:
    """Answer `request` with `handler`, or through `fault`'s row of the server's fault table
    (`source` names the checker in the server's fault log; `wait` spends a slow answer's
    virtual seconds). Returns the answer the client gets and the handler's own answer when it
    ran: a lost answer commits first, so the two differ."""
    committed: list[web.StreamResponse] = []

    async def proceed() -> web.StreamResponse:
        answer = await handler(request)
        committed.append(answer)
        return answer

    if fault is None:
        response = await proceed()
    else:
        hit = FaultHit(fault.mode, fault.seconds, source, fault.status, fault.retry_after)
        response = await FAULT_MODES[fault.mode].apply(ApiCall(request, proceed, wait), hit)
    return response, committed[0] if committed else None


def forged_delivery(
    state: MockState, job: Job, claims: str, sequence: int
) -> tuple[dict[str, str], bytes]:
    """A delivery no Plangrep sent: `job` claiming status `claims` as event `sequence`, signed
    with a fresh key that is not the job's (an attacker who knows the URL, not the secret).
    Returns its headers and body."""
    now = state.engine.now
    payload = {
        "type": EVENT_TYPE,
        "timestamp": format_time(now),
        "data": {
            "job": job_json(state, job, status=claims),
            "previousStatus": job.state,
            "sequence": sequence,
        },
    }
    body = serialize_body(payload)
    headers = {
        "content-type": "application/json",
        **signature_headers(new_secret(), new_message_id(), int(time.time()), body),
    }
    return headers, body


def arm_webhook_faults(state: MockState, faults: Iterable[WebhookFault], event: int) -> None:
    """Register the plan's faults for the job's `event`-th webhook now: the dispatcher takes a
    fault when it queues an event, so call this as event `event - 1` has just been queued."""
    for f in faults:
        if f.event == event:
            body: dict[str, Any] = {"target": "webhooks", "mode": f.mode}
            if f.mode == "delay" and f.seconds is not None:
                body["seconds"] = f.seconds
            state.faults.add(body)


Injected = list[tuple[float, str, str]]  # (virtual time, call key, what was injected)


def last_fault(injected: Injected, path: str) -> str:
    """The fault that exposed a violation, when none is tied to the call: the last one."""
    if injected:
        return injected[-1][2] + " (the last fault injected before it)"
    return f"no fault: the server's behaviour alone (path {path})"


def fault_on(injected: Injected, call: str, path: str) -> str:
    """The faults injected on `call` (its last three), else the last fault."""
    found = [what for _, c, what in injected if c == call]
    return "; ".join(found[-3:]) if found else last_fault(injected, path)


def fault_on_kind(injected: Injected, kind: str, path: str) -> str:
    """The last fault injected on a call of `kind`, else the last fault."""
    found = [what for _, _, what in injected if what.startswith(f"{kind} #")]
    return found[-1] if found else last_fault(injected, path)


def delivery_summary(deliveries: Iterable[Any]) -> list[dict[str, Any]]:
    """The deliveries of a job as `MachineCoverage.add_delivery` counts them (plain values:
    `as_json` would format every timestamp of every example)."""
    return [
        {
            "state": d.state,
            "attempts": [
                {
                    "outcome": a.outcome,
                    "httpStatus": a.http_status,
                    "error": a.error,
                    "kind": a.kind,
                }
                for a in d.attempts
            ],
        }
        for d in deliveries
    ]


class Timeline:
    """An example's clock origin and its queue of owner actions (`(at, seq, action)`, due
    first). Mixed into an example dataclass that has the fields `t0`, `seq` and `actions`."""

    t0: float
    seq: int
    actions: list[tuple[float, int, str]]

    def rel(self, t: float) -> float:
        return t - self.t0

    def schedule(self, at: float, action: str) -> None:
        self.seq += 1
        heapq.heappush(self.actions, (at, self.seq, action))


class Rate:
    """A run's examples per wall second. Mixed into a report dataclass with `examples` and
    `seconds`."""

    __slots__ = ()
    examples: int
    seconds: float

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds else 0.0


class KitRunner:
    """One in-process mock server on a manual clock that runs examples one after another: its
    outermost middleware hands every request to `_intercept`, and every transition reaches
    `_on_transition`. A context manager: the server runs between enter and exit."""

    # MockConfig fields a runner sets beyond the shared ones
    config_extra: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        *,
        patience: float = 600.0,
        max_wait: float = 3600.0,
        max_requests: int = 2000,
        seed: int | None = None,
    ) -> None:
        if not 0 <= patience <= max_wait:
            raise ValueError(f"need 0 <= patience ({patience}) <= max_wait ({max_wait})")
        self.patience = patience
        self.max_wait = max_wait
        self.max_requests = max_requests
        self.seed = seed
        config = MockConfig(
            clock="manual",
            port=0,
            polling="off",
            clock_origin=ORIGIN,
            seed=0,
            journal_size=100,
            **self.config_extra,
        )
        self.server = MockServerThread(config, prepare=self._install)

    def _install(self, app: web.Application) -> None:
        runner = self

        @web.middleware
        async def contract_kit(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await runner._intercept(request, handler)

        app.middlewares.insert(0, contract_kit)  # outermost: it sees every public request

    def __enter__(self) -> Self:
        self.server.start()
        self.server.call(self.server.state.subscribe, self._on_transition)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.stop()

    def _step(self, actions: list[tuple[float, int, str]], target: float) -> float:
        """One step of virtual time towards `target`: to the earliest of it, the next due
        engine event and the next owner action, firing what is due there. Returns the time
        reached; the caller runs the owner's actions due then, and steps again until it is
        `target`."""
        eng = self.server.state.engine
        t = target
        due = eng.next_due()
        if due is not None and due < t:
            t = due
        if actions and actions[0][0] < t:
            t = actions[0][0]
        if t > eng.now:
            eng.advance(t - eng.now)
        due = eng.next_due()
        if due is not None and due <= t:
            eng.run_until(t)  # float rounding of the clock: fire what is due at t
        return t

    async def _intercept(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raise NotImplementedError

    def _on_transition(self, rec: TransitionRecord, obj: Job | Project) -> None:
        raise NotImplementedError
