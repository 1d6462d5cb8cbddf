"""How to test what your code does when a job runs out of credits.

A job blocks in `blocked_insufficient_credits` when the organisation's balance cannot pay for it,
at preflight or during processing. Your code tops the account up (outside Plangrep's API) and
resumes the job; the reference client calls an `on_blocked(job)` hook for that and resumes as soon
as the hook says it topped up.
"""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.client import wait_for_job
from mock_server.testing import PlangrepMock


@pytest.mark.plangrep_mock(credits=0)
def test_top_up_and_resume(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    blocked: list[str] = []

    def top_up(j: dict[str, Any]) -> bool:
        blocked.append(j["status"])
        plangrep_mock.set_credits(1_000)  # what your billing code would do
        return True

    final = wait_for_job(
        plangrep_mock.base_url,
        plangrep_mock.api_key,
        job["id"],
        plangrep_mock.sleep,
        on_blocked=top_up,
    )
    assert blocked == ["blocked_insufficient_credits"]
    assert final["status"] == "completed"


@pytest.mark.plangrep_mock(scenario="runs_dry")
def test_blocked_in_the_middle_of_processing(plangrep_mock: PlangrepMock) -> None:
    """`runs_dry` finds more pages than estimated: the balance runs out mid-processing, and
    processing continues from the page where it stopped after the resume."""
    job = plangrep_mock.create_job()
    plangrep_mock.advance(600)
    stuck = plangrep_mock.job(job["id"])["job"]
    assert stuck["status"] == "blocked_insufficient_credits"
    assert stuck["billing"]["creditsDebited"] > 0  # pages processed so far stay billed

    def top_up(j: dict[str, Any]) -> bool:
        plangrep_mock.set_credits(100_000)
        return True

    final = wait_for_job(
        plangrep_mock.base_url,
        plangrep_mock.api_key,
        job["id"],
        plangrep_mock.sleep,
        on_blocked=top_up,
    )
    assert final["status"] == "completed"


@pytest.mark.plangrep_mock(credits=0, scenario={"name": "short_ttl", "job_ttl": 3600})
def test_nobody_tops_up_and_the_job_expires(plangrep_mock: PlangrepMock) -> None:
    """A scenario object in the marker: this one's jobs expire after an hour."""
    job = plangrep_mock.create_job()
    plangrep_mock.advance(3600)
    assert plangrep_mock.job(job["id"])["job"]["status"] == "expired"
