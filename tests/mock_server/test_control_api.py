"""The control API: clock, forced events, history, credits, journal, violations, reset."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .harness import Server


def test_clock_read_and_advance(server: Server) -> None:
    before = server.control("GET", "/clock").json()
    assert before["mode"] == "manual" and before["speed"] == 1.0
    r = server.control("POST", "/clock/advance", json={"seconds": 90})
    assert r.status_code == 200
    after = r.json()
    assert after["epochSeconds"] == pytest.approx(before["epochSeconds"] + 90)
    assert after["fired"] == []
    assert server.control("GET", "/clock").json()["now"] == after["now"]


def test_advance_reports_the_transitions_it_fired_in_order(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid)
    fired = server.advance(100)["fired"]
    assert [(f["objectId"], f["event"]) for f in fired] == [
        (job_id, "pass_preflight"),
        (job_id, "complete"),
    ]
    assert fired[0]["at"] < fired[1]["at"]


@pytest.mark.parametrize(
    "body",
    [{"seconds": -1}, {"seconds": "ten"}, {}, {"seconds": None}, [1]],
)
def test_bad_advances_are_422(server: Server, body: object) -> None:
    r = server.control("POST", "/clock/advance", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"


def test_nan_and_infinite_advances_are_422(server: Server) -> None:
    for raw in (b'{"seconds": NaN}', b'{"seconds": Infinity}'):
        r = server.control(
            "POST", "/clock/advance", data=raw, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 422, raw
    assert server.control("GET", "/clock").json()["epochSeconds"] > 0


def test_forced_job_events(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    r = server.control("POST", f"/jobs/{job_id}/events", json={"event": "start_upload"})
    assert r.status_code == 200
    assert r.json()["job"]["status"] == "uploading"
    assert r.json()["transition"]["forced"] is True
    r = server.control("POST", f"/jobs/{job_id}/events", json={"event": "complete"})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["currentStatus"] == "uploading"
    assert set(err["allowedEvents"]) == {"complete_uploads", "cancel", "expire"}
    r = server.control("POST", f"/jobs/{job_id}/events", json={"event": "explode"})
    assert r.status_code == 422
    assert "provision" in r.json()["error"]["details"][0]["message"]
    r = server.control("POST", "/jobs/job_nope/events", json={"event": "cancel"})
    assert r.status_code == 404


def test_forced_fail_sets_an_error(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid)
    r = server.control("POST", f"/jobs/{job_id}/events", json={"event": "fail"})
    job = r.json()["job"]
    assert job["status"] == "failed"
    assert job["error"]["code"] == "forced_failure"


def test_forced_project_events(server: Server) -> None:
    pid = server.api("POST", "/projects", json={"name": "x"}).json()["project"]["id"]
    r = server.control("POST", f"/projects/{pid}/events", json={"event": "provision"})
    assert r.status_code == 200
    assert r.json()["project"]["status"] == "ready"
    r = server.control("POST", f"/projects/{pid}/events", json={"event": "provision"})
    assert r.status_code == 409
    assert r.json()["error"]["currentStatus"] == "ready"
    assert (
        server.control("POST", "/projects/proj_x/events", json={"event": "provision"}).status_code
        == 404
    )


def test_mock_job_has_history_and_deliveries(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid)
    body = server.job(job_id)
    assert body["job"]["id"] == job_id
    assert [(h["from"], h["to"], h["event"]) for h in body["history"]] == [
        ("provisioning", "awaiting_uploads", "provision"),
        ("awaiting_uploads", "uploading", "start_upload"),
        ("uploading", "preflighting", "complete_uploads"),
    ]
    assert isinstance(body["deliveries"], list)
    assert server.control("GET", "/jobs/job_nope").status_code == 404


def test_credits_of_a_key(server: Server) -> None:
    body = server.control("GET", "/accounts/pgk_new/credits").json()
    assert body["balance"] == 10_000
    assert body["profile"] == {
        "drawingCreditsPerPage": 10,
        "documentCreditsPerPage": 1,
        "jobPageLimit": 500,
        "retentionDays": 30,
    }
    r = server.control("PUT", "/accounts/pgk_new/credits", json={"balance": 5})
    assert r.json()["balance"] == 5
    for bad in ({"balance": -1}, {"balance": "x"}, {"balance": 1.5}, {}):
        assert server.control("PUT", "/accounts/pgk_new/credits", json=bad).status_code == 422


def test_credits_option_sets_the_starting_balance(make_server: Callable[..., Server]) -> None:
    s = make_server(credits=123)
    assert s.control("GET", "/accounts/pgk_x/credits").json()["balance"] == 123


def test_journal_records_public_requests(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    server.api("GET", f"/jobs/{job_id}")
    server.api("GET", "/jobs/job_missing")
    server.api("GET", "/projects", key=None)
    body = server.control("GET", "/requests").json()
    reqs = body["requests"]
    assert [(r["method"], r["status"]) for r in reqs] == [
        ("POST", 202),
        ("POST", 202),
        ("GET", 200),
        ("GET", 404),
        ("GET", 401),
    ]
    assert reqs[2]["jobId"] == job_id and reqs[2]["apiKey"] == "pgk_test_a"
    assert reqs[3]["errorCode"] == "job_not_found"
    assert reqs[4]["apiKey"] is None and reqs[4]["errorCode"] == "unauthorized"
    assert reqs[1]["jobId"] == job_id and reqs[1]["projectId"] == pid
    only = server.control("GET", "/requests", params={"jobId": job_id}).json()["requests"]
    assert len(only) == 2
    # control requests are not journaled
    assert body["total"] == 5


def test_journal_is_bounded(make_server: Callable[..., Server]) -> None:
    s = make_server(journal_size=3)
    for _ in range(5):
        s.api("GET", "/projects")
    body = s.control("GET", "/requests").json()
    assert len(body["requests"]) == 3
    assert body["total"] == 5 and body["dropped"] == 2


def test_reset_forgets_everything(server: Server) -> None:
    pid = server.ready_project()
    server.api("POST", f"/jobs/{pid}/resume")
    server.control("POST", "/keys/pgk_gone/revoke")
    server.control("PUT", "/accounts/pgk_test_a/credits", json={"balance": 1})
    server.control("POST", "/scenarios/next", json={"scenario": "slow"})
    assert server.control("POST", "/reset").json() == {"reset": True}
    assert server.api("GET", "/projects").json() == {"projects": []}
    assert server.api("GET", "/projects", key="pgk_gone").status_code == 200
    assert server.control("GET", "/accounts/pgk_test_a/credits").json()["balance"] == 10_000
    assert server.control("GET", "/scenarios").json()["queued"] == []
    assert server.control("GET", "/violations").json() == {"violations": []}
    assert len(server.control("GET", "/requests").json()["requests"]) == 2


def test_health(server: Server) -> None:
    body = server.control("GET", "/health").json()
    assert body["status"] == "ok" and body["clock"] == "manual"


def test_journal_limit_keeps_the_last_requests(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    for _ in range(3):
        assert server.api("GET", f"/jobs/{job_id}").status_code == 200
    every = server.control("GET", "/requests", params={"jobId": job_id}).json()["requests"]
    last = server.control("GET", "/requests", params={"jobId": job_id, "limit": 2}).json()
    assert len(every) == 4 and last["requests"] == every[-2:]
    for bad in ("0", "-1", "two", "1.5", " 2", "10000000"):
        r = server.control("GET", "/requests", params={"limit": bad})
        assert r.status_code == 422, bad
        assert r.json()["error"]["details"][0]["field"] == "limit"
