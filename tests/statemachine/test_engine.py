from __future__ import annotations

from collections.abc import Callable

import pytest

from statemachine import (
    TERMINAL_STATUSES,
    CommandRejected,
    Engine,
    FileSpec,
    InvalidTransition,
    Job,
    Project,
    ProjectCharge,
    ProjectUpgrade,
    TransitionRecord,
    format_time,
    job_edges,
)

from .conftest import ORIGIN, run_to_rest

Submit = Callable[..., Job]
EDGES = {(s, d, e) for s, d, e in job_edges()}


def statuses(job: Job) -> list[str]:
    return [job.history[0].src] + [r.dst for r in job.history]


def assert_valid_path(job: Job) -> None:
    assert job.history[0].src == "provisioning"
    for prev, rec in zip(job.history, job.history[1:], strict=False):
        assert rec.src == prev.dst
        assert rec.at >= prev.at
    for rec in job.history:
        assert (rec.src, rec.dst, rec.event) in EDGES
    assert sum(r.dst in TERMINAL_STATUSES for r in job.history) <= 1


def test_happy_path_statuses_timestamps_pages_and_credits(engine: Engine, submit: Submit) -> None:
    balance0 = engine.account("org_a").balance
    job = submit("happy", sizes=(250_000,))
    # the estimate is reserved as the job enters preflighting
    assert job.state == "preflighting"
    assert (job.page_count, job.credits_held) == (3, 3)
    assert engine.account("org_a").balance == balance0 - 3
    run_to_rest(engine, job)
    assert statuses(job) == [
        "provisioning",
        "awaiting_uploads",
        "uploading",
        "preflighting",
        "processing",
        "completed",
    ]
    assert_valid_path(job)
    assert job.page_count == 3  # ceil(250 kB / 100 kB)
    assert job.successful_pages == 3
    assert job.credits_debited == 3  # document pages at 1 credit
    assert job.credits_held == 0
    assert engine.account("org_a").balance == balance0 - 3
    assert job.completed_at == job.history[-1].at
    assert job.expires_at == job.created_at + 7 * 24 * 3600
    assert [f.status for f in job.files] == ["completed"]


def test_drawing_pages_cost_ten(engine: Engine, submit: Submit) -> None:
    job = submit("happy", sizes=(200_000, 100_000), classification="plans")
    run_to_rest(engine, job)
    assert job.page_count == 3
    assert job.credits_debited == 30


def test_mixed_is_half_drawing(engine: Engine, submit: Submit) -> None:
    job = submit("happy", sizes=(400_000,), classification="mixed")
    run_to_rest(engine, job)
    assert job.credits_debited == 2 * 10 + 2 * 1


def test_expensive_blocks_at_preflight_then_top_up_and_resume(
    engine: Engine, submit: Submit
) -> None:
    job = submit("expensive")
    run_to_rest(engine, job)
    assert job.state == "blocked_insufficient_credits"
    assert job.history[-1].src == "preflighting"
    assert job.credits_held == 0 and job.credits_debited == 0
    with pytest.raises(InvalidTransition):
        engine.resume(engine.create_job(engine.projects[job.project_id]))
    engine.set_balance("org_a", 50_000)
    engine.resume(job)
    assert job.state == "preflighting"
    run_to_rest(engine, job)
    assert job.state == "completed"
    assert job.credits_debited == 400 * 50
    assert engine.account("org_a").balance == 50_000 - 400 * 50


def test_runs_dry_blocks_mid_processing_and_resumes_where_it_stopped(
    engine: Engine, submit: Submit
) -> None:
    start = engine.account("org_a").balance
    job = submit("runs_dry", sizes=(100_000,))
    run_to_rest(engine, job)
    assert job.state == "blocked_insufficient_credits"
    assert job.history[-1].src == "processing"
    done = job.pages_done
    assert 0 < done < job.page_count == 1 + 1500
    assert job.successful_pages == done
    assert engine.account("org_a").balance + job.credits_debited + job.credits_held == start
    debited_before, held_before = job.credits_debited, job.credits_held
    engine.set_balance("org_a", 100_000)
    engine.resume(job)
    assert job.pages_done == done  # nothing re-processed or lost
    run_to_rest(engine, job)
    assert job.state == "completed"
    assert job.successful_pages == 1501
    assert job.credits_debited == 1 + 1500 * 10
    # the credits still held at the block pay for the first pages after the resume
    spent = job.credits_debited - debited_before - held_before
    assert engine.account("org_a").balance == 100_000 - spent
    assert_valid_path(job)


