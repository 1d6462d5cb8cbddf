"""The one rule registry: every rule has its text and source; the rules the server can judge are
judged by one function each, and the server and `check_client` / `check_workflow` reach the same
verdict with it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from mock_server.contract import ContractViolation, WorkflowEnv, check_client, check_workflow
from mock_server.contract.rules import (
    DUPLICATE_WINDOW,
    RETRY_MAX_ATTEMPTS,
    RULES,
    Creates,
    FailureRun,
    RetryAfters,
    Seen,
    SeenIndex,
    call_key,
    create_fingerprint,
    judge_cancel,
    judge_complete,
    judge_create,
    judge_index_retry,
    judge_poll,
    judge_result,
    judge_resume,
    judge_retry_after,
    judge_retry_storm,
    judge_uploads,
    rule,
    rules,
)
from mock_server.contract.workflow import WORKFLOW_RULES
from mock_server.journal import VIOLATION_RULES
from mock_server.testing import MockOptions, PlangrepMock

from .broken_clients import (
    cancels_what_did_not_complete,
    only_completed_or_failed_end_a_job,
    polls_every_2s,
    resumes_whenever_not_done,
)
from .workflows import (
    BrokenWorkflow,
    CompleteRetriedWithoutKey,
    CreateRetriedWithoutKey,
    FetchesAnyTerminalResult,
    IgnoresRetryAfter,
    WebhookFirst,
)

Client = Callable[[str, str, str, Any], Any]


def test_every_rule_has_its_text_family_and_source() -> None:
    for r in RULES.values():
        assert r.text and r.family in ("client", "workflow", "receiver")
        assert r.source in ("plangrep", "mock")
    # the server records exactly the registry's server rules, and can judge each one
    assert set(VIOLATION_RULES) == {r.id for r in rules(server=True)}
    judged = {r.id for r in rules(server=True) if r.judge is not None}
    assert judged == set(VIOLATION_RULES) - {"job_create_on_unready_project"}


def test_an_unknown_rule_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="polling_too_fast"):
        rule("poll_too_quickly")


# --------------------------------------------------------------------------- the judges


def test_polling_too_fast_is_judged_from_the_interval_and_retry_after() -> None:
    seen = Seen()
    assert judge_poll(seen, 100.0) == []  # a first poll
    seen.polled(100.0, status="processing")
    assert [f.rule for f in judge_poll(seen, 104.0)] == ["polling_too_fast"]
    assert judge_poll(seen, 104.0)[0].facts["wait"] == 1
    assert judge_poll(seen, 105.0) == []  # exactly 5 s is allowed
    seen.polled(105.0, status=None, retry_after=20)  # a 503 asked for 20 s
    assert [f.rule for f in judge_poll(seen, 115.0)] == ["polling_too_fast"]
    assert judge_poll(seen, 125.0) == []


def test_a_timing_tolerance_lets_a_poll_come_that_much_early_and_no_more() -> None:
    seen = Seen()
    seen.polled(100.0, status="processing")
    # plangrep-mock check: 0.4 s of tolerance at x200 (2 wall ms of timer jitter)
    assert judge_poll(seen, 104.7, tolerance=0.4) == []
    (found,) = judge_poll(seen, 104.5, tolerance=0.4)
    assert found.rule == "polling_too_fast" and found.facts["tolerance"] == 0.4
    assert found.facts["gap"] == pytest.approx(4.5)
    seen.polled(105.0, status=None, retry_after=20)  # the tolerance applies to Retry-After too
    assert judge_poll(seen, 124.7, tolerance=0.4) == []
    assert [f.rule for f in judge_poll(seen, 124.5, tolerance=0.4)] == ["polling_too_fast"]


def test_poll_after_terminal_follows_the_first_terminal_status_served() -> None:
    seen = Seen()
    seen.polled(0.0, status="processing")
    seen.shown("cancelled")  # a cancel answer is not a poll: a confirming poll is fine
    assert judge_poll(seen, 10.0) == []
    seen.polled(10.0, status="cancelled")
    assert [f.rule for f in judge_poll(seen, 20.0)] == ["poll_after_terminal"]


def test_index_retry_too_fast_is_judged_from_the_last_409s_retry_after() -> None:
    seen = SeenIndex()
    assert judge_index_retry(seen, 0.0) is None  # a first search
    seen.answered(0.0, retry_after=10)  # 409 index_not_ready, Retry-After: 10
    finding = judge_index_retry(seen, 4.0)
    assert finding is not None and finding.rule == "index_retry_too_fast"
    assert (finding.facts["gap"], finding.facts["retryAfter"], finding.facts["wait"]) == (4, 10, 6)
    assert judge_index_retry(seen, 10.0) is None  # exactly Retry-After later is fine
    seen.answered(10.0)  # results: no wait asked any more
    assert judge_index_retry(seen, 10.5) is None
    assert RULES["index_retry_too_fast"].family == "workflow"


def test_resume_is_judged_by_the_status_and_what_the_key_was_shown() -> None:
    seen = Seen()
    assert judge_resume(seen, "blocked_insufficient_credits") is None
    finding = judge_resume(seen, "processing")
    assert finding is not None and finding.rule == "resume_not_blocked"
    seen.polled(0.0, status="blocked_insufficient_credits")
    assert judge_resume(seen, "preflighting") is None  # raced with another resume


def test_cancel_is_judged_by_the_terminal_status_the_key_was_shown() -> None:
    seen = Seen()
    assert judge_cancel(seen, "completed") is None  # raced with the job's own ending
    seen.polled(0.0, status="completed")
    finding = judge_cancel(seen, "completed")
    assert finding is not None and finding.rule == "cancel_not_cancellable"
    assert judge_cancel(seen, "processing") is None


# --------------------------------------------------------------------------- server == kit

# rule -> (a client that breaks it, a scenario that exposes it)
_EXPOSED: dict[str, tuple[Client, str]] = {
    "polling_too_fast": (polls_every_2s, "happy"),
    "poll_after_terminal": (only_completed_or_failed_end_a_job, "with_errors"),
    "resume_not_blocked": (resumes_whenever_not_done, "slow"),
    "cancel_not_cancellable": (cancels_what_did_not_complete, "with_errors"),
}


def _server_verdict(client: Client, scenario: str) -> list[str]:
    """The rules the server records when `client` waits for one job of `scenario`."""
    mock = PlangrepMock(MockOptions(polling="record", scenario=scenario, strict=False)).start()
    try:
        job = mock.create_job()
        with contextlib.suppress(TimeoutError, RuntimeError, KeyError):
            client(mock.base_url, mock.api_key, job["id"], mock.sleep)
        return [v["rule"] for v in mock.violations]
    finally:
        mock.stop()


@pytest.mark.parametrize("rule_id", sorted(_EXPOSED))
def test_server_and_check_client_judge_each_rule_the_same(rule_id: str) -> None:
    client, scenario = _EXPOSED[rule_id]
    assert RULES[rule_id].server and RULES[rule_id].judge is not None
    assert _server_verdict(client, scenario)[:1] == [rule_id]
    with pytest.raises(ContractViolation) as info:
        check_client(client, max_examples=30, seed=3)
    assert info.value.rule == rule_id


# --------------------------------------------------------------------------- workflow rules


def test_the_workflow_rules_are_in_the_registry() -> None:
    assert set(WORKFLOW_RULES) <= set(RULES)
    assert {r.id for r in rules("workflow")} - set(WORKFLOW_RULES) == {"index_retry_too_fast"}
    server = {r.id for r in rules("workflow", server=True)} & set(WORKFLOW_RULES)
    assert server == {
        "duplicate_job",
        "complete_repeated",
        "retry_after_ignored",
        "result_not_available",
    }
    for rule_id in set(WORKFLOW_RULES) - server:  # each says why only a checker judges it
        r = RULES[rule_id]
        assert r.family == "client" or "only the kits judge it" in r.text, rule_id


def test_result_is_judged_by_the_status() -> None:
    assert judge_result("completed") is None and judge_result("completed_with_errors") is None
    for status in ("processing", "failed", "cancelled", "expired"):
        finding = judge_result(status)
        assert finding is not None and finding.rule == "result_not_available"


def test_complete_is_judged_by_what_this_key_had_accepted() -> None:
    seen = Seen()
    assert judge_complete(seen, None) is None  # the first complete
    seen.completed(10.0, "k1")
    assert judge_complete(seen, "k1") is None  # a replay with the same key
    for key in (None, "k2"):
        finding = judge_complete(seen, key)
        assert finding is not None and finding.facts["firstKey"] == "k1"


def test_a_create_repeating_a_lost_one_is_a_duplicate() -> None:
    creates = Creates()
    what = create_fingerprint("order-1", "https://hooks.example/x")
    assert judge_create(creates, 0.0, what) is None
    creates.answer_lost("job_a", 0.0, what)
    finding = judge_create(creates, 30.0, what)
    assert finding is not None and finding.facts["first"] == "job_a"
    assert judge_create(creates, 30.0, create_fingerprint("order-2", None)) is None
    assert judge_create(creates, DUPLICATE_WINDOW + 1, what) is None  # a new submission
    creates.answered("job_a")  # a replay showed the job after all
    assert judge_create(creates, 40.0, what) is None


def test_retry_after_is_judged_per_call_and_leaves_polls_to_polling_too_fast() -> None:
    asked = RetryAfters()
    create = "/api/open/v1/projects/proj_x/jobs"
    asked.answered(call_key("POST", create), 100.0, 20.0)
    finding = judge_retry_after(asked, "POST", create, 110.0)
    assert finding is not None and finding.facts["retryAfter"] == 20.0
    assert judge_retry_after(asked, "POST", create, 120.0) is None  # exactly Retry-After
    assert judge_retry_after(asked, "POST", "/api/open/v1/jobs/job_x/files", 101.0) is None
    asked.answered(call_key("GET", "/api/open/v1/jobs/job_x"), 100.0, 20.0)
    assert judge_retry_after(asked, "GET", "/api/open/v1/jobs/job_x", 101.0) is None
    asked.answered(call_key("POST", create), 130.0, 0.0)  # answered without one: forgotten
    assert judge_retry_after(asked, "POST", create, 130.5) is None


def test_retry_storm_needs_quick_retries_in_a_row_or_too_many_attempts() -> None:
    run = FailureRun()
    assert judge_retry_storm(run, 0.0) is None  # no failure yet
    for t in (0.0, 0.1, 0.2):
        run.failed(t)
        found = judge_retry_storm(run, t + 0.1)
    assert found is not None and found.facts["quick"] == 3
    slow = FailureRun()
    for t in range(RETRY_MAX_ATTEMPTS):
        slow.failed(t * 10.0)
        verdict = judge_retry_storm(slow, t * 10.0 + 5.0)
        assert verdict is None or t == RETRY_MAX_ATTEMPTS - 1
    assert verdict is not None and verdict.facts["attempt"] == RETRY_MAX_ATTEMPTS + 1


def test_uploads_are_judged_against_the_files_given() -> None:
    given = [("a.pdf", 10), ("b.pdf", 20)]
    assert judge_uploads(given, [("b.pdf", 20), ("a.pdf", 10)]) is None
    missing = judge_uploads(given, [("a.pdf", 10)])
    assert missing is not None and missing.facts["missing"] == [("b.pdf", 20)]
    twice = judge_uploads(given, [*given, ("a.pdf", 10)])
    assert twice is not None and twice.facts["twice"] == [("a.pdf", 10)]


# rule -> (a broken workflow, the fault that exposes it on the fixture, its scenario)
_WORKFLOW_EXPOSED: dict[str, tuple[Any, dict[str, Any] | None, str]] = {
    "duplicate_job": (
        CreateRetriedWithoutKey,
        {"mode": "lost_response", "operation": "createJob"},
        "happy",
    ),
    "complete_repeated": (
        CompleteRetriedWithoutKey,
        {"mode": "lost_response", "status": 504, "operation": "completeUploads"},
        "happy",
    ),
    "retry_after_ignored": (
        IgnoresRetryAfter,
        {"mode": "rate_limited", "retryAfter": 15, "operation": "createJob"},
        "happy",
    ),
    "result_not_available": (FetchesAnyTerminalResult, None, "processing_fails"),
}


def _fixture_env(mock: PlangrepMock) -> WorkflowEnv:
    """A WorkflowEnv on the fixture: virtual time through its sleep, no webhook inbox."""
    clock = {"t": 0.0}

    def sleep(seconds: float) -> None:
        clock["t"] += seconds
        mock.sleep(seconds)

    async def asleep(seconds: float) -> None:
        sleep(seconds)

    def next_webhook(timeout: float) -> None:
        sleep(timeout)

    async def anext_webhook(timeout: float) -> None:
        sleep(timeout)

    return WorkflowEnv(
        base_url=mock.base_url,
        api_key=mock.api_key,
        project_id=mock.project_id,
        files=[("01-plans.pdf", b"%PDF-1.4 plans", "application/pdf"),
               ("02-specifications.pdf", b"%PDF-1.4 specs", "application/pdf")],
        webhook_url=mock.url + "/_mock/health",  # answers 405: every delivery fails
        sleep=sleep,
        asleep=asleep,
        next_webhook=next_webhook,
        anext_webhook=anext_webhook,
        monotonic=lambda: clock["t"],
    )  # fmt: skip


def _server_verdict_of_workflow(
    cls: Any, fault: dict[str, Any] | None, scenario: str
) -> list[str]:
    mock = PlangrepMock(MockOptions(scenario=scenario, strict=False)).start()
    try:
        if fault is not None:
            mock.fault(fault.pop("mode"), target="api", **fault)
        with contextlib.suppress(Exception):
            cls(_fixture_env(mock)).run()
        return [v["rule"] for v in mock.violations]
    finally:
        mock.stop()


@pytest.mark.parametrize("rule_id", sorted(_WORKFLOW_EXPOSED))
def test_server_and_check_workflow_judge_each_workflow_rule_the_same(rule_id: str) -> None:
    cls, fault, scenario = _WORKFLOW_EXPOSED[rule_id]
    assert RULES[rule_id].server and RULES[rule_id].judge is not None
    assert _server_verdict_of_workflow(cls, fault and dict(fault), scenario)[:1] == [rule_id]
    with pytest.raises(ContractViolation) as info:
        check_workflow(BrokenWorkflow(cls, rule_id), max_examples=5, seed=3)
    assert info.value.rule == rule_id


def test_the_right_workflow_records_nothing_on_the_server_under_the_same_faults() -> None:
    for _, fault, scenario in _WORKFLOW_EXPOSED.values():
        assert _server_verdict_of_workflow(WebhookFirst, fault and dict(fault), scenario) == []
