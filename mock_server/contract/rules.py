"""The one registry of contract rules.

Every rule the product judges is one entry of `RULES`: its id, the family of code it judges (an
integrator's client, whole workflow, or webhook receiver), the text a developer needs to fix the
code, and where the obligation comes from (documented by Plangrep, or defined by the mock). The
server's violation log and every checker (`check_client`, `check_workflow`, `check_receiver`)
name rules from this table only, so a report and the docs cannot drift apart.

The rules about one job that both the server and the checkers judge have their one judging
function here, over `Seen`: what one API key has been shown of one job (and, for source search,
over `SeenIndex`: what one key was told of one project's search index). The server feeds it the
requests it answers (`GET /_mock/violations`); the checkers feed it every request they see,
faults included. Each side words its report (the server in absolute terms, a checker relative to
the start of the example); the verdict is this module's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from statemachine import TERMINAL_STATUSES, JobStatus

__all__ = [
    "EPS",
    "POLL_INTERVAL",
    "RULES",
    "Family",
    "Finding",
    "Rule",
    "Seen",
    "SeenIndex",
    "Source",
    "judge_cancel",
    "judge_index_retry",
    "judge_poll",
    "judge_resume",
    "rule",
    "rules",
]

POLL_INTERVAL = 5.0  # Plangrep: never poll one job more often than every 5 s
# an interval of exactly the floor is allowed, whatever the float error of the clock
EPS = 1e-3
_BLOCKED = JobStatus.BLOCKED_INSUFFICIENT_CREDITS


@dataclass(slots=True)
class Seen:
    """What one API key has been shown of one job, in virtual time."""

    last_poll: float | None = None  # the last poll that counts for the interval
    retry_until: float = 0.0  # the deadline the last poll's answer set with Retry-After
    terminal_served: tuple[str, float] | None = None  # the first terminal status a poll served
    terminal_shown: bool = False  # another answer (cancel) showed a terminal status
    last_status: str | None = None  # the status last shown (a poll, a cancel, a resume, a 409)

    def polled(self, at: float, *, status: str | None, retry_after: float = 0.0) -> None:
        """A poll was answered: `status` the job status it showed (None: no job in the answer),
        `retry_after` the seconds its Retry-After asked for."""
        self.last_poll = at
        self.retry_until = at + retry_after if retry_after > 0 else 0.0
        if status is not None:
            self.last_status = status
            if status in TERMINAL_STATUSES and self.terminal_served is None:
                self.terminal_served = (status, at)

    def shown(self, status: str) -> None:
        """An answer other than a poll (cancel, resume, a 409's currentStatus) showed this."""
        self.last_status = status
        if status in TERMINAL_STATUSES:
            self.terminal_shown = True


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule broken by one request, with the facts a report words it from."""

    rule: str
    facts: Mapping[str, Any]


def judge_poll(seen: Seen, at: float, *, interval: float = POLL_INTERVAL) -> list[Finding]:
    """A poll of the job arriving at `at`: after a terminal status it served, or sooner than
    `interval` after the last poll or than the Retry-After that poll's answer asked for."""
    found: list[Finding] = []
    if seen.terminal_served is not None:
        served, when = seen.terminal_served
        found.append(Finding("poll_after_terminal", {"served": served, "servedAt": when}))
    if seen.last_poll is not None:
        gap = at - seen.last_poll
        floor = max(interval, seen.retry_until - seen.last_poll)
        if gap < floor - EPS:
            found.append(
                Finding(
                    "polling_too_fast",
                    {
                        "gap": gap,
                        "floor": floor,
                        "interval": interval,
                        "lastPoll": seen.last_poll,
                        "retryAfter": seen.retry_until - seen.last_poll
                        if seen.retry_until
                        else 0.0,
                        # whole seconds until the next poll is welcome (Retry-After)
                        "wait": max(1, math.ceil(floor - gap - 1e-9)),
                    },
                )
            )
    return found


def judge_resume(seen: Seen, current_status: str) -> Finding | None:
    """A resume of a job that is not blocked, by a key that was not last shown it blocked (one
    that was raced with another resume: not its fault)."""
    if current_status != _BLOCKED and seen.last_status != _BLOCKED:
        return Finding(
            "resume_not_blocked", {"status": current_status, "lastShown": seen.last_status}
        )
    return None


def judge_cancel(seen: Seen, current_status: str) -> Finding | None:
    """A cancel of a terminal job by a key that had been shown its terminal status (a cancel
    racing with the job's own ending is not the client's fault)."""
    if current_status in TERMINAL_STATUSES and (
        seen.terminal_served is not None or seen.terminal_shown
    ):
        served = seen.terminal_served
        return Finding(
            "cancel_not_cancellable",
            {
                "status": current_status,
                "served": served[0] if served else current_status,
                "servedAt": served[1] if served else None,
            },
        )
    return None


@dataclass(slots=True)
class SeenIndex:
    """What one API key was last told of one project's search index, in virtual time."""

    refused_at: float | None = None  # the last source search answered 409 index_not_ready
    retry_until: float = 0.0  # ... and when its Retry-After said to come back

    def answered(self, at: float, *, retry_after: float = 0.0) -> None:
        """A source search was answered at `at`: a 409 asking to retry after `retry_after`
        seconds, or (0) results."""
        if retry_after > 0:
            self.refused_at = at
            self.retry_until = at + retry_after
        else:
            self.refused_at = None
            self.retry_until = 0.0


def judge_index_retry(seen: SeenIndex, at: float) -> Finding | None:
    """A source search arriving at `at` sooner than the Retry-After of the 409
    index_not_ready this key was last answered for the project."""
    if seen.refused_at is None or at >= seen.retry_until - EPS:
        return None
    return Finding(
        "index_retry_too_fast",
        {
            "gap": at - seen.refused_at,
            "retryAfter": seen.retry_until - seen.refused_at,
            "refusedAt": seen.refused_at,
            "wait": max(1, math.ceil(seen.retry_until - at - 1e-9)),
        },
    )


Family = Literal["client", "workflow", "receiver"]
Source = Literal["plangrep", "mock"]


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: `text` says what is asked, in words that tell a developer what to fix."""

    id: str
    family: Family
    text: str
    source: Source
    # also judged by the running server (recorded in GET /_mock/violations)
    server: bool = False
    # the one function that judges it, where one request decides (see the module docstring)
    judge: Callable[..., Any] | None = None


_ALL: tuple[Rule, ...] = (
    # -- clients: the code that waits for a job ------------------------------------------------
    Rule(
        "polling_too_fast",
        "client",
        "never poll one job more often than once per 5 s (and wait at least Retry-After after "
        "a 429 or 503)",
        "plangrep",
        server=True,
        judge=judge_poll,
    ),
    Rule(
        "wrong_result",
        "client",
        "return only a terminal job, the one the server reached; give up with an error only "
        "after waiting a reasonable time",
        "plangrep",
    ),
    Rule(
        "poll_after_terminal",
        "client",
        "never poll a job again after it was served a terminal status",
        "plangrep",
        server=True,
        judge=judge_poll,
    ),
    Rule(
        "resume_not_blocked",
        "client",
        "never resume a job that is not blocked_insufficient_credits",
        "plangrep",
        server=True,
        judge=judge_resume,
    ),
    Rule(
        "cancel_not_cancellable",
        "client",
        "never cancel a job after it was served a terminal status",
        "plangrep",
        server=True,
        judge=judge_cancel,
    ),
    Rule(
        "unbounded",
        "client",
        "give up with an error rather than wait or retry without bound",
        "mock",
    ),
    # -- workflows: what an integration does around its jobs ---------------------------------
    Rule(
        "index_retry_too_fast",
        "workflow",
        "after a source search answered 409 index_not_ready, wait at least its Retry-After "
        "before searching that project again (Plangrep: retry after a short wait, 5-10 s)",
        "mock",
        server=True,
        judge=judge_index_retry,
    ),
    # recorded by the server only (the contract kit creates the job itself)
    Rule(
        "job_create_on_unready_project",
        "client",
        "create jobs only once the project is ready",
        "plangrep",
        server=True,
    ),
    # -- receivers: the integrator's webhook endpoint (judged by check_receiver) -------------
    Rule(
        "valid_rejected",
        "receiver",
        "answer 2xx to every delivery that verifies with the job's secret, whatever its bytes: "
        "verify the raw body exactly as received (never re-serialized JSON), try every "
        "`v1,` signature in the space-separated list and skip unknown versions; acknowledge "
        "an older status that arrives late too (2xx, then ignore it)",
        "plangrep",
    ),
    Rule(
        "forged_accepted",
        "receiver",
        "answer 4xx (400, 401 or 403) to a delivery whose signature does not verify: sign "
        "`webhook-id.webhook-timestamp.body` with the base64-decoded secret (the part after "
        "`wss_`), compare in constant time, and reject a missing header, an empty or malformed "
        "signature, a changed body, id or timestamp",
        "mock",
    ),
    Rule(
        "stale_accepted",
        "receiver",
        "reject (4xx) a delivery whose `webhook-timestamp` is more than 5 minutes in the past, "
        "even when its signature verifies: an old captured delivery must not be replayable",
        "mock",
    ),
    Rule(
        "future_accepted",
        "receiver",
        "reject (4xx) a delivery whose `webhook-timestamp` is more than 5 minutes in the "
        "future, even when its signature verifies (a timestamp in milliseconds is one)",
        "mock",
    ),
    Rule(
        "crash_on_bad_input",
        "receiver",
        "answer a malformed or forged delivery with a 4xx, promptly: never a 5xx, a reset "
        "connection or a hang (catch every error of parsing and verification, including the "
        "library's ValueError and a body that is not UTF-8)",
        "mock",
    ),
    Rule(
        "duplicate_rejected",
        "receiver",
        "answer 2xx to a delivery whose `webhook-id` was already processed (a retry: fresh "
        "timestamp and signature, same id) and do not process it twice",
        "mock",
    ),
    Rule(
        "slow_ack",
        "receiver",
        "acknowledge a valid delivery with 2xx within the threshold (default 5 s): queue slow "
        "work and answer first, or the sender times out and counts the delivery as failed",
        "plangrep",
    ),
    Rule(
        "state_regressed",
        "receiver",
        "keep the newest status of a job (highest `data.sequence`): an older status delivered "
        "after a newer one must not overwrite it",
        "mock",
    ),
)

RULES: Mapping[str, Rule] = {r.id: r for r in _ALL}


def rule(rule_id: str) -> Rule:
    """The rule named `rule_id`; a `KeyError` that lists the known ids otherwise."""
    found = RULES.get(rule_id)
    if found is None:
        raise KeyError(f"unknown contract rule {rule_id!r}; known rules: {', '.join(RULES)}")
    return found


def rules(family: Family | None = None, *, server: bool | None = None) -> list[Rule]:
    """The rules of one family (all when None), optionally only those the server records."""
    return [
        r
        for r in _ALL
        if (family is None or r.family == family) and (server is None or r.server == server)
    ]
