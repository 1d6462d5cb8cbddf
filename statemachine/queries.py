"""What the engine answers about a job without changing it: progress, pages per file, rates.

Processing progress (pages, debits) is computed lazily from the virtual time, so a job in
processing costs one heap entry, not one per page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._hot import new_tuple
from .billing import Account
from .objects import FilePages, Job, JobFile, Progress
from .processing import failed_page

__all__ = ["JobQueries"]


class JobQueries:
    """The engine's read side (a mixin of `Engine`)."""

    if TYPE_CHECKING:
        now: float

        def account(self, org: str) -> Account: ...

    def progress(self, job: Job, at: float | None = None) -> Progress:
        """Pages and credits as of `at` (default now), without changing the job."""
        p = job.proc
        if p is None:
            return new_tuple(
                Progress,
                (job.pages_done, job.successful_pages, job.credits_debited, job.credits_held),
            )
        n = p.pages_run(self.now if at is None else at)
        if n == p.target - p.start_page:  # a finished run: its totals
            ok, cost = p.ok_end, p.cost_end
        else:
            cum_ok, cum_cost = p.prefix()
            ok, cost = cum_ok[n], cum_cost[n]
        return new_tuple(
            Progress, (p.start_page + n, p.ok0 + ok, p.debited0 + cost, p.held0 - cost)
        )

    def page_breakdown(self, job: Job) -> list[FilePages]:
        """Per file, as of now: pages, drawing/document split, and how many of each succeeded
        or failed. The one place that knows which page belongs to which file, which pages are
        drawings and which failed, so results never re-derive the engine's page plan."""
        rows = self._page_rows(job)
        if rows is None:
            return [FilePages(f.document_id, 0, 0, 0, 0, 0) for f in job.files]
        return [
            FilePages(f.document_id, f.pages, drawing, ok_drawing, ok_document, len(bad), bad)
            for f, drawing, ok_drawing, ok_document, bad in rows
        ]

    def _page_rows(self, job: Job) -> list[tuple[JobFile, int, int, int, tuple[int, ...]]] | None:
        """`page_breakdown` as plain rows (file, drawing pages, successful drawing pages,
        successful document pages, failed page numbers); None without a page plan."""
        rates = job.page_rates
        kinds = job.page_drawing
        if rates is None or kinds is None:
            return None
        if not job.files:
            return []
        done = self.progress(job).pages_done
        total = len(rates)
        failed = self._failed_count(job, total)
        settled_from = job.settled_from if job.settled_from is not None else total
        settled_ok = job.settled_ok
        rows = []
        for f in job.files:
            first = f.first_page
            end = first + f.pages
            hi = max(first, min(end, done))  # pages first..hi-1 are processed
            bad: list[int] = []  # 1-based within the file, in page order
            mid = min(hi, settled_from)
            if failed and mid > first:
                # list only the failed pages (1-based within the file), not every page
                bad = [
                    failed_page(k, total, failed) + 1 - first
                    for k in range(first * failed // total + 1, mid * failed // total + 1)
                ]
            if not settled_ok and hi > max(first, settled_from):
                bad.extend(range(max(first, settled_from) - first + 1, hi - first + 1))
            drawing_done = kinds.count(1, first, hi)
            failed_drawing = sum(kinds[first + n - 1] for n in bad) if bad else 0
            rows.append(
                (
                    f,
                    kinds.count(1, first, end),
                    drawing_done - failed_drawing,
                    hi - first - drawing_done - (len(bad) - failed_drawing),
                    tuple(bad),
                )
            )
        return rows

    def credit_rates(self, job: Job) -> tuple[int, int]:
        """(drawing, document) credits per page for this job: the scenario's override, else the
        organisation's profile."""
        acct = self.account(job.org)
        sc = job.scenario
        return (
            acct.drawing_credits_per_page
            if sc.drawing_credits_per_page is None
            else sc.drawing_credits_per_page,
            acct.document_credits_per_page
            if sc.document_credits_per_page is None
            else sc.document_credits_per_page,
        )

    def file_stats(self, job: Job) -> None:
        """Fill each file's successful and failed page counts from `page_breakdown`."""
        rates = job.page_rates
        if rates is None:
            return
        if job.settled_from is None and not self._failed_count(job, len(rates)):
            # no failed pages: a file's processed pages are its successful ones
            done = self.progress(job).pages_done
            for f in job.files:
                first = f.first_page
                f.successful_pages = max(0, min(f.pages, done - first))
                f.failed_pages = 0
            return
        rows = self._page_rows(job)  # page_breakdown's figures, without building FilePages
        if rows is None:
            for f in job.files:
                f.successful_pages, f.failed_pages = 0, 0
            return
        for f, _, ok_drawing, ok_document, bad in rows:
            f.successful_pages, f.failed_pages = ok_drawing + ok_document, len(bad)

    def _failed_count(self, job: Job, total: int) -> int:
        sc = job.scenario
        if sc.outcome != "completed_with_errors" or total == 0:
            return 0
        return max(1, min(total, round(total * sc.failed_page_fraction)))
