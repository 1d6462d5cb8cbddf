"""The one registry of contract rules.

Every rule the product judges is one entry of `RULES`: its id, the family of code it judges (an
integrator's client, whole workflow, or webhook receiver), the text a developer needs to fix the
code, and where the obligation comes from (documented by Plangrep, or defined by the mock). The
server's violation log and every checker (`check_client`, `check_workflow`, `check_receiver`)
name rules from this table only, so a report and the docs cannot drift apart.

The rules that both the server and the checkers judge have their one judging function here:
over `Seen` (what one API key has been shown of one job), `SeenIndex` (what one key was told of
one project's search index), `Creates` (one key's job creations in one project) and
`RetryAfters` (the Retry-After one key was given, per call). The server feeds
them the requests it answers (`GET /_mock/violations`); the checkers feed them every request they
see, faults included. Each side words its report (the server in absolute terms, a checker
relative to the start of the example); the verdict is this module's. The rules only a checker can
judge (it alone knows the files a workflow was given, what a webhook receiver verified, what a
workflow returned) have their judging function here too where one exists, marked `server=False`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from statemachine import RESULT_STATUSES, TERMINAL_STATUSES, JobStatus

__all__ = [
    "BLOCKED",
    "DUPLICATE_WINDOW",
    "EPS",
    "FALLBACK_WINDOW",
    "POLL_INTERVAL",
    "RESULT_STATUSES",
    "RETRY_MAX_ATTEMPTS",
    "RETRY_MIN_PAUSE",
    "RETRY_QUICK_RUN",
    "RULES",
    "Creates",
    "FailureRun",
    "Family",
    "Finding",
    "RetryAfters",
    "Rule",
    "Seen",
    "SeenIndex",
    "Source",
    "call_key",
    "create_fingerprint",
    "is_poll",
    "judge_cancel",
    "judge_complete",
    "judge_create",
    "judge_index_retry",
    "judge_poll",
    "judge_result",
    "judge_resume",
    "judge_retry_after",
    "judge_retry_storm",
    "judge_uploads",
    "rule",
    "rules",
]

POLL_INTERVAL = 5.0  # Plangrep: never poll one job more often than every 5 s
# an interval of exactly the floor is allowed, whatever the float error of the clock
EPS = 1e-3
BLOCKED = JobStatus.BLOCKED_INSUFFICIENT_CREDITS
# a create that repeats one whose answer was lost, this soon after it, is a retry (virtual s)
DUPLICATE_WINDOW = 3600.0
# retrying one call: a pause shorter than this is no back-off; this many such retries in a row,
# or this many attempts at one call in a row at all, is a storm
RETRY_MIN_PAUSE = 1.0
RETRY_QUICK_RUN = 3
RETRY_MAX_ATTEMPTS = 10
# a job terminal this long without the waiting code finding out (no poll, no verified webhook)
FALLBACK_WINDOW = 300.0
_JOB_ROUTE = "/api/open/v1/jobs/"


@dataclass(slots=True)
class Seen:
    """What one API key has been shown of one job, in virtual time."""

    last_poll: float | None = None  # the last poll that counts for the interval
    retry_until: float = 0.0  # the deadline the last poll's answer set with Retry-After
    terminal_served: tuple[str, float] | None = None  # the first terminal status a poll served
    terminal_shown: bool = False  # another answer (cancel) showed a terminal status
    last_status: str | None = None  # the status last shown (a poll, a cancel, a resume, a 409)
    completed_at: float | None = None  # when this key's complete of the job was accepted
    complete_key: str | None = None  # ... and the Idempotency-Key it carried

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

    def completed(self, at: float, key: str | None) -> None:
        """This key's complete of the job was accepted (whether or not its answer arrived)."""
        if self.completed_at is None:
            self.completed_at = at
            self.complete_key = key


@dataclass(slots=True)
class Creates:
    """One API key's job creations in one project whose answer was lost: the server committed
    the job, the client never saw it (job id -> (created at, what the create asked for))."""

    lost: dict[str, tuple[float, object]] = field(default_factory=dict)

    def answer_lost(self, job_id: str, at: float, what: object) -> None:
        """The answer that named `job_id` (created at `at`, see `create_fingerprint`) was lost."""
        self.lost[job_id] = (at, what)

    def answered(self, job_id: str) -> None:
        """The client was shown `job_id` after all (an idempotent replay of its create)."""
        self.lost.pop(job_id, None)


