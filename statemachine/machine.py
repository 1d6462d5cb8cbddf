"""The job and project machines, declared once as data and built on `transitions`.

One shared `Machine(model=None)` per kind serves every object: objects only carry a `state`
attribute, and events are fired with `machine.events[name].trigger(obj)` (no `add_model`,
which is quadratic, and no machine per object, which costs ~16 KB and ~230 us each).

The machines use transitions' own extension points (`Machine.state_cls`, `transition_cls`) for
a State and a Transition that do what transitions' do minus their log lines: transitions writes
ten DEBUG/INFO lines per transition, and even with logging off the calls and their arguments
cost ~2 us of a ~7.4 us trigger. Every event still fires through `Event.trigger` (EventData,
conditions, callbacks, exit, set_state, enter); `tests/statemachine/test_machine.py` runs a
machine with every kind of callback through both and compares what each calls, in order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Protocol

from transitions import Machine, MachineError, State, Transition

from .errors import InvalidTransition
from .statuses import ACTIVE_STATUSES, JobEvent, JobStatus, ProjectEvent, ProjectStatus

__all__ = [
    "JOB_TRANSITIONS",
    "PROJECT_TRANSITIONS",
    "Stateful",
    "allowed_events",
    "build_machine",
    "fire_job_event",
    "fire_project_event",
    "job_edges",
    "job_machine",
    "project_machine",
]


class Stateful(Protocol):
    id: str
    state: str


_ACTIVE_IN_ORDER = [s.value for s in JobStatus if s in ACTIVE_STATUSES]

# (event, sources, destination): API.md part B, "Lifecycle".
JOB_TRANSITIONS: tuple[tuple[JobEvent, tuple[str, ...], JobStatus], ...] = (
    (JobEvent.PROVISION, ("provisioning",), JobStatus.AWAITING_UPLOADS),
    (JobEvent.START_UPLOAD, ("awaiting_uploads",), JobStatus.UPLOADING),
    (JobEvent.COMPLETE_UPLOADS, ("uploading",), JobStatus.PREFLIGHTING),
    (JobEvent.PASS_PREFLIGHT, ("preflighting",), JobStatus.PROCESSING),
    (JobEvent.BLOCK, ("preflighting", "processing"), JobStatus.BLOCKED_INSUFFICIENT_CREDITS),
    (JobEvent.RESUME, ("blocked_insufficient_credits",), JobStatus.PREFLIGHTING),
    (JobEvent.COMPLETE, ("processing",), JobStatus.COMPLETED),
    (JobEvent.COMPLETE_WITH_ERRORS, ("processing",), JobStatus.COMPLETED_WITH_ERRORS),
    (JobEvent.FAIL, ("preflighting", "processing"), JobStatus.FAILED),
    (JobEvent.CANCEL, tuple(_ACTIVE_IN_ORDER), JobStatus.CANCELLED),
    (JobEvent.EXPIRE, tuple(_ACTIVE_IN_ORDER), JobStatus.EXPIRED),
)

PROJECT_TRANSITIONS: tuple[tuple[ProjectEvent, tuple[str, ...], ProjectStatus], ...] = (
    (ProjectEvent.PROVISION, ("provisioning",), ProjectStatus.READY),
)


class QuietState(State):
    """transitions' State without the debug and info line it logs on every enter and exit."""

    def enter(self, event_data: Any) -> None:
        event_data.machine.callbacks(self.on_enter, event_data)

    def exit(self, event_data: Any) -> None:
        event_data.machine.callbacks(self.on_exit, event_data)


class QuietTransition(Transition):
    """transitions' Transition; `execute` is its own (0.9.0-0.9.3) minus four debug lines."""

    def execute(self, event_data: Any) -> bool:
        machine = event_data.machine
        machine.callbacks(self.prepare, event_data)
        if not self._eval_conditions(event_data):
            return False
        machine.callbacks(itertools.chain(machine.before_state_change, self.before), event_data)
        if self.dest:  # None: an internal transition, no change of state
            self._change_state(event_data)
        machine.callbacks(itertools.chain(self.after, machine.after_state_change), event_data)
        return True


class QuietMachine(Machine):
    """`transitions.Machine` with the quiet State and Transition (see the module docstring)."""

    state_cls = QuietState
    transition_cls = QuietTransition


def build_machine(
    table: tuple[tuple[Any, tuple[str, ...], Any], ...],
    states: list[str],
    machine_cls: type[Machine] = QuietMachine,
) -> Machine:
    """One shared `Machine(model=None)` for `table`; `machine_cls=Machine` gives transitions'
    stock class with the same configuration (the benchmark's baseline)."""
    return machine_cls(
        model=None,
        states=states,
        transitions=[
            {"trigger": str(event), "source": list(sources), "dest": str(dest)}
            for event, sources, dest in table
        ],
        initial=states[0],
        auto_transitions=False,
        send_event=False,
    )


job_machine: Machine = build_machine(JOB_TRANSITIONS, [s.value for s in JobStatus])
project_machine: Machine = build_machine(PROJECT_TRANSITIONS, [s.value for s in ProjectStatus])

_JOB_TRIGGERS: dict[str, Callable[..., bool]] = {
    name: event.trigger for name, event in job_machine.events.items()
}
_PROJECT_TRIGGERS: dict[str, Callable[..., bool]] = {
    name: event.trigger for name, event in project_machine.events.items()
}


def _allowed(machine: Machine, status: str) -> list[str]:
    return [name for name, ev in machine.events.items() if status in ev.transitions]


_JOB_ALLOWED: dict[str, tuple[str, ...]] = {
    s.value: tuple(_allowed(job_machine, s.value)) for s in JobStatus
}
_PROJECT_ALLOWED: dict[str, tuple[str, ...]] = {
    s.value: tuple(_allowed(project_machine, s.value)) for s in ProjectStatus
}


def allowed_events(status: str, *, kind: str = "job") -> tuple[str, ...]:
    """The events the machine accepts in `status` (empty for terminal statuses)."""
    table = _JOB_ALLOWED if kind == "job" else _PROJECT_ALLOWED
    return table.get(status, ())


def fire_job_event(job: Stateful, event: str) -> None:
    """Fire `event` on `job` through the shared job machine; InvalidTransition if forbidden."""
    trigger = _JOB_TRIGGERS.get(event)
    if trigger is None:
        raise InvalidTransition(
            object_id=job.id, event=event, status=job.state, allowed=_JOB_ALLOWED[job.state]
        )
    try:
        trigger(job)
    except MachineError:
        raise InvalidTransition(
            object_id=job.id, event=event, status=job.state, allowed=_JOB_ALLOWED[job.state]
        ) from None


def fire_project_event(project: Stateful, event: str) -> None:
    trigger = _PROJECT_TRIGGERS.get(event)
    try:
        if trigger is None:
            raise MachineError(event)
        trigger(project)
    except MachineError:
        raise InvalidTransition(
            object_id=project.id,
            event=event,
            status=project.state,
            allowed=_PROJECT_ALLOWED[project.state],
            kind="project",
        ) from None


def job_edges() -> list[tuple[str, str, str]]:
    """Every (source, destination, event) edge of the job machine, in table order."""
    return [
        (src, str(dest), str(event)) for event, sources, dest in JOB_TRANSITIONS for src in sources
    ]