def test_progress_is_lazy_and_monotonic(engine: Engine, submit: Submit) -> None:
    job = submit("slow", sizes=(500_000,))  # 5 pages at 0.1 page/s
    engine.advance(60)  # preflight
    assert job.state == "processing"
    seen = []
    for _ in range(6):
        p = engine.progress(job)
        seen.append(p.pages_done)
        assert p.credits_debited == p.successful_pages  # document pages, none failing
        assert p.credits_held + p.credits_debited == 5
        engine.advance(10)
    assert seen == sorted(seen) and seen[0] == 0 and seen[-1] == 5
    assert job.state == "completed"


def test_with_errors_failed_pages_are_free(engine: Engine, submit: Submit) -> None:
    job = submit("with_errors", sizes=(800_000,))
    run_to_rest(engine, job)
    assert job.state == "completed_with_errors"
    assert job.page_count == 8
    assert job.successful_pages == 6  # 25% of 8 fail
    assert job.credits_debited == 6


def test_processing_fails_keeps_the_pages_already_billed(engine: Engine, submit: Submit) -> None:
    job = submit("processing_fails", sizes=(1_000_000,))
    run_to_rest(engine, job)
    assert job.state == "failed"
    assert job.error is not None and job.error[0] == "processing_failed"
    assert job.successful_pages == 5 and job.credits_debited == 5
    assert [f.status for f in job.files] == ["failed"]


def test_preflight_fails_reserves_nothing(engine: Engine, submit: Submit) -> None:
    before = engine.account("org_a").balance
    job = submit("preflight_fails")
    run_to_rest(engine, job)
    assert job.state == "failed" and job.history[-1].src == "preflighting"
    assert job.error is not None and job.error[0] == "preflight_failed"
    assert engine.account("org_a").balance == before


def test_page_limit_fails_the_job_at_preflight(engine: Engine, project: Project) -> None:
    engine.scenarios.register(
        engine.scenarios.get("happy").model_copy(update={"name": "big", "pages_per_file": 501})
    )
    job = engine.create_job(project, scenario="big")
    engine.add_files(job, [FileSpec("a.pdf", 10)])
    engine.complete_uploads(job)
    run_to_rest(engine, job)
    assert job.state == "failed"
    assert job.error is not None and job.error[0] == "page_limit_exceeded"
    assert "jobPageLimit is 500" in job.error[1]


def test_cold_start_job_provisions_later(engine: Engine, project: Project) -> None:
    job = engine.create_job(project, scenario="cold_start")
    assert job.state == "provisioning"
    with pytest.raises(CommandRejected) as info:
        engine.add_files(job, [FileSpec("a.pdf", 10)])
    assert info.value.code == "job_not_ready"
    engine.advance(29.9)
    assert job.state == "provisioning"
    engine.advance(0.1)
    assert job.state == "awaiting_uploads"


def test_default_job_is_awaiting_uploads_at_creation(engine: Engine, project: Project) -> None:
    job = engine.create_job(project)
    assert job.state == "awaiting_uploads"
    assert [(r.src, r.dst) for r in job.history] == [("provisioning", "awaiting_uploads")]


def test_cancel_immediate(engine: Engine, submit: Submit) -> None:
    job = submit("slow")
    engine.advance(61)
    outcome = engine.cancel(job)
    assert outcome.status == "cancelled" and not outcome.acknowledged_only
    assert job.state == "cancelled"
    with pytest.raises(InvalidTransition, match="terminal"):
        engine.cancel(job)


def test_cancel_deferred_keeps_processing_for_n_seconds(engine: Engine, submit: Submit) -> None:
    job = submit("cancel_deferred")
    engine.advance(3)
    assert job.state == "processing"
    outcome = engine.cancel(job)
    assert outcome.acknowledged_only and outcome.status == "cancelled"
    assert job.state == "processing"
    assert engine.cancel(job).acknowledged_only  # a repeat is acknowledged again
    engine.advance(9.9)
    assert job.state == "processing"
    engine.advance(0.1)
    assert job.state == "cancelled"
    assert job.credits_held == 0