@dataclass(slots=True)
class RetryAfters:
    """The Retry-After one API key was given, per call (`call_key`): (answered at, seconds)."""

    asked: dict[str, tuple[float, float]] = field(default_factory=dict)

    def answered(self, call: str, at: float, retry_after: float) -> None:
        """`call` was answered at `at`; `retry_after` > 0 if its answer carried Retry-After."""
        if retry_after > 0:
            self.asked[call] = (at, retry_after)
        else:
            self.asked.pop(call, None)


@dataclass(slots=True)
class FailureRun:
    """The attempts at one call in a row that failed transiently (5xx, 429, no answer)."""

    attempts: int = 0  # attempts so far in this run (the failed ones)
    quick: int = 0  # retries in a row sent sooner than RETRY_MIN_PAUSE after a failure
    last_failed_at: float = 0.0

    def failed(self, at: float) -> None:
        self.attempts += 1
        self.last_failed_at = at


def call_key(method: str, path: str) -> str:
    """One call's identity for Retry-After and retries: its method and path (no query)."""
    return f"{method} {path}"


def is_poll(method: str, path: str) -> bool:
    """`GET /jobs/{jobId}`: the polls `judge_poll` judges (Retry-After included)."""
    return (
        method in ("GET", "HEAD")
        and path.startswith(_JOB_ROUTE)
        and "/" not in path[len(_JOB_ROUTE) :]
    )


