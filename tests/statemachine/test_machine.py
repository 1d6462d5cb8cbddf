from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transitions import Machine, MachineError

from statemachine import (
    TERMINAL_STATUSES,
    InvalidTransition,
    JobEvent,
    JobStatus,
    allowed_events,
    fire_job_event,
    fire_project_event,
    job_edges,
)
from statemachine.machine import QuietMachine, QuietState, QuietTransition, job_machine


class Obj:
    __slots__ = ("id", "state")

    def __init__(self, state: str = "provisioning") -> None:
        self.id = "job_test"
        self.state = state


TABLE = {(src, event): dst for src, dst, event in job_edges()}


def test_eleven_statuses_five_terminal_eleven_events() -> None:
    assert len(JobStatus) == 11
    assert len(JobEvent) == 11
    assert {
        "completed",
        "completed_with_errors",
        "failed",
        "cancelled",
        "expired",
    } == TERMINAL_STATUSES


def test_block_is_allowed_from_preflighting_and_processing() -> None:
    assert TABLE[("preflighting", "block")] == "blocked_insufficient_credits"
    assert TABLE[("processing", "block")] == "blocked_insufficient_credits"


def test_invalid_transition_names_status_and_allowed_events() -> None:
    job = Obj("processing")
    with pytest.raises(InvalidTransition) as info:
        fire_job_event(job, "resume")
    err = info.value
    assert (err.object_id, err.event, err.status) == ("job_test", "resume", "processing")
    assert "cannot resume job job_test: status processing allows:" in str(err)
    assert "complete" in err.allowed and "resume" not in err.allowed
    assert job.state == "processing"


def test_terminal_status_message_says_nothing_is_allowed() -> None:
    with pytest.raises(InvalidTransition, match="is terminal and allows no event"):
        fire_job_event(Obj("completed"), "cancel")


def test_unknown_event_is_an_invalid_transition_not_a_machine_error() -> None:
    with pytest.raises(InvalidTransition, match="cannot explode"):
        fire_job_event(Obj(), "explode")


def test_project_machine() -> None:
    project = Obj()
    fire_project_event(project, "provision")
    assert project.state == "ready"
    with pytest.raises(InvalidTransition, match="project job_test: status ready is terminal"):
        fire_project_event(project, "provision")


@settings(max_examples=300)
@given(st.lists(st.sampled_from([e.value for e in JobEvent] + ["bogus"]), max_size=30))
def test_random_event_sequences_follow_the_table(events: list[str]) -> None:
    job = Obj()
    path = [job.state]
    for event in events:
        before = job.state
        expected = TABLE.get((before, event))
        if expected is None:
            with pytest.raises(InvalidTransition):
                fire_job_event(job, event)
            assert job.state == before
        else:
            fire_job_event(job, event)
            assert job.state == expected
            path.append(job.state)
        assert set(allowed_events(job.state)) == {e for (s, e) in TABLE if s == job.state}
    # the path is a walk over the table's edges and nothing follows a terminal status
    for a, b in itertools.pairwise(path):
        assert a not in TERMINAL_STATUSES
        assert any(TABLE.get((a, e)) == b for e in JobEvent)


def _callback_log(machine_cls: type, events: list[str]) -> tuple[list[str], list[str]]:
    """Fire `events` on one object through a machine of `machine_cls` whose every hook records
    itself: state enter/exit, transition prepare/conditions/unless/before/after, the machine's
    prepare_event, before/after_state_change, finalize_event. Returns (the log, the states)."""
    log: list[str] = []

    def rec(name: str, result: bool = True) -> Callable[..., bool]:
        def hook(*_args: object, **_kw: object) -> bool:
            log.append(name)
            return result

        return hook

    states = [
        {"name": s, "on_enter": rec(f"enter {s}"), "on_exit": rec(f"exit {s}")}
        for s in ("a", "b", "c")
    ]
    transitions = [
        {
            "trigger": "go",
            "source": "a",
            "dest": "b",
            "prepare": rec("prepare go"),
            "conditions": rec("condition go"),
            "unless": rec("unless go", False),
            "before": rec("before go"),
            "after": rec("after go"),
        },
        {"trigger": "stay", "source": "b", "dest": None, "after": rec("after stay")},
        {"trigger": "on", "source": "b", "dest": "c", "conditions": rec("refuse on", False)},
        {"trigger": "on", "source": "b", "dest": "c", "before": rec("before on second")},
    ]
    machine = machine_cls(
        model=None,
        states=states,
        transitions=transitions,
        initial="a",
        auto_transitions=False,
        prepare_event=rec("prepare_event"),
        before_state_change=rec("before_state_change"),
        after_state_change=rec("after_state_change"),
        finalize_event=rec("finalize_event"),
    )
    obj = Obj("a")
    seen = []
    for event in events:
        try:
            result = machine.events[event].trigger(obj)
            log.append(f"{event} -> {result}")
        except MachineError as exc:
            log.append(f"{event} refused: {exc.value}")
        seen.append(obj.state)
    return log, seen


def test_the_quiet_machine_does_what_transitions_does() -> None:
    # the package's machine class drops transitions' log lines and nothing else: every hook
    # runs, in the same order, with the same results, as on transitions' own Machine
    events = ["go", "stay", "go", "on", "stay", "go"]
    stock = _callback_log(Machine, events)
    quiet = _callback_log(QuietMachine, events)
    assert quiet == stock
    log, seen = quiet
    assert seen == ["b", "b", "b", "c", "c", "c"]
    assert log[:10] == [
        "prepare_event",
        "prepare go",
        "condition go",
        "unless go",
        "before_state_change",
        "before go",
        "exit a",
        "enter b",
        "after go",
        "after_state_change",
    ]
    assert "refuse on" in log and "before on second" in log and "after stay" in log
    assert isinstance(job_machine, QuietMachine)
    assert isinstance(job_machine.get_state("processing"), QuietState)
    assert all(
        isinstance(t, QuietTransition)
        for event in job_machine.events.values()
        for ts in event.transitions.values()
        for t in ts
    )