def test_cancel_race_lost_ends_completed(engine: Engine, submit: Submit) -> None:
    job = submit("cancel_race_lost", sizes=(300_000,))
    engine.advance(3)
    outcome = engine.cancel(job)
    assert outcome.acknowledged_only
    assert job.state == "completed"
    assert job.successful_pages == 3


def test_abandoned_job_expires_at_ttl(engine: Engine, project: Project) -> None:
    job = engine.create_job(project)
    engine.advance(7 * 24 * 3600 - 1)
    assert job.state == "awaiting_uploads"
    fired = engine.advance(1)
    assert job.state == "expired"
    assert [r.event for r in fired] == ["expire"]
    assert format_time(job.completed_at or 0) == "2024-11-09T09:00:05.000Z"


def test_terminal_jobs_absorb(engine: Engine, submit: Submit) -> None:
    job = submit()
    run_to_rest(engine, job)
    for event in ("cancel", "expire", "resume", "complete", "fail", "provision"):
        with pytest.raises(InvalidTransition):
            engine.force_job(job, event)
    assert job.state == "completed"


def test_upload_window_rules(engine: Engine, project: Project) -> None:
    job = engine.create_job(project)
    with pytest.raises(CommandRejected) as info:
        engine.complete_uploads(job)
    assert info.value.code == "no_documents"
    with pytest.raises(CommandRejected) as info:
        engine.add_files(job, [FileSpec(f"{i}.pdf", 1) for i in range(101)])
    assert info.value.code == "limit_exceeded" and "at most 100" in str(info.value)
    with pytest.raises(CommandRejected) as info:
        engine.add_files(job, [FileSpec("a.pdf", 6_000_000_000), FileSpec("b", 4_000_000_001)])
    assert info.value.code == "limit_exceeded"
    assert job.state == "awaiting_uploads" and job.files == []
    engine.add_files(job, [FileSpec("a.pdf", 1)])
    engine.complete_uploads(job)
    with pytest.raises(CommandRejected) as info:
        engine.add_files(job, [FileSpec("b.pdf", 1)])
    assert info.value.code == "uploads_closed"


def test_project_rules(engine: Engine) -> None:
    project, billing = engine.create_project("org_b", "p")
    assert billing == ProjectCharge(available=10_000, charged=50, required=50)
    with pytest.raises(CommandRejected) as info:
        engine.create_job(project)
    assert info.value.code == "project_not_ready"
    with pytest.raises(CommandRejected) as info:
        engine.create_project("org_b", "p")
    assert info.value.code == "name_taken"
    engine.create_project("org_c", "p")  # names are unique per organisation only


def test_advance_fires_in_time_order_and_notifies_subscribers(
    engine: Engine, project: Project
) -> None:
    seen: list[TransitionRecord] = []
    engine.subscribe(lambda rec, obj: seen.append(rec))
    jobs = []
    for delay in (3.0, 1.0, 2.0):
        sc = engine.scenarios.get("happy").model_copy(
            update={"name": f"d{delay}", "job_provisioning_delay": delay}
        )
        jobs.append(engine.create_job(project, scenario=sc))
    fired = engine.advance(5)
    assert [r.at for r in fired] == sorted(r.at for r in fired)
    assert [r.object_id for r in fired] == [jobs[1].id, jobs[2].id, jobs[0].id]
    assert seen == fired
    assert fired[0].at == ORIGIN + 5 + 1.0  # project provisioning took 5 s


def test_forced_events_follow_the_machine(engine: Engine, project: Project) -> None:
    job = engine.create_job(project)
    with pytest.raises(InvalidTransition, match="awaiting_uploads allows: cancel, expire"):
        engine.force_job(job, "complete")
    rec = engine.force_job(job, "start_upload")
    assert rec.forced and job.state == "uploading"


def test_forced_complete_settles_the_remaining_pages(engine: Engine, submit: Submit) -> None:
    job = submit("slow", sizes=(500_000,))
    engine.advance(60)
    engine.force_job(job, "complete")
    assert job.state == "completed"
    assert job.successful_pages == job.page_count == 5
    assert job.credits_debited == 5 and job.credits_held == 0


