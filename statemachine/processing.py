"""Preflight and processing: the page plan, credit reservations, processing runs and how a job
settles at its terminal status.

A processing run is timed at once (its end is one heap entry); its per-page figures are computed
when someone looks at a half-done run.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from ._hot import (
    COMPLETED,
    COMPLETED_WITH_ERRORS,
    EV_BLOCK,
    EV_COMPLETE,
    EV_COMPLETE_WITH_ERRORS,
    EV_FAIL,
    EV_PASS_PREFLIGHT,
    F_COMPLETED,
    F_PROCESSING,
    F_UPLOADED,
    FAILED,
    PREFLIGHTING,
    PROCESSING,
)
from .billing import Account, estimate_pages, split_pages
from .objects import Job, Progress

__all__ = ["JobProcessing", "ProcessingRun", "failed_page", "prefix_sums", "run_totals"]


def failed_page(k: int, total: int, failed: int) -> int:
    """The index of the k-th failed page (k = 1..failed) of `total`, `failed` spread evenly: page i
    fails when (i + 1) * failed // total > i * failed // total, so the k-th is ceil(k * total /
    failed) - 1."""
    return -(-k * total // failed) - 1


def run_totals(
    rates: list[int], start: int, stop: int, failed: int, total: int
) -> tuple[int, int]:
    """(successful pages, credits) of processing pages start..stop-1, without per-page lists."""
    if stop <= start:
        return 0, 0
    cost = sum(rates) if start == 0 and stop == len(rates) else sum(rates[start:stop])
    if not failed:
        return stop - start, cost
    lo, hi = start * failed // total, stop * failed // total  # failed pages before start, stop
    cost -= sum(rates[failed_page(k, total, failed)] for k in range(lo + 1, hi + 1))
    return stop - start - (hi - lo), cost


def prefix_sums(
    rates: list[int], start: int, stop: int, failed: int, total: int
) -> tuple[Sequence[int], list[int]]:
    """Successful pages and credits after each page of start..stop-1 (index 0: none yet)."""
    if not failed:
        run = rates if start == 0 and stop == len(rates) else rates[start:stop]
        return range(max(0, stop - start) + 1), list(accumulate(run, initial=0))
    # before[k]: failed pages among 0..start+k-1; page start+k fails if the next is more
    before = [i * failed // total for i in range(start, max(start, stop) + 1)]
    cum_ok = [k - (b - before[0]) for k, b in enumerate(before)]
    paid = [
        r if a == b else 0
        for r, a, b in zip(rates[start:stop], before[:-1], before[1:], strict=True)
    ]
    return cum_ok, list(accumulate(paid, initial=0))


class ProcessingRun:
    """A run of processing from page `start_page` at `started_at` up to `target` (exclusive), of
    the pages start_page..stop-1 (`target` < `stop` when the credits held run out first).

    The run's totals at `target` are computed at once; the per-page prefix sums that a look at
    a half-done run needs are built at the first such look (most runs are only seen finished).
    """

    __slots__ = (
        "_cum",
        "cost_end",
        "debited0",
        "due",
        "failed",
        "held0",
        "ok0",
        "ok_end",
        "rates",
        "speed",
        "start_page",
        "started_at",
        "stop",
        "target",
        "total",
    )

    def __init__(
        self,
        job: Job,
        rates: list[int],
        started_at: float,
        speed: float,
        stop: int,
        failed: int,
    ) -> None:
        self.rates = rates
        self.started_at = started_at
        self.start_page = job.pages_done
        self.speed = speed
        self.stop = stop
        self.failed = failed
        self.total = len(rates)
        self.ok0 = job.successful_pages
        self.debited0 = job.credits_debited
        self.held0 = job.credits_held  # set again by end_at, once the run's credits are held
        self._cum: tuple[Sequence[int], list[int]] | None = None
        self.ok_end, self.cost_end = run_totals(rates, self.start_page, stop, failed, self.total)
        self.target = stop
        self.due = started_at

    def pages_run(self, t: float) -> int:
        """Pages this run has processed by virtual time `t`."""
        if t >= self.due:  # exact at the milestone, whatever the float error of the product
            return self.target - self.start_page
        n = int((t - self.started_at) * self.speed + 1e-6)
        return min(self.target - self.start_page, n) if n > 0 else 0

    def prefix(self) -> tuple[Sequence[int], list[int]]:
        if self._cum is None:
            self._cum = prefix_sums(
                self.rates, self.start_page, self.stop, self.failed, self.total
            )
        return self._cum

    def end_at(self, target: int, held: int) -> None:
        """Stop at `target` (the last page the `held` credits pay for) and time the run."""
        self.held0 = held
        if target != self.stop:
            cum_ok, cum_cost = self.prefix()
            self.ok_end = cum_ok[target - self.start_page]
            self.cost_end = cum_cost[target - self.start_page]
        self.target = target
        self.due = self.started_at + (target - self.start_page) / self.speed


class JobProcessing:
    """Preflight, processing and settling (a mixin of `Engine`)."""

    if TYPE_CHECKING:
        now: float

        def account(self, org: str) -> Account: ...
        def credit_rates(self, job: Job) -> tuple[int, int]: ...
        def progress(self, job: Job, at: float | None = None) -> Progress: ...
        def file_stats(self, job: Job) -> None: ...
        def _failed_count(self, job: Job, total: int) -> int: ...
        def _transition(self, job: Job, event: str, forced: bool = False) -> None: ...
        def schedule(
            self, at: float, fn: Callable[[Any, int], None], obj: Any, gen: int = 0
        ) -> None: ...

    def _enter_preflighting(self, job: Job) -> None:
        if job.page_rates is None:
            self._plan_pages(job)
        for f in job.files:
            if f.status == F_UPLOADED:
                f.status = F_PROCESSING
        # Plangrep reserves the estimate as the job enters preflighting; a balance that cannot
        # cover it blocks the job once preflight has run (see _due_preflight).
        self._reserve(job)
        self.schedule(self.now + job.scenario.preflight_delay, self._due_preflight, job, job.gen)

    def _plan_pages(self, job: Job) -> None:
        sc = job.scenario
        drawing_rate, document_rate = self.credit_rates(job)
        rates: list[int] = []
        kinds = bytearray()
        for f in job.files:
            if f.status not in ("uploaded", "processing"):
                continue
            n = estimate_pages(f.size, sc.pages_per_file)
            drawing, document = split_pages(n, f.classification)
            f.first_page, f.pages, f.drawing_pages = len(rates), n, drawing
            rates.extend([drawing_rate] * drawing)
            rates.extend([document_rate] * document)
            kinds.extend(b"\x01" * drawing)
            kinds.extend(bytes(document))
        job.page_rates = rates
        job.page_drawing = kinds
        job.page_count = len(rates)

    def _due_preflight(self, job: Job, gen: int) -> None:
        if job.gen != gen or job.state != PREFLIGHTING:
            return
        sc = job.scenario
        acct = self.account(job.org)
        rates = job.page_rates or []
        if sc.preflight_outcome == "fail":
            job.error = ("preflight_failed", "preflight rejected the uploaded files")
            self._transition(job, EV_FAIL)
            return
        if job.failed_uploads and not rates:
            job.error = (
                "all_uploads_failed",
                f"every file of the job ({job.failed_uploads}) was reported in failedUploads; "
                "no file was left to process",
            )
            self._transition(job, EV_FAIL)
            return
        # the limit applies to the estimate; pages found beyond it during processing do not count
        estimated = len(rates) - (sc.extra_pages if job.extra_added else 0)
        if estimated > acct.job_page_limit:
            job.error = (
                "page_limit_exceeded",
                f"the job has an estimated {estimated} pages; this organisation's "
                f"jobPageLimit is {acct.job_page_limit}",
            )
            self._transition(job, EV_FAIL)
            return
        if not self._reserve(job):
            self._transition(job, EV_BLOCK)
            return
        self._transition(job, EV_PASS_PREFLIGHT)

    def _reserve(self, job: Job) -> bool:
        """Hold the credits of the job's remaining pages; False when the balance cannot."""
        rates = job.page_rates or []
        left = sum(rates[job.pages_done :]) if job.pages_done else sum(rates)
        needed = left - job.credits_held
        if needed <= 0:
            return True
        acct = self.account(job.org)
        if acct.balance < needed:
            return False
        acct.balance -= needed
        job.credits_held += needed
        return True

    def _enter_processing(self, job: Job) -> None:
        sc = job.scenario
        rates = job.page_rates
        if rates is None:  # forced straight from an earlier status
            self._plan_pages(job)
            rates = job.page_rates or []
        if sc.extra_pages and not job.extra_added:
            drawing_rate, document_rate = self.credit_rates(job)
            rate = drawing_rate if sc.extra_page_kind == "drawing" else document_rate
            rates.extend([rate] * sc.extra_pages)
            if job.page_drawing is not None:
                drawing_extra = sc.extra_page_kind == "drawing"
                job.page_drawing.extend((b"\x01" if drawing_extra else b"\x00") * sc.extra_pages)
            if job.files:
                last = [f for f in job.files if f.pages or f.status == F_PROCESSING]
                if last:
                    last[-1].pages += sc.extra_pages
                    if sc.extra_page_kind == "drawing":
                        last[-1].drawing_pages += sc.extra_pages
            job.page_count = len(rates)
            job.extra_added = True
        for f in job.files:
            if f.status == F_UPLOADED:
                f.status = F_PROCESSING
        total = len(rates)
        stop = total // 2 if sc.outcome == "failed" else total
        start = job.pages_done
        proc = ProcessingRun(
            job, rates, self.now, sc.pages_per_second, stop, self._failed_count(job, total)
        )
        cost = proc.cost_end
        if job.credits_held < cost:
            acct = self.account(job.org)
            take = min(cost - job.credits_held, max(acct.balance, 0))
            acct.balance -= take
            job.credits_held += take
        held = job.credits_held
        target = stop
        if cost > held:
            # the last page `held` pays for
            target = start + bisect_right(proc.prefix()[1], held) - 1
        proc.end_at(target, held)
        job.proc = proc
        self.schedule(job.proc.due, self._due_milestone, job, job.gen)

    def _due_milestone(self, job: Job, gen: int) -> None:
        if job.gen != gen or job.state != PROCESSING or job.proc is None:
            return
        self._transition(job, self._milestone_event(job))

    def _milestone_event(self, job: Job) -> str:
        p = job.proc
        assert p is not None
        if p.target < p.stop:
            return EV_BLOCK
        if job.scenario.outcome == "failed":
            job.error = ("processing_failed", "processing failed; see the documents for details")
            return EV_FAIL
        if job.failed_uploads or self._failed_count(job, job.page_count):
            return EV_COMPLETE_WITH_ERRORS
        return EV_COMPLETE

    def _finish_processing_now(self, job: Job) -> None:
        """race_lost: processing reaches its end at once, then the job ends as it would have."""
        p = job.proc
        assert p is not None
        p.started_at = self.now - (p.target - p.start_page) / p.speed
        p.due = self.now
        self._transition(job, self._milestone_event(job))

    def _freeze_processing(self, job: Job) -> None:
        """Write lazily computed progress into the job and stop the processing run."""
        if job.proc is None:
            return
        prog = self.progress(job)
        job.pages_done = prog.pages_done
        job.successful_pages = prog.successful_pages
        job.credits_debited = prog.credits_debited
        job.credits_held = prog.credits_held
        job.proc = None

    def _settle_rest(self, job: Job, *, succeed: bool) -> None:
        rates = job.page_rates or []
        acct = self.account(job.org)
        job.settled_from = job.pages_done
        job.settled_ok = succeed
        for i in range(job.pages_done, len(rates)):
            if succeed:
                cost = rates[i]
                from_held = min(cost, job.credits_held)
                job.credits_held -= from_held
                from_balance = min(cost - from_held, max(acct.balance, 0))
                acct.balance -= from_balance
                job.credits_debited += from_held + from_balance
                job.successful_pages += 1
        job.pages_done = len(rates)

    def _settle_terminal(self, job: Job, dst: str) -> None:
        self._freeze_processing(job)
        job.completed_at = self.now
        job.cancel_pending = False
        if job.credits_held:
            self.account(job.org).balance += job.credits_held
            job.credits_held = 0
        if dst in (COMPLETED, COMPLETED_WITH_ERRORS):
            self.file_stats(job)
            for f in job.files:
                if f.status == F_PROCESSING:
                    f.status = F_COMPLETED if f.successful_pages or not f.pages else "failed"
        else:
            new = "failed" if dst == FAILED else "cancelled"
            for f in job.files:
                if f.status in ("pending", "uploaded", "processing"):
                    f.status = new
            if dst == FAILED and job.error is None:
                job.error = ("processing_failed", "the job failed")
