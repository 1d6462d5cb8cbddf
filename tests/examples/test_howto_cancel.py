"""How to test cancelling a job.

Plangrep answers a cancel at once, but while a job is processing the cancellation may lag, so
clients poll to confirm. The mock's scenarios `cancel_deferred` (GET keeps saying processing for
10 s) and `cancel_race_lost` (processing finishes first: the job ends completed) make both visible.
"""

from __future__ import annotations

import pytest

from mock_server.client import PlangrepClient
from mock_server.testing import PlangrepMock


def _client(plangrep_mock: PlangrepMock) -> PlangrepClient:
    return PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key, sleep=plangrep_mock.sleep)


def test_cancel_before_processing(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    assert _client(plangrep_mock).cancel_and_confirm(job["id"])["status"] == "cancelled"


@pytest.mark.plangrep_mock(scenario="cancel_deferred")
def test_a_cancel_that_lags(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    plangrep_mock.advance(5)  # processing now
    client = _client(plangrep_mock)
    assert client.cancel(job["id"])["status"] == "cancelled"  # the answer...
    plangrep_mock.advance(5)
    assert client.get_job(job["id"])["status"] == "processing"  # ...is ahead of the job
    final = client.wait(job["id"])
    assert final["status"] == "cancelled"


@pytest.mark.plangrep_mock(scenario="cancel_race_lost")
def test_a_cancel_that_loses_the_race(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    plangrep_mock.advance(5)
    final = _client(plangrep_mock).cancel_and_confirm(job["id"])
    assert final["status"] == "completed"  # pages processed stay billed; the result is there


def test_a_cancel_that_crosses_the_end_of_the_job(plangrep_mock: PlangrepMock) -> None:
    """The job finished before the cancel arrived: the cancel is refused (409), and
    `cancel_and_confirm` reads the terminal job back. This client never saw the job terminal
    before cancelling, so it broke no rule and strict mode stays quiet."""
    job = plangrep_mock.create_job()
    plangrep_mock.advance(60)
    assert _client(plangrep_mock).cancel_and_confirm(job["id"])["status"] == "completed"
    assert plangrep_mock.violations == []


@pytest.mark.plangrep_mock(strict=False)
def test_cancelling_a_job_you_saw_finish_is_a_violation(plangrep_mock: PlangrepMock) -> None:
    """A client that was shown the terminal status and still cancels breaks the contract; a
    test that provokes it on purpose opts out of strict mode and reads the violations."""
    job = plangrep_mock.create_job()
    plangrep_mock.advance(60)
    client = _client(plangrep_mock)
    assert client.get_job(job["id"])["status"] == "completed"
    plangrep_mock.advance(15)
    assert client.cancel_and_confirm(job["id"])["status"] == "completed"
    assert [v["rule"] for v in plangrep_mock.violations] == [
        "cancel_not_cancellable",
        "poll_after_terminal",
    ]
