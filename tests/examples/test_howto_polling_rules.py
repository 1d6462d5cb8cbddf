"""How the fixture holds your code to Plangrep's polling rules.

The fixture is strict by default: when the code under test polls a job more often than every 5 s,
polls again after a terminal status, resumes a job that is not blocked or cancels a terminal one,
the test fails at the end with a report of what happened. With `strict=False` the violations are
only recorded, for you to assert on.
"""

from __future__ import annotations

import pytest

from mock_server.client import PlangrepApiError, PlangrepClient
from mock_server.testing import PlangrepMock


@pytest.mark.plangrep_mock(polling="record", strict=False)
def test_what_a_too_eager_client_is_told(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    client.get_job(job["id"])
    plangrep_mock.advance(2)
    client.get_job(job["id"])

    (violation,) = plangrep_mock.violations
    assert violation["rule"] == "polling_too_fast"
    assert "polled twice within 2.0 s; Plangrep asks for at least 5.0 s" in violation["message"]
    with pytest.raises(AssertionError, match="polling_too_fast"):
        plangrep_mock.check()  # what strict mode runs after the test


@pytest.mark.plangrep_mock(strict=False)
def test_the_enforced_rule_answers_429(plangrep_mock: PlangrepMock) -> None:
    """With the default policy (`enforce`) a too-fast poll is also answered 429 with
    `Retry-After`: the seconds until 5 s have passed since the last answered poll."""
    job = plangrep_mock.create_job()
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    client.request("GET", f"/jobs/{job['id']}")
    plangrep_mock.advance(2)
    with pytest.raises(PlangrepApiError) as info:
        client.request("GET", f"/jobs/{job['id']}")
    assert (info.value.status, info.value.code, info.value.retry_after) == (
        429,
        "polling_too_fast",
        3.0,
    )
    plangrep_mock.advance(3)  # exactly 5 s after the answered poll is allowed
    assert client.request("GET", f"/jobs/{job['id']}")["job"]["status"] == "completed"
