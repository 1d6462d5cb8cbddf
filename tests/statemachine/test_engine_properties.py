"""Random command sequences against the engine: the books balance and histories stay valid."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from statemachine import (
    BUILTIN_SCENARIOS,
    TERMINAL_STATUSES,
    Clock,
    CommandRejected,
    Engine,
    FileSpec,
    InvalidTransition,
    Job,
    JobEvent,
    job_edges,
)

EDGES = {(s, d, e) for s, d, e in job_edges()}
SCENARIOS = [*sorted(n for n in BUILTIN_SCENARIOS if n != "cold_start"), "cold_start"]


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine(Clock("manual", origin=1_700_000_000.0), seed=3)
        self.project, billing = self.engine.create_project("org", "p")
        self.engine.advance(5)
        self.jobs: list[Job] = []
        self.charged = billing.charged
        self.added = 0  # credits put in by top-ups (balance changes from outside)

    @rule(scenario=st.sampled_from(SCENARIOS))
    def create(self, scenario: str) -> None:
        self.jobs.append(self.engine.create_job(self.project, scenario=scenario))

    @precondition(lambda self: self.jobs)
    @rule(
        data=st.data(),
        n=st.integers(1, 3),
        size=st.integers(1, 900_000),
        cls=st.sampled_from([None, "plans", "mixed", "specifications"]),
    )
    def upload(self, data: st.DataObject, n: int, size: int, cls: str | None) -> None:
        job = data.draw(st.sampled_from(self.jobs))
        try:
            self.engine.add_files(
                job, [FileSpec(f"{i}.pdf", size, classification=cls) for i in range(n)]
            )
        except CommandRejected as exc:
            assert exc.code in {"job_not_ready", "uploads_closed"}
            assert job.state not in {"awaiting_uploads", "uploading"}

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def complete_uploads(self, data: st.DataObject) -> None:
        job = data.draw(st.sampled_from(self.jobs))
        try:
            self.engine.complete_uploads(job)
        except CommandRejected as exc:
            assert exc.code in {"job_not_ready", "uploads_closed", "no_documents"}

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        job = data.draw(st.sampled_from(self.jobs))
        was_terminal = job.state in TERMINAL_STATUSES
        try:
            self.engine.cancel(job)
            assert not was_terminal
        except InvalidTransition:
            assert was_terminal

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def resume(self, data: st.DataObject) -> None:
        job = data.draw(st.sampled_from(self.jobs))
        blocked = job.state == "blocked_insufficient_credits"
        try:
            self.engine.resume(job)
            assert blocked
        except InvalidTransition:
            assert not blocked

    @precondition(lambda self: self.jobs)
    @rule(data=st.data(), event=st.sampled_from(list(JobEvent)))
    def force(self, data: st.DataObject, event: JobEvent) -> None:
        job = data.draw(st.sampled_from(self.jobs))
        before = job.state
        try:
            self.engine.force_job(job, event)
            assert (before, job.history[-1].dst, event.value) in EDGES
        except InvalidTransition:
            assert job.state == before

    @rule(amount=st.integers(0, 30_000))
    def top_up(self, amount: int) -> None:
        acct = self.engine.account("org")
        self.added += amount
        self.engine.set_balance("org", acct.balance + amount)

    @rule(seconds=st.sampled_from([0.0, 0.5, 3.0, 10.0, 60.0, 3600.0, 8 * 24 * 3600.0]))
    def advance(self, seconds: float) -> None:
        fired = self.engine.advance(seconds)
        assert [r.at for r in fired] == sorted(r.at for r in fired)

    @invariant()
    def books_balance(self) -> None:
        held = debited = 0
        for job in self.jobs:
            p = self.engine.progress(job)
            assert 0 <= p.successful_pages <= p.pages_done
            assert p.credits_held >= 0 and p.credits_debited >= 0
            if job.state in TERMINAL_STATUSES:
                assert p.credits_held == 0
                assert job.completed_at is not None
            held += p.credits_held
            debited += p.credits_debited
        balance = self.engine.account("org").balance
        assert balance >= 0
        assert balance + held + debited == 10_000 - self.charged + self.added

    @invariant()
    def finished_files_match_the_page_breakdown(self) -> None:
        # the counts a completed job's files carry (a shortcut when no page failed) are the
        # figures page_breakdown derives page by page
        for job in self.jobs:
            if job.state in ("completed", "completed_with_errors"):
                parts = self.engine.page_breakdown(job)
                assert [(f.successful_pages, f.failed_pages) for f in job.files] == [
                    (p.successful_pages, p.failed_pages) for p in parts
                ]
                if sum(f.pages for f in job.files) == job.page_count:
                    # (a job forced past its uploads has pages, found during processing, that
                    # belong to no file)
                    assert sum(f.successful_pages for f in job.files) == job.successful_pages

    @invariant()
    def histories_are_paths(self) -> None:
        for job in self.jobs:
            prev = "provisioning"
            for i, rec in enumerate(job.history, 1):
                assert rec.src == prev and rec.sequence == i
                assert (rec.src, rec.dst, rec.event) in EDGES
                prev = rec.dst
            assert prev == job.state
            assert sum(r.dst in TERMINAL_STATUSES for r in job.history) <= 1


EngineMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineMachine = EngineMachine.TestCase


@settings(max_examples=300, deadline=None)
@given(
    rates=st.lists(st.sampled_from([0, 1, 10, 50]), min_size=1, max_size=60),
    data=st.data(),
)
def test_run_totals_equal_the_prefix_sums(rates: list[int], data: st.DataObject) -> None:
    # a run's totals are computed without per-page lists; the prefix sums a half-done run needs
    # are built later: both must agree, for every start, stop and failed-page count
    from statemachine.processing import prefix_sums, run_totals

    total = len(rates)
    start = data.draw(st.integers(0, total))
    stop = data.draw(st.integers(start, total))
    failed = data.draw(st.integers(0, total))
    cum_ok, cum_cost = prefix_sums(rates, start, stop, failed, total)
    assert run_totals(rates, start, stop, failed, total) == (cum_ok[-1], cum_cost[-1])
    # and the prefix sums follow the failed-page rule page by page
    bad = {i for i in range(total) if (i + 1) * failed // total > i * failed // total}
    assert len(bad) == failed
    assert cum_cost[-1] == sum(rates[i] for i in range(start, stop) if i not in bad)
    assert cum_ok[-1] == sum(1 for i in range(start, stop) if i not in bad)
