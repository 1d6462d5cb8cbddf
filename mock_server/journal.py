"""The request journal and the violation log (`GET /_mock/requests`, `/_mock/violations`)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, NamedTuple

from statemachine import format_time

from .contract.rules import rules

__all__ = ["VIOLATION_RULES", "Journal", "JournalEntry", "Violation", "ViolationLog"]

VIOLATION_RULES: tuple[str, ...] = tuple(r.id for r in rules(server=True))


class JournalEntry(NamedTuple):
    """One answered public request (a tuple: built on every request, so kept cheap)."""

    method: str
    path: str
    status: int
    api_key: str | None
    job_id: str | None
    project_id: str | None
    at: float  # virtual time
    wall_time: float
    error_code: str | None
    duration_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "apiKey": self.api_key,
            "jobId": self.job_id,
            "projectId": self.project_id,
            "at": format_time(self.at),
            "wallTime": format_time(self.wall_time),
            "errorCode": self.error_code,
            "durationMs": round(self.duration_ms, 3),
        }


class Journal:
    """A bounded log of public requests, oldest first; `dropped` counts what fell off."""

    def __init__(self, maxlen: int) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=maxlen)
        self.total = 0

    def record(self, entry: JournalEntry) -> None:
        self._entries.append(entry)
        self.total += 1

    @property
    def dropped(self) -> int:
        return self.total - len(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self._entries)

    def recent(self, n: int) -> list[JournalEntry]:
        """The last `n` entries still kept, newest first."""
        return list(islice(reversed(self._entries), max(0, n)))

    def clear(self) -> None:
        self._entries.clear()
        self.total = 0


@dataclass(frozen=True, slots=True)
class Violation:
    """A breach of Plangrep's documented client contract, in words a person understands."""

    rule: str
    job_id: str | None
    api_key: str | None
    at: float
    message: str
    project_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "jobId": self.job_id,
            "projectId": self.project_id,
            "apiKey": self.api_key,
            "at": format_time(self.at),
            "message": self.message,
        }


class ViolationLog:
    def __init__(self) -> None:
        self._items: list[Violation] = []

    def record(
        self,
        rule: str,
        *,
        at: float,
        message: str,
        job_id: str | None = None,
        api_key: str | None = None,
        project_id: str | None = None,
    ) -> Violation:
        if rule not in VIOLATION_RULES:
            raise ValueError(
                f"unknown violation rule {rule!r}; known: {', '.join(VIOLATION_RULES)}"
            )
        v = Violation(rule, job_id, api_key, at, message, project_id)
        self._items.append(v)
        return v

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Violation]:
        return iter(list(self._items))

    def clear(self) -> None:
        self._items.clear()