def create_fingerprint(external_id: str | None, webhook_url: str | None) -> object:
    """What a create asked for, to tell a retry of it from a new submission."""
    return (external_id, webhook_url)


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule broken by one request, with the facts a report words it from."""

    rule: str
    facts: Mapping[str, Any]


def judge_poll(
    seen: Seen, at: float, *, interval: float = POLL_INTERVAL, tolerance: float = 0.0
) -> list[Finding]:
    """A poll of the job arriving at `at`: after a terminal status it served, or sooner than
    `interval` after the last poll or than the Retry-After that poll's answer asked for.
    `tolerance`: seconds a poll may come early (scheduler jitter on a scaled realtime clock)."""
    found: list[Finding] = []
    if seen.terminal_served is not None:
        served, when = seen.terminal_served
        found.append(Finding("poll_after_terminal", {"served": served, "servedAt": when}))
    if seen.last_poll is not None:
        gap = at - seen.last_poll
        floor = max(interval, seen.retry_until - seen.last_poll)
        if gap < floor - max(EPS, tolerance):
            found.append(
                Finding(
                    "polling_too_fast",
                    {
                        "gap": gap,
                        "floor": floor,
                        "interval": interval,
                        "tolerance": max(EPS, tolerance),
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
    if current_status != BLOCKED and seen.last_status != BLOCKED:
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


def judge_result(status: str) -> Finding | None:
    """A request for the result of a job whose status has none (only completed and
    completed_with_errors have one; a terminal status is frozen, so no race can excuse it)."""
    if status not in RESULT_STATUSES:
        return Finding("result_not_available", {"status": status})
    return None


def judge_complete(seen: Seen, key: str | None) -> Finding | None:
    """A complete of a job whose complete this key already got accepted, not replayed with the
    same Idempotency-Key (a replay answers the first answer again and changes nothing)."""
    if seen.completed_at is None or (key is not None and key == seen.complete_key):
        return None
    return Finding(
        "complete_repeated",
        {
            "completedAt": seen.completed_at,
            "firstKey": seen.complete_key,
            "key": key,
        },
    )


def judge_create(creates: Creates, at: float, what: object) -> Finding | None:
    """A new job made by a create that repeats one whose answer was lost (same request, within
    `DUPLICATE_WINDOW`): a retry that did not reuse the Idempotency-Key."""
    for job_id, (when, asked) in creates.lost.items():
        if asked == what and at - when <= DUPLICATE_WINDOW:
            return Finding("duplicate_job", {"first": job_id, "firstAt": when})
    return None


def judge_retry_after(
    asked: RetryAfters, method: str, path: str, at: float, *, tolerance: float = 0.0
) -> Finding | None:
    """A call sent again before the Retry-After its last answer asked for had elapsed (polls
    excepted: `judge_poll` judges them, Retry-After included). `tolerance`: seconds a call may
    come early (timer jitter on a scaled realtime clock, as for `judge_poll`)."""
    if not asked.asked or is_poll(method, path):
        return None
    prior = asked.asked.get(call_key(method, path))
    if prior is None:
        return None
    answered_at, retry_after = prior
    gap = at - answered_at
    if gap < retry_after - max(EPS, tolerance):
        return Finding(
            "retry_after_ignored",
            {"call": call_key(method, path), "gap": gap, "retryAfter": retry_after,
             "answeredAt": answered_at},
        )  # fmt: skip
    return None


def judge_retry_storm(run: FailureRun, at: float, *, tolerance: float = 0.0) -> Finding | None:
    """Another attempt at a call whose last `run.attempts` attempts failed: a storm when it
    makes more than `RETRY_MAX_ATTEMPTS` in a row, or the `RETRY_QUICK_RUN`-th retry in a row
    sent sooner than `RETRY_MIN_PAUSE` after the failure before it (no back-off). It counts
    this attempt's pause into `run.quick`, so call it once per attempt. `tolerance`: seconds a
    pause may come up short (timer jitter on a scaled realtime clock)."""
    if run.attempts <= 0:
        return None
    pause = at - run.last_failed_at
    quick = run.quick + 1 if pause < RETRY_MIN_PAUSE - max(EPS, tolerance) else 0
    run.quick = quick
    if run.attempts + 1 > RETRY_MAX_ATTEMPTS or quick >= RETRY_QUICK_RUN:
        return Finding(
            "retry_storm",
            {"attempt": run.attempts + 1, "pause": pause, "quick": quick},
        )
    return None


def judge_uploads(
    given: Sequence[tuple[str, int]], stored: Sequence[tuple[str, int]]
) -> Finding | None:
    """A complete of a job that does not hold exactly the files it was given (name, size): one
    missing (never stored) or one stored twice (a retried upload that was not deduplicated)."""
    missing = Counter(given) - Counter(stored)
    twice = Counter(stored) - Counter(given)
    if not missing and not twice:
        return None
    return Finding(
        "upload_incomplete",
        {"missing": sorted(missing.elements()), "twice": sorted(twice.elements())},
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
    # -- workflows: submit, upload, complete, wait, fetch the result (check_workflow) ----------
    Rule(
        "duplicate_job",
        "workflow",
        "create one job per submission: retry a create whose answer was lost with the same "
        "Idempotency-Key (the server records a new job that repeats a create whose answer it "
        "lost, within an hour; check_workflow flags any second job of one submission)",
        "plangrep",
        server=True,
        judge=judge_create,
    ),
    Rule(
        "upload_incomplete",
        "workflow",
        "complete the uploads only once every given file is stored, each exactly once (retry "
        "a form upload with the same clientUploadFlowId); only the kits judge it (check_workflow, "
        "plangrep-mock check --mode workflow): the server does not know which files the code "
        "meant to send",
        "plangrep",
        judge=judge_uploads,
    ),
    Rule(
        "complete_repeated",
        "workflow",
        "complete a job's uploads once: retry a complete whose answer was lost with the same "
        "Idempotency-Key",
        "plangrep",
        server=True,
        judge=judge_complete,
    ),
    Rule(
        "retry_after_ignored",
        "workflow",
        "send a call again only after the Retry-After its 429 or 503 answer asked for (polls: "
        "see polling_too_fast)",
        "mock",
        server=True,
        judge=judge_retry_after,
    ),
    Rule(
        "retry_storm",
        "workflow",
        f"retry a failed call with growing pauses and a bound: never {RETRY_QUICK_RUN} retries "
        f"in a row sooner than {RETRY_MIN_PAUSE:g} s after the failure, never more than "
        f"{RETRY_MAX_ATTEMPTS} attempts at one call in a row; only the kits judge it (the "
        "server sees one key's concurrent calls interleaved)",
        "mock",
        judge=judge_retry_storm,
    ),
    Rule(
        "no_polling_fallback",
        "workflow",
        "do not rely on webhooks alone: failed deliveries may not be retried, so poll as a "
        f"fallback; a job terminal for {FALLBACK_WINDOW:g} s that the code neither polled nor "
        "got a verified webhook about is a wait that never ends (only the kits judge it)",
        "plangrep",
    ),
    Rule(
        "forged_webhook_trusted",
        "workflow",
        "act only on webhooks whose signature verifies with the job's webhookSigningSecret: "
        "never fetch a result, return, resume or cancel because of a delivery that does not "
        "verify (only the kits judge it: the server cannot see what the code trusted)",
        "plangrep",
    ),
    Rule(
        "result_not_available",
        "workflow",
        "fetch GET /jobs/{jobId}/result only for a job that is completed or completed_with_errors",
        "plangrep",
        server=True,
        judge=judge_result,
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
