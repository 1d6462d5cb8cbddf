"""Hypothesis strategies for `check_workflow`: the server's behaviour during one whole submission.

A `WorkflowPlan` is a `check_client` plan (the branch of the job machine it aims at, the job's
scenario, the account owner's actions) plus what a whole submission meets: the files it is given,
transient faults on its API calls (a lost answer after the server committed, 5xx and 429 with or
without Retry-After, slow answers), faults on the job's webhook deliveries (dropped, duplicated,
delayed, reordered) and a forged delivery claiming a status the job has not reached. API faults
target a call by kind and attempt ("the first create", "the second upload"), so they hit what
they mean whatever else the workflow does; hypothesis shrinks them away first.

    @given(plan=workflow_plans(faults=True))
    def test_my_workflow(plan): replay_workflow(my_workflow, plan)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from hypothesis import strategies as st

from statemachine import Scenario, estimate_pages

from .strategies import PATHS, OwnerPlan, _build, _Pick, describe_scenario

__all__ = [
    "API_FAULT_MODES",
    "CALLS",
    "FORGED_CLAIMS",
    "WEBHOOK_FAULT_MODES",
    "WORKFLOW_PATHS",
    "ApiFault",
    "ForgedDelivery",
    "WebhookFault",
    "WorkflowPlan",
    "canonical_workflow_plans",
    "workflow_fault_plans",
    "workflow_plans",
]

# every branch of the job machine; the upload window's are reached through the workflow's own
# uploads (the owner cancels as the window opens or as the first file lands; an upload or a
# complete slower than the job's TTL lets it expire)
WORKFLOW_PATHS: tuple[str, ...] = PATHS
Call = Literal["create", "upload", "complete", "poll", "result"]
CALLS: tuple[str, ...] = ("create", "upload", "complete", "poll", "result")
API_FAULT_MODES: tuple[str, ...] = ("lost_response", "error", "rate_limited", "latency")
WEBHOOK_FAULT_MODES: tuple[str, ...] = ("drop", "duplicate", "delay", "reorder")
FORGED_CLAIMS: tuple[str, ...] = (
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
    "blocked_insufficient_credits",
)
_KINDS = ("plans", "specifications", "addenda", "documents", "mixed", "other")
_SIZES = (1_500, 40_000, 180_000, 320_000)


@dataclass(frozen=True, slots=True)
class ApiFault:
    """A fault on the `nth` attempt (0-based) at one kind of call, and the `repeat - 1` attempts
    after it; `mode` is a row of the fault table (`mock_server.faults`)."""

    call: str
    nth: int
    mode: str
    status: int | None = None  # error: 500 | 503; lost_response: 502 | 504 | None (no answer)
    retry_after: int | None = None  # error 503, rate_limited: the Retry-After header
    seconds: float | None = None  # latency: virtual seconds before the request is handled
    repeat: int = 1

    def covers(self, call: str, nth: int) -> bool:
        return call == self.call and self.nth <= nth < self.nth + self.repeat

    def what(self) -> str:
        if self.mode == "lost_response":
            how = f"{self.status}" if self.status else "the connection closed"
            return f"lost_response (committed, then {how})"
        if self.mode == "latency":
            return f"answered after {self.seconds:g} s"
        ra = f" Retry-After {self.retry_after}" if self.retry_after is not None else ""
        if self.mode == "rate_limited":
            return f"429 rate_limited{ra}"
        return f"{self.status} error{ra}"

    def describe(self) -> str:
        which = (
            f"#{self.nth}" if self.repeat == 1 else f"#{self.nth}-#{self.nth + self.repeat - 1}"
        )
        return f"{self.call} {which}: {self.what()}"


@dataclass(frozen=True, slots=True)
class WebhookFault:
    """A fault on the job's `event`-th webhook (0-based; the provision event is 0)."""

    event: int
    mode: str
    seconds: float | None = None  # delay

    def describe(self) -> str:
        extra = f" {self.seconds:g} s" if self.mode == "delay" and self.seconds else ""
        return f"event #{self.event}: {self.mode}{extra}"


@dataclass(frozen=True, slots=True)
class ForgedDelivery:
    """A delivery the kit itself sends to the workflow's webhook URL `at` seconds after the job
    was created, claiming `claims` (a status the job has not reached), signed with another key."""

    at: float
    claims: str

    def describe(self) -> str:
        return f"at +{self.at:g} s a forged delivery (bad signature) claims {self.claims}"


