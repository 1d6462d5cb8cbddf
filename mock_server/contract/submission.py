"""One submission's calls, judged with the rule registry's functions (`plangrep-mock check
--mode workflow`).

A submission is a program that creates a job, uploads the files it was given, completes, waits
and fetches the result. `Submission` keeps what it has been answered (the job it made, the polls,
the Retry-After it was given, the calls that failed in a row, the complete that was accepted,
the result documents it was served, a forged delivery it accepted) and judges each call as it
arrives with the registry's judging functions: `judge_retry_after`, `judge_retry_storm`,
`judge_poll`, `judge_result`, `judge_resume`, `judge_cancel`, `judge_complete`, `judge_uploads`,
and `judge_create` for every further job of the submission. The server judges four of these
rules with the same functions (`duplicate_job`, `complete_repeated`, `retry_after_ignored`,
`result_not_available`); `check_workflow` keeps the same books for an in-process workflow.

It knows no HTTP framework and words nothing: the runner feeds it plain values (`Answer`) and
words its `Finding`s relative to the example's start. Times are virtual seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from statemachine import TERMINAL_STATUSES, UPLOAD_WINDOW

from .rules import (
    BLOCKED,
    EPS,
    RESULT_STATUSES,
    Creates,
    FailureRun,
    Finding,
    RetryAfters,
    Seen,
    call_key,
    is_poll,
    judge_cancel,
    judge_complete,
    judge_create,
    judge_poll,
    judge_result,
    judge_resume,
    judge_retry_after,
    judge_retry_storm,
    judge_uploads,
)

__all__ = ["BLOCKED", "UPLOAD_WINDOW", "Answer", "Submission"]


@dataclass(frozen=True, slots=True)
class Answer:
    """What one call's answer told the submission (nothing, when it was lost) and what the
    server did with the call."""

    status: int  # the HTTP status the submission saw (0: the connection closed, no answer)
    lost: bool = False  # the server committed, then the answer was lost (a fault)
    committed: int | None = None  # the status the server answered (lost answers too)
    served: str | None = None  # the job status a 200 answer showed
    shown: str | None = None  # a 409's currentStatus
    retry_after: float = 0.0  # seconds a 429 or 503 asked for
    idempotent: bool = False  # the server's answer was a replay of an earlier call
    job_id: str | None = None  # the job the answer named (a create's, a replay's)
    result: Any = None  # the result document a 200 to GET /jobs/{jobId}/result carried

    @property
    def failed(self) -> bool:
        """A transient failure: no answer, a 429 or a 5xx."""
        return self.lost or self.status == 0 or self.status == 429 or self.status >= 500


@dataclass(slots=True)
class Submission:
    """What one submission has done and been shown, in virtual time.

    `given`: the files it was given, as (file name, size). `tolerance`: seconds a call may come
    early (timer jitter on a scaled realtime clock) for the poll interval, Retry-After and the
    pause before a retry.
    """

    given: Sequence[tuple[str, int]]
    tolerance: float = EPS
    job_id: str | None = None
    seen: Seen = field(default_factory=Seen)
    creates: Creates = field(default_factory=Creates)
    retries: RetryAfters = field(default_factory=RetryAfters)
    runs: dict[str, FailureRun] = field(default_factory=dict)
    last_run: int = 0  # failed attempts in a row of the last call made
    calls: Counter[str] = field(default_factory=Counter)  # attempts per kind of call
    checks: Counter[str] = field(default_factory=Counter)  # rule id -> times judged
    results: list[Any] = field(default_factory=list)  # result documents it was served
    # the status a forged delivery claims (from when it was sent: a program may act before it
    # answers), until it is refused or a genuine answer settles it
    forged_claim: str | None = None
    forged_at: float = 0.0
    closest_poll: float | None = None  # the smallest gap between two polls that passed

    # -- a call arrives --------------------------------------------------------------------

    def arrive(
        self,
        method: str,
        path: str,
        kind: str,
        at: float,
        *,
        status: str | None,
        key: str | None = None,
        stored: Callable[[], Sequence[tuple[str, int]]] = tuple,
    ) -> Finding | None:
        """Judge a call as it arrives at `at`. `kind`: create, upload, complete, poll, result,
        resume, cancel or other; `status`: the submission's job's status now, when the call
        names that job (else None); `key`: its Idempotency-Key; `stored()`: the job's stored
        files (name, size), asked only when a complete needs them."""
        self.calls[kind] += 1
        if kind == "create":
            self.checks["duplicate_job"] += 1
        call = call_key(method, path)
        if call in self.retries.asked and not is_poll(method, path):
            self.checks["retry_after_ignored"] += 1
        found = judge_retry_after(self.retries, method, path, at, tolerance=self.tolerance)
        if found is not None:
            return found
        run = self.runs.get(call)
        if run is not None:
            self.checks["retry_storm"] += 1
            found = judge_retry_storm(run, at, tolerance=self.tolerance)
            if found is not None:
                return found
        if status is None:
            return None
        if kind == "poll":
            return self._poll(at)
        if kind == "result":
            self.checks["result_not_available"] += 1
            if self.forged_claim in RESULT_STATUSES and status not in RESULT_STATUSES:
                return Finding("forged_webhook_trusted", {"action": "fetched the result of"})
            return judge_result(status)
        if kind in ("resume", "cancel"):
            rule = "resume_not_blocked" if kind == "resume" else "cancel_not_cancellable"
            self.checks[rule] += 1
            if self.forged_claim == BLOCKED and status != BLOCKED:
                return Finding("forged_webhook_trusted", {"action": f"{kind}d"})
            return (judge_resume if kind == "resume" else judge_cancel)(self.seen, status)
        if kind == "complete":
            self.checks["complete_repeated"] += 1
            found = judge_complete(self.seen, key)
            if found is None and status in UPLOAD_WINDOW:
                self.checks["upload_incomplete"] += 1
                found = judge_uploads(self.given, stored())
            return found
        return None

    def _poll(self, at: float) -> Finding | None:
        seen = self.seen
        self.checks["poll_after_terminal"] += 1
        if seen.last_poll is not None:
            self.checks["polling_too_fast"] += 1
        findings = judge_poll(seen, at, tolerance=self.tolerance)
        if seen.last_poll is not None and not any(f.rule == "polling_too_fast" for f in findings):
            gap = at - seen.last_poll
            self.closest_poll = gap if self.closest_poll is None else min(self.closest_poll, gap)
        return findings[0] if findings else None

    # -- its answer ------------------------------------------------------------------------

    def answered(
        self,
        method: str,
        path: str,
        kind: str,
        mine: bool,
        at: float,
        now: float,
        answer: Answer,
        *,
        key: str | None = None,
    ) -> None:
        """Record what the answer to a call that arrived at `at` told the submission (answered
        at `now`); `mine`: the call named the submission's job."""
        if kind == "create" and not answer.lost and answer.job_id is not None:
            self.creates.answered(answer.job_id)  # a replay showed a job whose answer was lost
        if mine and kind == "poll" and not answer.lost:
            # a lost GET was never run by the server (faults/table.py): it is no poll there,
            # nor here
            self.seen.polled(at, status=answer.served, retry_after=answer.retry_after)
            if answer.served is not None:
                self.told(answer.served, at)
        elif mine and kind in ("cancel", "resume") and not answer.lost:
            shown = answer.served or answer.shown
            if shown is not None:
                self.seen.shown(shown)
                self.told(shown, at)
        elif mine and kind == "complete" and answer.committed == 202 and not answer.idempotent:
            self.seen.completed(at, key)  # accepted, whether or not its answer arrived
        elif mine and kind == "result" and not answer.lost and answer.result is not None:
            self.results.append(answer.result)
        call = call_key(method, path)
        if not is_poll(method, path):
            self.retries.answered(call, at, 0.0 if answer.lost else answer.retry_after)
        if answer.failed:
            run = self.runs.setdefault(call, FailureRun())
            run.failed(now)
            self.last_run = run.attempts
        else:
            self.runs.pop(call, None)
            self.last_run = 0

    def job_made(self, job_id: str, at: float, what: object, *, lost: bool) -> Finding | None:
        """A job appeared in the submission's project at `at` (`what`: `create_fingerprint`);
        `lost`: the answer that made it was lost. The first is the submission's; any other is a
        `duplicate_job` (`repeat` says whether it repeats a create whose answer was lost, by
        the registry's `judge_create`)."""
        found: Finding | None = None
        if self.job_id is None:
            self.job_id = job_id
        elif job_id != self.job_id:
            repeat = judge_create(self.creates, at, what)
            found = Finding("duplicate_job", {"job": job_id, "repeat": repeat is not None})
        if lost:
            self.creates.answer_lost(job_id, at, what)
        return found

    # -- webhooks --------------------------------------------------------------------------

    def forged_sent(self, claim: str, at: float) -> None:
        """A forged delivery claiming `claim` is on its way to the submission (sent at `at`)."""
        self.forged_claim = claim
        self.forged_at = at

    def forged_answered(self, claim: str, *, accepted: bool) -> None:
        """... and the submission accepted it (2xx: judged from now on), or refused it (a 4xx,
        or nobody listening: nothing to trust)."""
        if accepted:
            self.checks["forged_webhook_trusted"] += 1
        elif self.forged_claim == claim:
            self.forged_claim = None

    def told(self, status: str, at: float) -> None:
        """A genuine answer (a poll, a cancel's, a delivered webhook) showed the job `status` at
        `at`: a forged claim it settles no longer explains what the submission does next (a
        terminal status settles a claim of any terminal status, a block a claim of a block)."""
        claim = self.forged_claim
        if claim is None or at < self.forged_at:
            return
        if (claim in TERMINAL_STATUSES and status in TERMINAL_STATUSES) or (
            claim == BLOCKED and status == BLOCKED
        ):
            self.forged_claim = None
