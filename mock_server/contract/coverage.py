"""Coverage of the job machine: which statuses, events, transitions and webhook delivery outcomes
a test session (`pytest --plangrep-coverage`) or a `check_client` run exercised, and which
never did."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from statemachine import JobEvent, JobStatus, job_edges

__all__ = ["DELIVERY_OUTCOMES", "MachineCoverage"]

# what can happen to one webhook delivery attempt (see mock_server.webhooks.dispatcher)
DELIVERY_OUTCOMES: tuple[str, ...] = (
    "delivered",
    "http_error",
    "refused",
    "timeout",
    "reset",
    "dropped",
    "duplicate",
    "retried",
    "redelivered",
    "disabled_410",
)


class MachineCoverage:
    """Counts what was exercised; `table()` shows it beside what never was."""

    def __init__(self) -> None:
        self.statuses: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.edges: Counter[tuple[str, str, str]] = Counter()  # (from, event, to)
        self.delivery_outcomes: Counter[str] = Counter()
        self.jobs = 0

    # -- feeding ----------------------------------------------------------------

    def add_transition(self, src: str, event: str, dst: str) -> None:
        self.statuses[dst] += 1
        self.events[event] += 1
        self.edges[(src, event, dst)] += 1

    def add_job_history(self, history: Iterable[Any]) -> None:
        """One job's history: `TransitionRecord`s or `{"from", "event", "to"}` mappings."""
        self.jobs += 1
        first = True
        for rec in history:
            if isinstance(rec, Mapping):
                src, event, dst = str(rec["from"]), str(rec["event"]), str(rec["to"])
            else:
                src, event, dst = rec.src, rec.event, rec.dst
            if first:
                self.statuses[src] += 1  # the status the job was created in
                first = False
            self.add_transition(src, event, dst)

    def add_delivery(self, delivery: Mapping[str, Any]) -> None:
        """One delivery as `GET /_mock/webhooks/deliveries` shows it."""
        for attempt in delivery.get("attempts", ()):
            self.delivery_outcomes[_attempt_outcome(attempt)] += 1
            kind = attempt.get("kind")
            if kind == "retry":
                self.delivery_outcomes["retried"] += 1
            elif kind == "redelivery":
                self.delivery_outcomes["redelivered"] += 1
            elif kind == "duplicate":
                self.delivery_outcomes["duplicate"] += 1
        if delivery.get("state") == "disabled":
            self.delivery_outcomes["disabled_410"] += 1

    def merge(self, other: MachineCoverage) -> None:
        self.statuses.update(other.statuses)
        self.events.update(other.events)
        self.edges.update(other.edges)
        self.delivery_outcomes.update(other.delivery_outcomes)
        self.jobs += other.jobs

    # -- reading ----------------------------------------------------------------

    def missing(self) -> dict[str, list[str]]:
        """What was never exercised, by kind."""
        return {
            "statuses": [s.value for s in JobStatus if not self.statuses[s.value]],
            "events": [e.value for e in JobEvent if not self.events[e.value]],
            "transitions": [
                f"{src} --{event}--> {dst}"
                for src, dst, event in job_edges()
                if not self.edges[(src, event, dst)]
            ],
            "delivery outcomes": [o for o in DELIVERY_OUTCOMES if not self.delivery_outcomes[o]],
        }

    def _outcome_names(self) -> list[str]:
        extra = sorted(set(self.delivery_outcomes) - set(DELIVERY_OUTCOMES))
        return [*DELIVERY_OUTCOMES, *extra]

    def table(self, *, title: str = "plangrep-mock: coverage of the job machine") -> str:
        edges = job_edges()
        sections: list[tuple[str, list[tuple[str, int]]]] = [
            ("statuses", [(s.value, self.statuses[s.value]) for s in JobStatus]),
            ("events", [(e.value, self.events[e.value]) for e in JobEvent]),
            (
                "transitions",
                [(f"{src} --{ev}--> {dst}", self.edges[(src, ev, dst)]) for src, dst, ev in edges],
            ),
            (
                "delivery outcomes",
                [(o, self.delivery_outcomes[o]) for o in self._outcome_names()],
            ),
        ]
        width = max(len(name) for _, rows in sections for name, _ in rows) + 2
        lines = [f"{title} ({self.jobs} job(s))"]
        for heading, rows in sections:
            done = sum(1 for _, n in rows if n)
            lines.append(f"{heading}: {done}/{len(rows)} exercised")
            for name, n in rows:
                lines.append(f"  {name:<{width}}{n if n else 'never'}")
        return "\n".join(lines)


def _attempt_outcome(attempt: Mapping[str, Any]) -> str:
    outcome = attempt.get("outcome")
    if outcome in ("delivered", "dropped"):
        return str(outcome)
    if attempt.get("httpStatus") is not None:
        return "http_error"
    return str(attempt.get("error") or "error")
