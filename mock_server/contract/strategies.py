"""Hypothesis strategies for the server's behaviour: scenarios, the account owner's actions and
transient API faults, combined into the `ContractPlan`s `check_client` runs.

Each plan aims at one branch of the job machine (`PATHS`) and draws its timings, pages and
credits so that it gets there; hypothesis shrinks towards the first path (a plain completion),
short delays and few pages. Use them in your own properties:

    @given(plan=contract_plans(faults=True))
    def test_my_client(plan): replay_plan(my_client, plan)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import strategies as st

from statemachine import Scenario

__all__ = [
    "FAULT_KINDS",
    "PATHS",
    "ContractPlan",
    "Fault",
    "FaultPlan",
    "OwnerPlan",
    "canonical_plans",
    "contract_plans",
    "fault_plans",
    "owner_plans",
    "scenarios",
]

PATHS: tuple[str, ...] = (
    "completed",
    "completed_with_errors",
    "processing_fails",
    "preflight_fails",
    "blocked_at_preflight",
    "blocked_mid_processing",
    "cancel_immediate",
    "cancel_deferred",
    "cancel_race_lost",
    "cold_start",
    "cancel_while_provisioning",
    "cancel_while_awaiting_uploads",
    "cancel_while_uploading",
    "cancel_while_preflighting",
    "cancel_while_blocked",
    "expires_while_provisioning",
    "expires_while_awaiting_uploads",
    "expires_while_uploading",
    "expires_while_preflighting",
    "expires_while_blocked",
    "expires_while_processing",
)
FaultKind = Literal["429", "500", "503", "latency"]
FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "latency")
AMPLE_CREDITS = 100_000
BlockAction = Literal["top_up", "cancel", "wait"]


@dataclass(frozen=True, slots=True)
class OwnerPlan:
    """What the kit, acting as the account owner, does while the client waits (seconds are
    virtual and counted from the job's creation, which is when the client is called)."""

    balance: int = AMPLE_CREDITS
    files: tuple[tuple[int, str | None], ...] = ((150_000, "plans"),)  # (bytes, classification)
    upload_at: float = 0.0  # the owner uploads the files then (once the job is provisioned)
    complete_after: float = 0.0  # ... and completes the uploads this long after uploading
    on_block: BlockAction = "top_up"
    block_action_after: float = 30.0  # seconds after a block before topping up or cancelling
    cancel_after_processing_starts: float | None = None
    cancel_at: float | None = None  # an early cancel, whatever the status

    def describe(self, *, blocks: bool = True) -> str:
        parts = [f"balance {self.balance}"]
        files = ", ".join(f"{size} B {cls or 'auto'}" for size, cls in self.files)
        parts.append(f"files [{files}]")
        if self.upload_at or self.complete_after:
            parts.append(
                f"uploads at +{self.upload_at:g} s, completed {self.complete_after:g} s later"
            )
        if blocks and self.on_block == "wait":
            parts.append("never tops up a blocked job")
        elif blocks:
            verb = "tops up and resumes" if self.on_block == "top_up" else "cancels"
            parts.append(f"{verb} {self.block_action_after:g} s after a block")
        if self.cancel_after_processing_starts is not None:
            parts.append(f"cancels {self.cancel_after_processing_starts:g} s into processing")
        if self.cancel_at is not None:
            parts.append(f"cancels at +{self.cancel_at:g} s")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Fault:
    """A transient fault on the client's `request`-th request (0-based)."""

    request: int
    kind: FaultKind
    retry_after: int | None = None  # 429/503: the Retry-After header
    seconds: float = 0.0  # latency: virtual seconds the answer takes

    def describe(self) -> str:
        if self.kind == "latency":
            return f"request {self.request}: answered after {self.seconds:g} s"
        ra = f" Retry-After {self.retry_after}" if self.retry_after is not None else ""
        return f"request {self.request}: {self.kind}{ra}"


@dataclass(frozen=True, slots=True)
class FaultPlan:
    faults: tuple[Fault, ...] = ()

    def by_request(self) -> dict[int, Fault]:
        return {f.request: f for f in self.faults}

    def describe(self) -> str:
        return "; ".join(f.describe() for f in self.faults) or "none"


@dataclass(frozen=True, slots=True)
class ContractPlan:
    """One generated server behaviour: the branch it aims at, the job's scenario, the owner's
    actions and the transient faults."""

    path: str
    scenario: Scenario
    owner: OwnerPlan = field(default_factory=OwnerPlan)
    faults: FaultPlan = field(default_factory=FaultPlan)

    def describe(self) -> str:
        return (
            f"path {self.path}\n"
            f"  scenario: {describe_scenario(self.scenario)}\n"
            f"  owner: {self.owner.describe(blocks='blocked' in self.path)}\n"
            f"  faults: {self.faults.describe()}"
        )


def describe_scenario(s: Scenario) -> str:
    defaults = Scenario.model_validate({"name": s.name})
    changed = {
        k: v
        for k, v in s.model_dump().items()
        if k not in ("name", "description") and v != getattr(defaults, k)
    }
    knobs = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in changed.items()
    )
    return f"{s.name} ({knobs or 'all defaults'})"