@dataclass(frozen=True, slots=True)
class WorkflowPlan:
    """One generated server behaviour for one submission."""

    path: str
    scenario: Scenario
    owner: OwnerPlan
    files: tuple[tuple[str, int, str], ...]  # (file name, size, content type)
    api_faults: tuple[ApiFault, ...] = ()
    webhook_faults: tuple[WebhookFault, ...] = ()
    forged: ForgedDelivery | None = None
    # the owner cancels the moment the job enters this status (the upload window's paths)
    cancel_on: str | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    def fault_for(self, call: str, nth: int) -> ApiFault | None:
        return next((f for f in self.api_faults if f.covers(call, nth)), None)

    def file_data(self) -> list[tuple[str, bytes, str]]:
        """The files as the workflow gets them: `(file name, bytes, content type)`."""
        out = []
        for name, size, ctype in self.files:
            head = f"%PDF-1.4\n% {name} (check_workflow)\n".encode()
            filler = (name.encode() + b" ") * (size // (len(name) + 1) + 1)
            out.append((name, (head + filler)[:size], ctype))
        return out

    def describe(self) -> str:
        files = ", ".join(f"{name} {size} B" for name, size, _ in self.files)
        owner = self.owner.describe(blocks="blocked" in self.path)
        if self.cancel_on is not None:
            owner += f"; cancels as the job enters {self.cancel_on}"
        lines = [
            f"path {self.path}",
            f"  scenario: {describe_scenario(self.scenario)}",
            f"  owner: {owner}",
            f"  files ({len(self.files)}): {files}",
            "  API faults: " + ("; ".join(f.describe() for f in self.api_faults) or "none"),
            "  webhook faults: "
            + ("; ".join(f.describe() for f in self.webhook_faults) or "none"),
            f"  forged delivery: {self.forged.describe() if self.forged else 'none'}",
        ]
        return "\n".join(lines)


# --------------------------------------------------------------------------- building plans


def _files(pick: _Pick) -> tuple[tuple[str, int, str], ...]:
    n = pick.int(1, 5, 2)
    out = []
    for i in range(n):
        kind = pick.choice(_KINDS[i % len(_KINDS) :] + _KINDS[: i % len(_KINDS)])
        size = pick.choice(_SIZES[i % len(_SIZES) :] + _SIZES[: i % len(_SIZES)])
        out.append((f"{i + 1:02d}-{kind}.pdf", size, "application/pdf"))
    return tuple(out)


def _reservation(scenario: Scenario, files: tuple[tuple[str, int, str], ...]) -> int:
    """The credits reserved at preflight for files uploaded without a classification (auto:
    document pages, 1 credit each), as the reference workflow uploads them."""
    return sum(estimate_pages(size, scenario.pages_per_file) for _, size, _ in files)


def _build_workflow(path: str, pick: _Pick) -> WorkflowPlan:
    files = _files(pick)
    base = _build(path, pick)
    scenario, owner = base.scenario, base.owner
    knobs: dict[str, Any] = {}
    reservation = _reservation(scenario, files)
    balance = owner.balance
    if path in ("blocked_at_preflight", "cancel_while_blocked", "expires_while_blocked"):
        balance = pick.int(0, reservation - 1, 0)
    elif path == "blocked_mid_processing":
        balance = reservation + pick.int(0, 10 * scenario.extra_pages - 1, 5)
    owner = replace(owner, balance=balance, files=(), upload_at=0.0, complete_after=0.0)
    cancel_on: str | None = None
    faults: tuple[ApiFault, ...] = ()
    if path in ("cancel_while_awaiting_uploads", "cancel_while_uploading"):
        cancel_on = path.removeprefix("cancel_while_")
        owner = replace(owner, cancel_at=None)
    elif path in ("expires_while_awaiting_uploads", "expires_while_uploading"):
        ttl = pick.int(5, 120, 20)
        knobs["job_ttl"] = float(ttl)
        late = float(ttl + pick.int(1, 60, 5))
        call = "upload" if path.endswith("awaiting_uploads") else "complete"
        faults = (ApiFault(call, 0, "latency", seconds=late),)
    if knobs:
        scenario = Scenario.model_validate({**scenario.model_dump(), **knobs})
    return WorkflowPlan(path, scenario, owner, files, api_faults=faults, cancel_on=cancel_on)


@st.composite
def _plan(draw: st.DrawFn, path: str) -> WorkflowPlan:
    return _build_workflow(path, _Pick(draw))


def _tidy(f: ApiFault) -> ApiFault:
    if f.mode == "lost_response":
        return ApiFault(f.call, f.nth, f.mode, status=f.status if f.status != 500 else None)
    if f.mode == "error":
        status = 503 if f.status in (None, 502, 503, 504) else 500
        ra = f.retry_after if status == 503 else None
        return ApiFault(f.call, f.nth, f.mode, status=status, retry_after=ra, repeat=f.repeat)
    if f.mode == "rate_limited":
        return ApiFault(f.call, f.nth, f.mode, retry_after=f.retry_after or 10, repeat=f.repeat)
    return ApiFault(f.call, f.nth, "latency", seconds=f.seconds or 5.0)


def workflow_fault_plans(
    *, max_api_faults: int = 4, max_webhook_faults: int = 3
) -> st.SearchStrategy[
    tuple[tuple[ApiFault, ...], tuple[WebhookFault, ...], ForgedDelivery | None]
]:
    """(API faults, webhook faults, forged delivery or None), for `WorkflowPlan`."""
    api = st.builds(
        ApiFault,
        call=st.sampled_from(CALLS),
        nth=st.integers(0, 3),
        mode=st.sampled_from(API_FAULT_MODES),
        status=st.sampled_from([None, 500, 502, 503, 504]),
        retry_after=st.one_of(st.none(), st.integers(1, 60)),
        seconds=st.sampled_from([1.0, 5.0, 20.0, 60.0]),
        repeat=st.integers(1, 3),
    ).map(_tidy)
    hooks = st.builds(
        WebhookFault,
        event=st.integers(0, 7),
        mode=st.sampled_from(WEBHOOK_FAULT_MODES),
        seconds=st.sampled_from([30.0, 120.0, 600.0]),
    ).map(lambda f: f if f.mode == "delay" else WebhookFault(f.event, f.mode))
    forged = st.one_of(
        st.none(),
        st.builds(
            ForgedDelivery,
            at=st.integers(0, 120).map(float),
            claims=st.sampled_from(FORGED_CLAIMS),
        ),
    )
    return st.tuples(
        st.lists(api, max_size=max_api_faults, unique_by=lambda f: (f.call, f.nth)).map(
            lambda fs: tuple(sorted(fs, key=lambda f: (CALLS.index(f.call), f.nth)))
        ),
        st.lists(hooks, max_size=max_webhook_faults, unique_by=lambda f: f.event).map(
            lambda fs: tuple(sorted(fs, key=lambda f: f.event))
        ),
        forged,
    )


def workflow_plans(
    *, faults: bool = True, paths: tuple[str, ...] = WORKFLOW_PATHS
) -> st.SearchStrategy[WorkflowPlan]:
    """Plans over every branch of the machine (or `paths`), with API and webhook faults and
    forged deliveries when `faults` is true."""
    unknown = sorted(set(paths) - set(WORKFLOW_PATHS))
    if unknown or not paths:
        raise ValueError(
            f"unknown path(s) {unknown or '(none given)'}; known: {', '.join(WORKFLOW_PATHS)}"
        )
    plans = st.sampled_from(paths).flatmap(_plan)
    if not faults:
        return plans
    return st.builds(
        lambda p, fp: replace(
            p, api_faults=p.api_faults + fp[0], webhook_faults=fp[1], forged=fp[2]
        ),
        plans,
        workflow_fault_plans(),
    )


def canonical_workflow_plans(
    paths: tuple[str, ...] = WORKFLOW_PATHS, *, faults: bool = True
) -> list[WorkflowPlan]:
    """One simple plan per path, then (with `faults`) one plan per kind of trouble a whole
    submission meets, on the plain completion: `check_workflow` runs them first, so every run
    exercises every branch and every fault, whatever hypothesis draws next."""
    plans = [_build_workflow(path, _Pick(None)) for path in paths]
    if not faults or not plans:
        return plans
    first = plans[0]
    # the plain completion's events: provision #0, start_upload #1, complete_uploads #2,
    # pass_preflight #3, complete #4 (terminal)
    terminal_event = 4
    slow = Scenario.model_validate(
        {**first.scenario.model_dump(), "name": "contract_completed_slowly",
         "pages_per_second": 0.1, "preflight_delay": 10.0}
    )  # fmt: skip
    troubles: list[tuple[str, dict[str, Any]]] = [
        ("a lost create answer", {"api_faults": (ApiFault("create", 0, "lost_response"),)}),
        (
            "a lost complete answer",
            {"api_faults": (ApiFault("complete", 0, "lost_response", status=504),)},
        ),
        (
            "a lost upload answer",
            {"api_faults": (ApiFault("upload", 0, "lost_response", status=502),)},
        ),
        (
            "Retry-After on every kind of call",
            {
                "api_faults": (
                    ApiFault("create", 0, "rate_limited", retry_after=15),
                    ApiFault("upload", 1, "error", status=503, retry_after=30),
                    ApiFault("complete", 0, "rate_limited", retry_after=20),
                    ApiFault("poll", 1, "error", status=503, retry_after=25),
                    ApiFault("result", 0, "error", status=503, retry_after=10),
                )
            },
        ),
        ("a burst of 500s", {"api_faults": (ApiFault("create", 0, "error", 500, repeat=4),)}),
        ("an outage", {"api_faults": (ApiFault("upload", 0, "error", 503, repeat=12),)}),
        (
            "the terminal webhook dropped",
            {"webhook_faults": (WebhookFault(terminal_event, "drop"),)},
        ),
        (
            "duplicated, reordered and delayed webhooks",
            {
                "webhook_faults": (
                    WebhookFault(1, "duplicate"),
                    WebhookFault(2, "reorder"),
                    WebhookFault(3, "delay", 30.0),
                ),
                "api_faults": (
                    ApiFault("complete", 0, "latency", seconds=20.0),
                    ApiFault("poll", 1, "error", status=500),
                ),
            },
        ),
        (
            "a forged completed",
            {"scenario": slow, "forged": ForgedDelivery(1.0, "completed")},
        ),
        (
            "a forged blocked",
            {"scenario": slow, "forged": ForgedDelivery(2.0, "blocked_insufficient_credits")},
        ),
    ]
    for note, changes in troubles:
        plans.append(replace(first, notes=(note,), **changes))
    return plans