@pytest.mark.parametrize("forced", [None, "complete", "complete_with_errors"])
def test_page_breakdown_adds_up_to_the_job(
    engine: Engine, submit: Submit, forced: str | None
) -> None:
    job = submit("with_errors", sizes=(350_000, 450_000), classification="mixed")
    engine.advance(3 + 2)  # preflight, then two pages
    assert job.state == "processing"
    if forced:
        engine.force_job(job, forced)
    run_to_rest(engine, job)
    parts = engine.page_breakdown(job)
    assert [p.pages for p in parts] == [4, 5]
    assert [p.drawing_pages for p in parts] == [2, 2]
    assert sum(p.successful_pages for p in parts) == job.successful_pages
    assert sum(p.failed_pages for p in parts) == job.page_count - job.successful_pages
    drawing_rate, document_rate = engine.credit_rates(job)
    assert job.credits_debited == sum(
        p.successful_drawing_pages * drawing_rate + p.successful_document_pages * document_rate
        for p in parts
    )
    for p in parts:
        assert len(p.failed_page_numbers) == p.failed_pages
        assert all(1 <= n <= p.pages for n in p.failed_page_numbers)
    if forced == "complete_with_errors":
        assert parts[-1].failed_page_numbers[-1] == 5


CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def _decode(text: str) -> int:
    n = 0
    for c in text:
        n = n * 32 + CROCKFORD.index(c)
    return n


def test_ids_are_ulids_of_the_virtual_time(engine: Engine, project: Project) -> None:
    first = engine.create_job(project)
    engine.advance(1.5)
    second = engine.create_job(project)
    engine.add_files(second, [FileSpec("a.pdf", 10), FileSpec("b.pdf", 10)])
    ids = [project.id, first.id, second.id]
    ids += [i for f in second.files for i in (f.id, f.document_id)]
    for full in ids:
        prefix, _, body = full.partition("_")
        assert prefix in {"proj", "job", "file", "doc"} and len(body) == 26
        assert set(body) <= set(CROCKFORD), full  # no i, l, o, u
    # the first 10 characters are milliseconds of virtual time: ids sort by creation
    assert _decode(first.id[4:14]) == round((ORIGIN + 5) * 1000)
    assert _decode(second.id[4:14]) == round((ORIGIN + 6.5) * 1000)
    assert sorted([second.id, first.id]) == [first.id, second.id]
    # ids are unique, spelled once (a second read is the same string) and follow the seed
    assert len(set(ids)) == len(ids)
    assert [f.id for f in second.files] == [f.id for f in second.files]
    twin = Engine(engine.clock, seed=7)
    assert twin.new_id("job_")[14:] != engine.new_id("job_")[14:]  # the generators have moved on
    a, b = Engine(engine.clock, seed=1), Engine(engine.clock, seed=1)
    assert a.new_id("job_") == b.new_id("job_")


def test_a_command_issued_while_events_fire_acts_at_that_events_time(
    engine: Engine, project: Project
) -> None:
    # a subscriber that cancels job B when job A reaches uploading: the cancel must happen at
    # A's event time, before B's own later events fire (no catching up with the clock inside)
    slow = engine.scenarios.get("cold_start")
    a = engine.create_job(project, scenario=slow)
    b = engine.create_job(project, scenario=slow)
    engine.advance(10)
    order: list[tuple[str, str, float]] = []

    def on(rec: TransitionRecord, obj: Job | Project) -> None:
        order.append((rec.object_id, rec.dst, rec.at))

    engine.subscribe(on)
    engine.schedule(engine.now + 1, lambda _o, _g: engine.cancel(b), None)
    engine.advance(30)  # b's provisioning (due at +30) comes after the cancel at +11
    assert order[0] == (b.id, "cancelled", ORIGIN + 5 + 11)
    assert (a.id, "awaiting_uploads", ORIGIN + 5 + 30) in order
    assert b.state == "cancelled" and len(b.history) == 1


def test_expiries_out_of_order_fire_in_time_order(engine: Engine, project: Project) -> None:
    # expiries usually come in time order (one TTL) and wait in a FIFO; a shorter TTL after a
    # longer one goes to the heap: the two together still fire by time, ties by creation
    long = engine.scenarios.get("happy").model_copy(update={"name": "long", "job_ttl": 100.0})
    short = long.model_copy(update={"name": "short", "job_ttl": 10.0})
    jobs = [engine.create_job(project, scenario=sc) for sc in (long, short, long, short)]
    assert engine.pending_events() == 4
    expired: list[str] = []
    engine.subscribe(lambda rec, obj: expired.append(rec.object_id))
    assert engine.next_due() == engine.now + 10
    engine.advance(200)
    assert expired == [jobs[1].id, jobs[3].id, jobs[0].id, jobs[2].id]
    assert all(j.state == "expired" for j in jobs) and engine.pending_events() == 0