# --------------------------------------------------------------------------- strategies

_SPEEDS = (1.0, 0.5, 0.25, 2.0, 0.1, 5.0)


class _Pick:
    """Draws through hypothesis, or (without `draw`) takes the canonical value: the same code
    builds the random plans and the one canonical plan per path."""

    def __init__(self, draw: st.DrawFn | None) -> None:
        self.draw = draw

    def int(self, lo: int, hi: int, canonical: int) -> int:
        hi = max(lo, hi)
        return self.draw(st.integers(lo, hi)) if self.draw else min(max(canonical, lo), hi)

    def choice(self, options: tuple[Any, ...]) -> Any:
        return self.draw(st.sampled_from(options)) if self.draw else options[0]

    def flag(self) -> bool:
        return self.draw(st.booleans()) if self.draw else False


def _build(path: str, pick: _Pick) -> ContractPlan:
    """A plan that reaches `path`'s branch of the machine.

    The owner uploads at U (or once the job is provisioned, at P), completes C later, preflight
    takes D, then processing takes pages / speed: the windows below put each cancel and expiry
    strictly inside the status the path names."""
    n_files = pick.int(1, 2, 1)
    pages_per_file = pick.int(1, 6, 2)
    classification = pick.choice(("plans", "specifications", "mixed"))
    pages = n_files * pages_per_file
    drawing = pages_per_file // 2 if classification == "mixed" else pages_per_file
    if classification == "specifications":
        drawing = 0
    reservation = n_files * (drawing * 10 + (pages_per_file - drawing))
    knobs: dict[str, Any] = {
        "preflight_delay": float(pick.int(0, 30, 3)),
        "pages_per_second": pick.choice(_SPEEDS),
        "pages_per_file": pages_per_file,
    }
    owner: dict[str, Any] = {
        "files": tuple((pages_per_file * 100_000, classification) for _ in range(n_files))
    }
    prov = upload = complete = 0
    early = path.startswith(("cancel_while_", "expires_while_"))
    if not early and pick.flag():  # the client may see awaiting_uploads and uploading too
        upload, complete = pick.int(0, 60, 0), pick.int(0, 60, 0)

    if path == "completed_with_errors":
        knobs["outcome"] = "completed_with_errors"
        knobs["failed_page_fraction"] = pick.choice((0.25, 0.5, 0.1, 1.0))
    elif path == "processing_fails":
        knobs["outcome"] = "failed"
    elif path == "preflight_fails":
        knobs["preflight_outcome"] = "fail"
    elif path == "blocked_at_preflight":
        owner["balance"] = pick.int(0, reservation - 1, 0)
        # canonically nobody tops up: a client must give up by itself (or see it expire)
        _block_reaction(pick, owner, ("wait", "top_up", "cancel"))
    elif path == "blocked_mid_processing":
        extra = pick.int(1, 10, 3)
        knobs["extra_pages"] = extra
        knobs["extra_page_kind"] = "drawing"
        owner["balance"] = reservation + pick.int(0, 10 * extra - 1, 5)
        _block_reaction(pick, owner, ("top_up", "cancel", "wait"))
    elif path in ("cancel_immediate", "cancel_deferred", "cancel_race_lost"):
        knobs["pages_per_second"] = pick.choice((0.25, 0.1, 0.5))
        knobs["cancel_while_processing"] = path.removeprefix("cancel_")
        if path == "cancel_deferred":
            knobs["cancel_defer_seconds"] = float(pick.int(0, 60, 10))
        duration = pages / knobs["pages_per_second"]
        owner["cancel_after_processing_starts"] = float(pick.int(0, int(duration) - 1, 1))
    elif path == "cold_start":
        prov = pick.int(1, 60, 30)
    elif early:
        status = path.split("_while_", 1)[1]
        preflight = int(knobs["preflight_delay"])
        if status == "provisioning":
            prov = pick.int(2, 60, 10)
            at = pick.int(1, prov - 1, prov // 2)
        elif status == "awaiting_uploads":
            upload = pick.int(2, 60, 10)
            at = pick.int(1, upload - 1, upload // 2)
        elif status == "uploading":
            upload, complete = pick.int(0, 30, 0), pick.int(2, 60, 10)
            at = pick.int(upload + 1, upload + complete - 1, upload + complete // 2)
        elif status == "preflighting":
            preflight = pick.int(2, 30, 10)
            at = pick.int(1, preflight - 1, preflight // 2)
        elif status == "blocked":
            owner["balance"] = pick.int(0, reservation - 1, 0)
            owner["on_block"] = "wait"
            at = preflight + pick.int(1, 600, 60)
        else:  # processing
            knobs["pages_per_second"] = pick.choice((0.25, 0.1))
            duration = int(pages / knobs["pages_per_second"])
            at = preflight + pick.int(1, duration - 1, duration // 2)
        knobs["preflight_delay"] = float(preflight)
        if path.startswith("cancel_"):
            owner["cancel_at"] = float(at)
        else:
            knobs["job_ttl"] = float(at)
            owner["on_block"] = "wait"
    if prov:
        knobs["job_provisioning_delay"] = float(prov)
    owner["upload_at"], owner["complete_after"] = float(upload), float(complete)
    scenario = Scenario.model_validate({"name": f"contract_{path}", **knobs})
    return ContractPlan(path=path, scenario=scenario, owner=OwnerPlan(**owner))


def _block_reaction(pick: _Pick, owner: dict[str, Any], reactions: tuple[str, ...]) -> None:
    owner["on_block"] = pick.choice(reactions)
    owner["block_action_after"] = float(pick.int(1, 300, 30))


@st.composite
def _plan(draw: st.DrawFn, path: str) -> ContractPlan:
    return _build(path, _Pick(draw))


def canonical_plans(paths: tuple[str, ...] = PATHS, *, faults: bool = False) -> list[ContractPlan]:
    """One simple plan per path (plus, with `faults`, one with a fault of each kind):
    `check_client` runs them first, so every branch of the machine is exercised in every run,
    whatever hypothesis draws next."""
    plans = [_build(path, _Pick(None)) for path in paths]
    if faults and plans:
        first = plans[0]
        every_kind = FaultPlan(
            (
                Fault(0, "503", 20),
                Fault(1, "429", 10),
                Fault(2, "500"),
                Fault(3, "latency", seconds=5.0),
            )
        )
        plans.append(ContractPlan(first.path, first.scenario, first.owner, every_kind))
    return plans


def fault_plans(*, max_faults: int = 3, max_request: int = 12) -> st.SearchStrategy[FaultPlan]:
    """Transient faults on some of the client's requests: 429 (with Retry-After), 500, 503
    (with or without Retry-After) and latency."""
    fault = st.builds(
        Fault,
        request=st.integers(0, max_request),
        kind=st.sampled_from(FAULT_KINDS),
        retry_after=st.one_of(st.none(), st.integers(5, 60)),
        seconds=st.sampled_from([1.0, 0.5, 5.0, 20.0]),
    ).map(_tidy_fault)
    return st.lists(fault, max_size=max_faults, unique_by=lambda f: f.request).map(
        lambda fs: FaultPlan(tuple(sorted(fs, key=lambda f: f.request)))
    )


def _tidy_fault(f: Fault) -> Fault:
    if f.kind == "429":
        return Fault(f.request, "429", f.retry_after or 10)
    if f.kind == "500":
        return Fault(f.request, "500")
    if f.kind == "503":
        return Fault(f.request, "503", f.retry_after)
    return Fault(f.request, "latency", seconds=f.seconds)


def contract_plans(
    *, faults: bool = False, paths: tuple[str, ...] = PATHS
) -> st.SearchStrategy[ContractPlan]:
    """Plans over every branch of the machine (or the `paths` given), with transient faults when
    `faults` is true."""
    unknown = sorted(set(paths) - set(PATHS))
    if unknown or not paths:
        raise ValueError(f"unknown path(s) {unknown or '(none given)'}; known: {', '.join(PATHS)}")
    plans = st.sampled_from(paths).flatmap(_plan)
    if not faults:
        return plans
    return st.builds(
        lambda p, fp: ContractPlan(p.path, p.scenario, p.owner, fp), plans, fault_plans()
    )


def scenarios(*, paths: tuple[str, ...] = PATHS) -> st.SearchStrategy[Scenario]:
    """Valid scenarios covering every branch of the machine."""
    return contract_plans(paths=paths).map(lambda p: p.scenario)


def owner_plans(*, paths: tuple[str, ...] = PATHS) -> st.SearchStrategy[OwnerPlan]:
    """The account owner's actions (balance, uploads, top-ups, cancels)."""
    return contract_plans(paths=paths).map(lambda p: p.owner)
