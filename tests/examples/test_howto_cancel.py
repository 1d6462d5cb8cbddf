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


@pytest.mark.plangrep_mock(strict=False)
def test_cancelling_a_finished_job_is_refused(plangrep_mock: PlangrepMock) -> None:
    """`cancel_and_confirm` reads a terminal job back instead of failing on the 409. The server
    records every cancel of a terminal job as a violation, even one that merely crossed the
    job's last transition, so a test that provokes it on purpose opts out of strict mode."""
    job = plangrep_mock.create_job()
    plangrep_mock.advance(60)
    assert _client(plangrep_mock).cancel_and_confirm(job["id"])["status"] == "completed"
    assert [v["rule"] for v in plangrep_mock.violations] == ["cancel_not_cancellable"]
