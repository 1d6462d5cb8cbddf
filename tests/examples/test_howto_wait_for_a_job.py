"""How to test the code that waits for a Plangrep job, in virtual time.

The `plangrep_mock` fixture gives a fresh mock server per test, with a manual clock and a ready
project. Point your client at `plangrep_mock.base_url` and inject `plangrep_mock.sleep` where it
would call `time.sleep`: each sleep moves the mock's clock instead of waiting, so a job that takes
minutes finishes in milliseconds.
"""

from __future__ import annotations

import pytest

from mock_server.client import PlangrepClient, wait_for_job
from mock_server.testing import PlangrepMock


def test_my_client_returns_the_completed_job(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job(external_id="order-42")  # created, one file, uploads done

    final = wait_for_job(
        plangrep_mock.base_url, plangrep_mock.api_key, job["id"], sleep=plangrep_mock.sleep
    )

    assert final["status"] == "completed"
    assert final["externalId"] == "order-42"
    assert final["billing"]["creditsDebited"] > 0


@pytest.mark.plangrep_mock(scenario="with_errors")
def test_a_partial_result(plangrep_mock: PlangrepMock) -> None:
    """The marker picks the scenario of every job in the test (see `plangrep-mock` scenarios)."""
    job = plangrep_mock.create_job()
    final = wait_for_job(
        plangrep_mock.base_url, plangrep_mock.api_key, job["id"], plangrep_mock.sleep
    )
    assert final["status"] == "completed_with_errors"
    assert final["successfulPageCount"] < final["pageCount"]


def test_driving_the_clock_by_hand(plangrep_mock: PlangrepMock) -> None:
    """Without a client loop: advance the clock and look at the job (and its history)."""
    job = plangrep_mock.create_job()
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    assert client.get_job(job["id"])["status"] == "preflighting"

    fired = plangrep_mock.advance(3)  # the default preflight takes 3 virtual seconds
    assert [t["to"] for t in fired] == ["processing"]

    plangrep_mock.advance(60)
    seen = plangrep_mock.job(job["id"])
    assert seen["job"]["status"] == "completed"
    assert [h["event"] for h in seen["history"]][-2:] == ["pass_preflight", "complete"]


def test_a_failure_you_force(plangrep_mock: PlangrepMock) -> None:
    """`force(job_id, event)` fires any event the machine allows, now."""
    job = plangrep_mock.create_job()
    plangrep_mock.force(job["id"], "fail")
    final = wait_for_job(
        plangrep_mock.base_url, plangrep_mock.api_key, job["id"], plangrep_mock.sleep
    )
    assert final["status"] == "failed"
    assert final["error"]["code"] == "forced_failure"
