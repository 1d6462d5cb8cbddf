"""Errors raised by the statemachine package.

StateMachineError
 +-- InvalidTransition   the machine forbids an event in the object's status
 +-- CommandRejected     an engine command cannot run now (uploads closed, project not ready, ...)
 +-- ScenarioError       a scenario (file or inline object) is invalid
 +-- UnknownScenario     a scenario name that is neither built in nor registered
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CommandRejected",
    "InvalidTransition",
    "ScenarioError",
    "StateMachineError",
    "UnknownScenario",
]


class StateMachineError(Exception):
    """Base of every error this package raises."""


class InvalidTransition(StateMachineError):
    """An event that the machine does not allow in the object's current status."""

    def __init__(
        self, *, object_id: str, event: str, status: str, allowed: Iterable[str], kind: str = "job"
    ) -> None:
        self.object_id = object_id
        self.event = event
        self.status = status
        self.kind = kind
        self.allowed = tuple(sorted(allowed))
        if self.allowed:
            hint = f"status {status} allows: {', '.join(self.allowed)}"
        else:
            hint = f"status {status} is terminal and allows no event"
        super().__init__(f"cannot {event} {kind} {object_id}: {hint}")


class CommandRejected(StateMachineError):
    """A command the engine refuses in the current state; `code` is the API error code."""

    def __init__(self, *, code: str, message: str, object_id: str, status: str) -> None:
        self.code = code
        self.object_id = object_id
        self.status = status
        super().__init__(message)


class ScenarioError(StateMachineError):
    """A scenario that does not validate; names the source (file or 'inline') and the field."""

    def __init__(self, *, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.detail = message
        super().__init__(f"{source}: {field}: {message}")


class UnknownScenario(StateMachineError):
    def __init__(self, *, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        super().__init__(f"unknown scenario {name!r}; known scenarios: {', '.join(self.known)}")
