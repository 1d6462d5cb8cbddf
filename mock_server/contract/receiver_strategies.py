"""Real job events and hypothesis strategies for `check_receiver`'s campaign.

`EventSource` runs jobs through the mock's own engine and renders each transition as the
dispatcher does (same Job object, same event body), so the receiver sees what the mock would
send: real statuses over real paths of the machine (`strategies.contract_plans`), with the text
an integrator controls (externalId, file names) drawn to stress byte-exact verification.
`job_plans()` draws the job, the body style and the text; `draw_steps` (given a Random seeded
by hypothesis) chooses what is sent for each event: the valid delivery, mutations of it,
duplicates and one late delivery. `canonical_campaign()` is the fixed part every run sends
first, so every kind of probe is sent whatever hypothesis draws.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from statemachine import (
    TERMINAL_STATUSES,
    FileSpec,
    FileStatus,
    Job,
    Project,
    StateMachineError,
    TransitionRecord,
)

from ..app import create_app
from ..config import MockConfig
from ..public.serialize import job_json
from ..state import STATE_KEY
from ..webhooks.dispatcher import event_payload
from .deliveries import (
    HEADER_CASES,
    LAYOUTS,
    REJECTED,
    BodyStyle,
    Event,
    Knobs,
)
from .owner import act_on_job
from .rules import BLOCKED
from .strategies import PATHS, ContractPlan, canonical_plans, contract_plans

__all__ = [
    "NASTY_TEXT",
    "EventSource",
    "JobPlan",
    "Step",
    "body_styles",
    "canonical_campaign",
    "draw_steps",
    "job_plans",
    "mutation_knobs",
    "valid_knobs",
]

MAX_FILES = 100
EXTERNAL_ID_MAX = 180

# text that breaks receivers which re-encode, normalize or re-serialize what they verify
NASTY_TEXT: tuple[str, ...] = (
    "👷🏽‍♀️",  # emoji with a skin tone and a zero-width joiner: astral, 7 code points
    "図面 第3版",  # CJK
    "مخطط الطابق الأرضي",  # Arabic, right to left
    "תוכנית קומה",  # Hebrew, right to left
    "\u202ertl override\u202c",
    "line\u2028separator\u2029paragraph",  # valid JSON, invalid in old JavaScript strings
    "\ufeffbom",
    "e\u0301 vs \u00e9",  # the same letter decomposed and precomposed: NFC would change it
    "Ω≈ç√∫",
    'quote " backslash \\ slash /',
    "</script><!--",
    "tab\there",
    "😀🏗️📐",
)


@dataclass(frozen=True, slots=True)
class JobPlan:
    """One job of the campaign: the path through the machine, the text in it, its body style."""

    contract: ContractPlan
    style: BodyStyle
    external_id: str | None = None
    file_names: tuple[str, ...] = ()  # the uploaded files' names (cycled over the plan's files)
    extra_files: tuple[str, ...] = ()  # registered but never uploaded (skipped): large bodies

    def describe(self) -> str:
        extra = f", {len(self.extra_files)} registered files" if self.extra_files else ""
        return (
            f"path {self.contract.path}; externalId {self.external_id!r}{extra}; body "
            f"{self.style.describe()}"
        )


@dataclass(frozen=True, slots=True)
class Step:
    """Send mutation `kind` of event `event` (an index into the job's events)."""

    kind: str
    event: int
    knobs: Knobs = field(default_factory=Knobs)


# --------------------------------------------------------------------------- real events


class EventSource:
    """Jobs run through the mock's engine, their transitions rendered as webhook events.

    One mock application (never served) holds the engine and the Job renderer; each job gets the
    plan's scenario, and the account owner's actions (upload, complete, top up and resume,
    cancel) run at the virtual times the plan says. Not thread-safe: one per campaign.
    """

    def __init__(self) -> None:
        config = MockConfig(clock="manual", port=0, polling="off", seed=0, journal_size=10)
        app = create_app(config)
        # result URLs point at the mock's default origin (nothing is served)
        app[STATE_KEY].storage.origin = "http://127.0.0.1:8080"
        self._state = app[STATE_KEY]
        self._render = job_json
        self._events: list[Event] = []
        self._job_id: str | None = ""
        self._state.subscribe(self._on_transition)
        engine = self._state.engine
        self._org = "org_receiver_check"
        project, _ = engine.create_project(self._org, "check-receiver")
        if project.state != "ready":
            engine.force_project(project, "provision")
        self._project: Project = project

    def _on_transition(self, record: TransitionRecord, obj: Job | Project) -> None:
        if record.kind != "job" or not isinstance(obj, Job):
            return
        # while a job is created its id is not known yet (None): its first transition
        # (provision, with a zero delay) fires inside create_job
        if self._job_id is not None and record.object_id != self._job_id:
            return
        payload = event_payload(record, self._render(self._state, obj, status=record.dst))
        self._events.append(
            Event(record.object_id, record.dst, record.src, record.sequence, payload)
        )

    def events(self, plan: JobPlan) -> list[Event]:
        """Run one job to its terminal status (or as far as the plan goes) and return its
        events in transition order."""
        engine = self._state.engine
        owner = plan.contract.owner
        engine.set_balance(self._org, owner.balance)
        actions: list[tuple[float, int, str]] = []
        order = itertools.count()

        def schedule(at: float, action: str) -> None:
            heapq.heappush(actions, (at, next(order), action))

        self._events, self._job_id = [], None
        job = engine.create_job(
            self._project, scenario=plan.contract.scenario, external_id=plan.external_id
        )
        self._job_id = job.id
        self._events = [e for e in self._events if e.job_id == job.id]
        schedule(job.created_at + owner.upload_at, "upload")
        if owner.cancel_at is not None:
            schedule(job.created_at + owner.cancel_at, "cancel")
        seen = 0
        processing_seen = False
        for _ in range(10_000):  # a bound the built-in paths never reach
            # the owner reacts to new transitions, as the contract kit's owner does
            for event in self._events[seen:]:
                if event.status == BLOCKED and owner.on_block != "wait":
                    action = "top_up" if owner.on_block == "top_up" else "cancel_blocked"
                    schedule(engine.now + owner.block_action_after, action)
                elif (
                    event.status == "processing"
                    and not processing_seen
                    and owner.cancel_after_processing_starts is not None
                ):
                    processing_seen = True
                    schedule(engine.now + owner.cancel_after_processing_starts, "cancel")
            seen = len(self._events)
            if actions and actions[0][0] <= engine.now + 1e-9:
                _, _, action = heapq.heappop(actions)
                self._act(plan, job, action, schedule)
                continue
            if job.state in TERMINAL_STATUSES:
                break
            times = [t for t in (engine.next_due(), actions[0][0] if actions else None) if t]
            if not times:
                break
            target = min(times)
            if target > engine.now:
                engine.advance(target - engine.now)
            due = engine.next_due()
            if due is not None and due <= target:  # float rounding of the clock
                engine.run_until(target)
        events, self._events, self._job_id = self._events, [], ""
        engine.forget(job)
        return events

    def _act(self, plan: JobPlan, job: Job, action: str, schedule: Any) -> None:
        engine = self._state.engine
        owner = plan.contract.owner
        try:
            if action == "upload":
                if job.state == "provisioning":
                    schedule(engine.now + 1.0, "upload")  # retried once it is provisioned
                    return
                names = plan.file_names or ("plans.pdf",)
                specs = [
                    FileSpec(names[i % len(names)], size, "application/pdf", cls)
                    for i, (size, cls) in enumerate(owner.files)
                ]
                engine.add_files(job, specs)
                if plan.extra_files:
                    room = MAX_FILES - len(job.files)
                    extra = [
                        FileSpec(name, 1000, "application/pdf", None)
                        for name in plan.extra_files[:room]
                    ]
                    engine.add_files(job, extra, status=FileStatus.PENDING)
                if owner.complete_after <= 0:
                    engine.complete_uploads(job)
                else:
                    schedule(engine.now + owner.complete_after, "complete")
            elif action == "complete":
                engine.complete_uploads(job)
            else:
                act_on_job(engine, job, action)  # the project's jobs are all of self._org
        except StateMachineError:
            pass  # the job moved on: the owner's action no longer applies


# --------------------------------------------------------------------------- strategies


@functools.cache
def _text(max_size: int) -> st.SearchStrategy[str]:
    chars = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n")
    return st.one_of(
        st.sampled_from(NASTY_TEXT),
        st.lists(st.sampled_from(NASTY_TEXT), min_size=1, max_size=4).map(" ".join),
        st.text(chars, min_size=1, max_size=max_size),
    ).map(lambda s: s[:max_size])


@functools.cache
def body_styles() -> st.SearchStrategy[BodyStyle]:
    whitespace = st.text(st.sampled_from(" \t\r\n"), max_size=3)
    return st.builds(
        BodyStyle,
        escape=st.sampled_from(("ascii", "utf8", "mixed")),
        indent=st.sampled_from((None, None, 2, 4, "\t", 0)),
        spaced=st.booleans(),
        key_order=st.sampled_from(("sent", "reversed", "sorted", "shuffled")),
        shuffle_seed=st.integers(0, 2**16),
        escape_slashes=st.booleans(),
        upper_hex=st.booleans(),
        lead=whitespace,
        trail=whitespace,
    )


@functools.cache
def _job_plans(paths: tuple[str, ...]) -> st.SearchStrategy[JobPlan]:
    # mostly small jobs; now and then a large body: up to 100 files with long names
    extra = st.one_of(st.sampled_from((0, 0, 0, 3)), st.integers(60, MAX_FILES)).flatmap(
        lambda n: (
            st.just(())
            if not n
            else _text(200).map(lambda base: tuple(f"{base} {i}.pdf" for i in range(n)))
        )
    )
    return st.builds(
        JobPlan,
        contract=contract_plans(paths=paths),
        style=body_styles(),
        external_id=st.none() | _text(EXTERNAL_ID_MAX),
        file_names=st.lists(_text(60).map(lambda s: s + ".pdf"), min_size=1, max_size=2).map(
            tuple
        ),
        extra_files=extra,
    )


def job_plans(paths: Sequence[str] = PATHS) -> st.SearchStrategy[JobPlan]:
    """A job over one of the machine's paths, its text, its registered files and body style."""
    return _job_plans(tuple(paths))


def valid_knobs(rng: random.Random) -> Knobs:
    """The details of a valid delivery: its signature layout, clock skew and header case."""
    return Knobs(
        layout=rng.choice(LAYOUTS), skew=rng.randint(-60, 30), header_case=rng.choice(HEADER_CASES)
    )


def mutation_knobs(rng: random.Random) -> Knobs:
    """The details of a mutation (each kind reads the fields it needs)."""
    edge = rng.random()
    position = 0.0 if edge < 0.05 else 1.0 if edge < 0.1 else rng.random()
    return Knobs(
        header_case=rng.choice(HEADER_CASES),
        offset=rng.randint(0, 600) if rng.random() < 0.5 else rng.randint(0, 30 * 86_400),
        position=position,
        byte=rng.choice((0x00, 0xFF, 0x20, 0x22, 0x5C, rng.randint(0, 255))),
        variant=rng.randint(0, 11),
    )


def draw_steps(rng: random.Random, n_events: int) -> list[Step]:
    """What to send for a job with `n_events` events: each event's valid delivery in
    transition order (one of them perhaps held back and sent after a newer one: `late`), up to
    four mutations of it, and now and then a duplicate (right away or at the end).

    `rng`: a `random.Random` seeded by hypothesis (`check_receiver`), or hypothesis's own
    (`st.randoms()`) in a property of yours.
    """
    if n_events == 0:
        return []
    order = list(range(n_events))
    late: int | None = None
    if n_events >= 2 and rng.random() < 0.5:
        late = rng.randint(0, n_events - 2)
        after = rng.randint(late + 1, min(n_events - 1, late + 3))
        order.remove(late)
        order.insert(order.index(after) + 1, late)
    steps: list[Step] = []
    at_end: list[Step] = []
    for i in order:
        steps.append(Step("late" if i == late else "valid", i, valid_knobs(rng)))
        for _ in range(rng.randint(0, 4)):
            steps.append(Step(rng.choice(REJECTED), i, mutation_knobs(rng)))
        dup = rng.random()
        if dup < 0.25:
            (steps if dup < 0.15 else at_end).append(Step("duplicate", i, valid_knobs(rng)))
    return steps + at_end


# --------------------------------------------------------------------------- the fixed campaign


_CANONICAL_STYLES: tuple[BodyStyle, ...] = (
    BodyStyle(),  # what the mock's dispatcher sends
    BodyStyle(escape="utf8", key_order="reversed"),
    BodyStyle(escape="mixed", indent=2, escape_slashes=True),
    BodyStyle(escape="utf8", indent="\t", key_order="shuffled", shuffle_seed=7, trail="\r\n"),
    BodyStyle(spaced=True, upper_hex=True, key_order="sorted", lead=" \n"),
)


def canonical_campaign() -> list[tuple[JobPlan, list[Step]]]:
    """Jobs and steps sent before any drawn example: every mutation kind in every variant,
    every signature layout, a duplicate, a late delivery, each body style and a large body."""
    completed = next(p for p in canonical_plans(("completed",)))
    names = ("図面 مخطط 👷🏽‍♀️.pdf", "spec\u2028sheet e\u0301.pdf")
    external = "ext " + " | ".join(NASTY_TEXT)[: EXTERNAL_ID_MAX - 4]
    campaign: list[tuple[JobPlan, list[Step]]] = []

    # job 1: the mock's own serialization; every rejection kind in every variant, every layout
    steps: list[Step] = [Step("valid", 0)]
    for kind in REJECTED:
        variants = {"empty_signature": 3, "signature_bad_base64": 3, "signature_wrong_length": 3,
                    "signature_non_ascii": 2, "signature_v1_equals": 2, "timestamp_swapped": 2,
                    "timestamp_not_a_number": 6, "garbage_body": 6}.get(kind, 1)  # fmt: skip
        steps.extend(
            Step(kind, 0, Knobs(variant=v, position=0.5, byte=0xFF)) for v in range(variants)
        )
    for i, layout in enumerate(LAYOUTS[1:], start=1):
        steps.append(Step("valid", i, Knobs(layout=layout, header_case=HEADER_CASES[i % 3])))
    steps.append(Step("duplicate", 1))
    campaign.append((JobPlan(completed, _CANONICAL_STYLES[0], external, names), steps))

    # job 2: a late delivery (event 2 held back until after event 3) and a late duplicate
    order = [0, 1, 3, 2, 4]
    steps = [Step("late" if i == 2 else "valid", i) for i in order] + [Step("duplicate", 0)]
    campaign.append((JobPlan(completed, _CANONICAL_STYLES[1], external, names), steps))

    # one job per other style, and a large body (98 registered files with long non-ASCII
    # names, ASCII-escaped: about 110 KB, past some frameworks' default 100 KB body limit)
    large = BodyStyle(key_order="reversed")
    extra = tuple(f"{i:03d} " + ("図面 مخطط 👷🏽‍♀️ תוכנית " * 10)[:180] + ".pdf" for i in range(98))
    for style in (*_CANONICAL_STYLES[2:], large):
        plan = JobPlan(completed, style, external, names, extra if style is large else ())
        steps = [Step("valid", i) for i in range(5)]
        steps.append(Step("body_byte_changed", 4, Knobs(position=0.9, byte=ord(" "))))
        steps.append(Step("body_tampered", 4))
        campaign.append((plan, steps))
    return campaign
