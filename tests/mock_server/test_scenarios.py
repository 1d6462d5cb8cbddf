"""Every built-in scenario to its end over HTTP; choosing scenarios by header and queue."""

from __future__ import annotations

import pytest

from .harness import Server

WEEK = 7 * 24 * 3600

EXPECTED = {
    "happy": "completed",
    "with_errors": "completed_with_errors",
    "processing_fails": "failed",
    "preflight_fails": "failed",
    "expensive": "blocked_insufficient_credits",
    "runs_dry": "blocked_insufficient_credits",
    "slow": "completed",
    "cold_start": "completed",
    "cancel_deferred": "completed",
    "cancel_race_lost": "completed",
}


def _run(server: Server, scenario: str, seconds: float = 3600) -> dict[str, object]:
    pid = server.ready_project()
    job_id = server.new_job(pid, scenario=scenario)["job"]["id"]
    if server.job(job_id)["job"]["status"] == "provisioning":
        server.advance(60)
    assert server.upload(job_id).status_code == 200
    assert server.complete(job_id).status_code == 202
    server.advance(seconds)
    return server.job(job_id)


@pytest.mark.parametrize(("scenario", "status"), sorted(EXPECTED.items()))
def test_builtin_scenario_reaches_its_status(server: Server, scenario: str, status: str) -> None:
    got = _run(server, scenario)
    job = got["job"]
    assert isinstance(job, dict)
    assert job["status"] == status
    assert got["scenario"] == scenario
    if status == "failed":
        assert job["error"] is not None and job["error"]["code"]
    else:
        assert job["error"] is None


@pytest.mark.parametrize("scenario", ["expensive", "runs_dry"])
def test_a_blocked_job_never_resumed_expires(server: Server, scenario: str) -> None:
    got = _run(server, scenario, seconds=WEEK + 1)
    job = got["job"]
    assert isinstance(job, dict)
    assert job["status"] == "expired"
    assert job["completedAt"] is not None


def test_random_reaches_terminal_statuses(server: Server) -> None:
    pid = server.ready_project()
    ids = []
    for _ in range(12):
        job_id = server.new_job(pid, scenario="random")["job"]["id"]
        assert server.upload(job_id).status_code == 200
        assert server.complete(job_id).status_code == 202
        ids.append(job_id)
    server.control("PUT", "/accounts/pgk_test_a/credits", json={"balance": 10**9})
    server.advance(WEEK + 10)
    statuses = {server.job(j)["job"]["status"] for j in ids}
    assert statuses <= {"completed", "completed_with_errors", "failed", "expired"}


def test_cold_start_job_is_provisioning_and_refuses_uploads(server: Server) -> None:
    pid = server.ready_project()
    created = server.new_job(pid, scenario="cold_start")
    assert created["job"]["status"] == "provisioning"
    job_id = created["job"]["id"]
    r = server.upload(job_id)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "job_not_ready"
    assert r.json()["error"]["currentStatus"] == "provisioning"
    server.advance(30)
    assert server.upload(job_id).status_code == 200


def test_unknown_scenario_header_is_422_listing_known(server: Server) -> None:
    pid = server.ready_project()
    r = server.api("POST", f"/projects/{pid}/jobs", json={}, headers={"X-Mock-Scenario": "nope"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert "happy" in err["message"] and "runs_dry" in err["message"]
    assert err["details"][0]["field"] == "X-Mock-Scenario"


def test_queued_scenarios_by_name_and_inline(server: Server) -> None:
    r = server.control("POST", "/scenarios/next", json={"scenario": "with_errors"})
    assert r.status_code == 200
    inline = {"name": "quick_fail", "preflight_outcome": "fail", "preflight_delay": 1}
    r = server.control("POST", "/scenarios/next", json={"scenario": inline})
    assert r.json() == {"queued": ["with_errors", "quick_fail"]}
    assert server.control("GET", "/scenarios").json()["queued"] == ["with_errors", "quick_fail"]
    pid = server.ready_project()
    a = server.started_job(pid)
    b = server.started_job(pid)
    c = server.started_job(pid)  # queue empty: the default
    assert [server.job(j)["scenario"] for j in (a, b, c)] == ["with_errors", "quick_fail", "happy"]
    server.advance(1)
    assert server.job(b)["job"]["status"] == "failed"


def test_the_header_wins_over_the_queue(server: Server) -> None:
    server.control("POST", "/scenarios/next", json={"scenario": "slow"})
    pid = server.ready_project()
    job_id = server.new_job(pid, scenario="happy")["job"]["id"]
    assert server.job(job_id)["scenario"] == "happy"
    assert server.control("GET", "/scenarios").json()["queued"] == ["slow"]


@pytest.mark.parametrize(
    ("scenario", "field"),
    [
        ("nope", "scenario"),
        ({"name": "x", "preflight_delay": -1}, "scenario.preflight_delay"),
        ({"name": "x", "bogus": 1}, "scenario.bogus"),
        ({"preflight_delay": 1}, "scenario.name"),
        (5, "scenario"),
    ],
)
def test_bad_queued_scenarios_are_422(server: Server, scenario: object, field: str) -> None:
    r = server.control("POST", "/scenarios/next", json={"scenario": scenario})
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert err["details"][0]["field"].startswith(field)
    assert server.control("GET", "/scenarios").json()["queued"] == []


def test_scenarios_list_has_every_builtin(server: Server) -> None:
    body = server.control("GET", "/scenarios").json()
    names = {s["name"] for s in body["scenarios"]}
    assert set(EXPECTED) | {"random"} <= names
    assert body["default"] == "happy"