@pytest.mark.parametrize(("scenario", "top_up"), [("happy", 0), ("runs_dry", 30_000)])
def test_finished_file_counts_are_the_page_breakdown(
    engine: Engine, submit: Submit, scenario: str, top_up: int
) -> None:
    # without failed pages a finished job's file counts take a shortcut: they must still be the
    # figures page_breakdown derives page by page (runs_dry blocks mid-processing and resumes)
    job = submit(scenario, sizes=(350_000, 450_000, 120_000), classification="mixed")
    run_to_rest(engine, job)
    if job.state == "blocked_insufficient_credits":
        engine.set_balance(job.org, engine.account(job.org).balance + top_up)
        engine.resume(job)
        run_to_rest(engine, job)
    assert job.state == "completed"
    assert ("resume" in [r.event for r in job.history]) == bool(top_up)
    parts = engine.page_breakdown(job)
    assert [(f.successful_pages, f.failed_pages) for f in job.files] == [
        (p.successful_pages, p.failed_pages) for p in parts
    ]
    assert sum(f.successful_pages for f in job.files) == job.successful_pages == job.page_count


# --------------------------------------------------------------------------- failed uploads


def test_a_failed_upload_makes_the_job_end_completed_with_errors(
    engine: Engine, project: Project
) -> None:
    job = engine.create_job(project)
    ok, bad = engine.add_files(job, [FileSpec("a.pdf", 10), FileSpec("b.pdf", 10)])
    engine.complete_uploads(job, failed=[(bad, "disk full")])
    run_to_rest(engine, job)
    assert job.state == "completed_with_errors"
    assert (ok.status, bad.status) == ("completed", "failed")
    assert bad.error == ("upload_failed", "disk full")
    assert job.error is None


def test_without_failed_uploads_the_same_job_completes(engine: Engine, project: Project) -> None:
    job = engine.create_job(project)
    engine.add_files(job, [FileSpec("a.pdf", 10), FileSpec("b.pdf", 10)])
    engine.complete_uploads(job)
    run_to_rest(engine, job)
    assert job.state == "completed"


def test_every_file_failed_fails_the_job_at_preflight(engine: Engine, project: Project) -> None:
    before = engine.account("org_a").balance
    job = engine.create_job(project)
    [only] = engine.add_files(job, [FileSpec("a.pdf", 10)])
    engine.complete_uploads(job, include=[], failed=[(only, "gone")])
    assert job.state == "preflighting"
    run_to_rest(engine, job)
    assert job.state == "failed" and job.history[-1].src == "preflighting"
    assert job.error is not None and job.error[0] == "all_uploads_failed"
    assert only.status == "failed"
    assert engine.account("org_a").balance == before


def test_nothing_to_process_and_nothing_failed_is_still_no_documents(
    engine: Engine, project: Project
) -> None:
    job = engine.create_job(project)
    engine.add_files(job, [FileSpec("a.pdf", 10)])
    with pytest.raises(CommandRejected) as info:
        engine.complete_uploads(job, include=[])
    assert info.value.code == "no_documents"
    assert job.state == "uploading"


# --------------------------------------------------------------------------- project upgrade


def test_a_scenario_runs_a_runtime_upgrade_on_a_project(engine: Engine) -> None:
    upgrading = engine.scenarios.get("happy").model_copy(
        update={
            "name": "upgrading",
            "project_upgrade": ProjectUpgrade(start_after=10, duration=60),
        }
    )
    project, _ = engine.create_project("org_a", "up", scenario=upgrading)
    plain, _ = engine.create_project("org_a", "plain")
    t0 = engine.now
    assert project.upgrade_status(t0) == "none"
    assert project.upgrade_status(t0 + 10) == "in_progress"
    assert project.upgrade_status(t0 + 69.9) == "in_progress"
    assert project.upgrade_status(t0 + 70) == "none"
    assert plain.upgrade_status(t0 + 30) == "none"
    engine.advance(30)  # mid-upgrade, the project takes jobs
    assert project.state == "ready" and engine.create_job(project).state == "awaiting_uploads"
