"""Cancel: immediate, deferred and race_lost while processing; not on a terminal job."""

from __future__ import annotations

from .harness import Server


def _processing(server: Server, scenario: str) -> str:
    pid = server.ready_project()
    job_id = server.started_job(pid, scenario=scenario)
    server.advance(3)
    assert server.job(job_id)["job"]["status"] == "processing"
    return job_id


def test_cancel_before_upload(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    r = server.api("POST", f"/jobs/{job_id}/cancel")
    assert r.status_code == 200
    job = r.json()["job"]
    assert job["status"] == "cancelled"
    assert job["completedAt"] is not None


def test_immediate_cancel_while_processing_keeps_processed_pages_billed(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid, scenario="slow")["job"]["id"]
    assert server.upload(job_id, files=[("a.pdf", b"x" * 500_000, "plans")]).status_code == 200
    assert server.complete(job_id).status_code == 202
    server.advance(60 + 25)  # preflight 60 s, then a page every 10 s: 2 pages done
    r = server.api("POST", f"/jobs/{job_id}/cancel")
    job = r.json()["job"]
    assert job["status"] == "cancelled"
    assert [f["status"] for f in job["files"]] == ["cancelled"]
    assert job["billing"] == {"creditsReserved": 0, "creditsDebited": 20}
    assert server.control("GET", "/accounts/pgk_test_a/credits").json()["balance"] == 9950 - 20
    assert server.job(job_id)["job"]["status"] == "cancelled"


def test_deferred_cancel_answers_cancelled_while_get_says_processing(server: Server) -> None:
    job_id = _processing(server, "cancel_deferred")
    r = server.api("POST", f"/jobs/{job_id}/cancel")
    assert r.status_code == 200
    shown = r.json()["job"]
    assert shown["status"] == "cancelled"
    assert shown["completedAt"] is not None
    assert [f["status"] for f in shown["files"]] == ["cancelled"]
    assert server.api("GET", f"/jobs/{job_id}").json()["job"]["status"] == "processing"
    # a repeated cancel while it is pending is acknowledged again, not an error
    assert server.api("POST", f"/jobs/{job_id}/cancel").json()["job"]["status"] == "cancelled"
    server.advance(10)
    assert server.api("GET", f"/jobs/{job_id}").json()["job"]["status"] == "cancelled"


def test_race_lost_cancel_answers_cancelled_but_the_job_completes(server: Server) -> None:
    job_id = _processing(server, "cancel_race_lost")
    r = server.api("POST", f"/jobs/{job_id}/cancel")
    assert r.status_code == 200
    assert r.json()["job"]["status"] == "cancelled"
    job = server.api("GET", f"/jobs/{job_id}").json()["job"]
    assert job["status"] == "completed"
    assert job["error"] is None


def test_cancel_of_a_terminal_job_is_409_and_a_violation(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    assert server.api("POST", f"/jobs/{job_id}/cancel").status_code == 200
    r = server.api("POST", f"/jobs/{job_id}/cancel")
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "job_not_cancellable"
    assert err["currentStatus"] == "cancelled"
    (v,) = server.control("GET", "/violations").json()["violations"]
    assert v["rule"] == "cancel_not_cancellable"


def test_a_cancel_that_crosses_the_jobs_end_is_409_but_no_violation(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid)
    server.control("POST", "/clock/advance", json={"seconds": 60})
    r = server.api("POST", f"/jobs/{job_id}/cancel")  # this key never saw it completed
    assert r.status_code == 409 and r.json()["error"]["currentStatus"] == "completed"
    assert server.control("GET", "/violations").json()["violations"] == []
