"""How to test that your client survives Plangrep having a bad moment.

`plangrep_mock.fault("error", target="api", status=503, count=n)` answers the next n public API
requests with that status; `fault("latency", target="api", seconds=s, count=n)` slows them
down. A robust client backs off and carries on; a fragile one raises.
"""

from __future__ import annotations

import pytest

from mock_server.client import PlangrepApiError, PlangrepClient, wait_for_job
from mock_server.testing import PlangrepMock


def test_backs_off_and_carries_on(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    plangrep_mock.fault("error", target="api", status=503, count=2)

    final = wait_for_job(
        plangrep_mock.base_url, plangrep_mock.api_key, job["id"], plangrep_mock.sleep
    )

    assert final["status"] == "completed"
    answered = [r["status"] for r in plangrep_mock.requests]
    assert answered == [503, 503, 200]


def test_a_fragile_client_raises(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    plangrep_mock.fault("error", target="api", status=500, count=1)
    with pytest.raises(PlangrepApiError) as info:
        PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key).get_job(job["id"])
    assert info.value.status == 500 and info.value.transient
