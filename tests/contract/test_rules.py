"""The one rule registry: every rule has its text and source; the rules about one job are judged
by one function each, and the server and `check_client` reach the same verdict with it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from mock_server.contract import ContractViolation, check_client
from mock_server.contract.rules import (
    RULES,
    Seen,
    SeenIndex,
    judge_cancel,
    judge_index_retry,
    judge_poll,
    judge_resume,
    rule,
    rules,
)
from mock_server.journal import VIOLATION_RULES
from mock_server.testing import MockOptions, PlangrepMock

from .broken_clients import (
    cancels_what_did_not_complete,
    only_completed_or_failed_end_a_job,
    polls_every_2s,
    resumes_whenever_not_done,
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
