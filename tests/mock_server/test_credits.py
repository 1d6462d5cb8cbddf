"""Credits and pages through the engine: reservation, debits, blocks at preflight and
mid-processing, top-up and resume (API.md "Credits")."""

from __future__ import annotations

from .harness import Server


def _balance(s: Server, key: str = "pgk_test_a") -> int:
    balance: int = s.control("GET", f"/accounts/{key}/credits").json()["balance"]
    return balance


def _set_balance(s: Server, n: int, key: str = "pgk_test_a") -> None:
    r = s.control("PUT", f"/accounts/{key}/credits", json={"balance": n})
    assert r.status_code == 200, r.text
    assert r.json()["balance"] == n


def test_blocked_at_preflight_then_top_up_and_resume(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid, scenario="expensive")  # 400 pages x 50 credits
    server.advance(3)
    job = server.api("GET", f"/jobs/{job_id}").json()["job"]
    assert job["status"] == "blocked_insufficient_credits"
    assert job["billing"] == {"creditsReserved": 0, "creditsDebited": 0}
    assert _balance(server) == 9950  # nothing taken

    _set_balance(server, 50_000)
    r = server.api("POST", f"/jobs/{job_id}/resume")
    assert r.status_code == 200
    assert r.json()["job"]["status"] == "preflighting"
    server.advance(3)
    job = server.api("GET", f"/jobs/{job_id}").json()["job"]
    assert job["status"] == "processing"
    assert job["billing"]["creditsReserved"] == 20_000
    assert _balance(server) == 30_000
    server.advance(4)  # 50 pages a second: 200 pages done
    job = server.api("GET", f"/jobs/{job_id}").json()["job"]
    assert job["successfulPageCount"] == 200
    assert job["billing"] == {"creditsReserved": 10_000, "creditsDebited": 10_000}
    server.advance(10)
    job = server.api("GET", f"/jobs/{job_id}").json()["job"]
    assert job["status"] == "completed"
    assert job["pageCount"] == job["successfulPageCount"] == 400
    assert job["billing"] == {"creditsReserved": 0, "creditsDebited": 20_000}
    assert _balance(server) == 30_000


def test_blocked_mid_processing_resumes_where_it_stopped(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid, scenario="runs_dry")  # 1 + 1500 drawing pages at 10
    server.advance(3 + 200)
    job = server.job(job_id)["job"]
    assert job["status"] == "blocked_insufficient_credits"
    done_before = job["successfulPageCount"]
    debited_before = job["billing"]["creditsDebited"]
    assert 0 < done_before < 1501
    assert debited_before == done_before * 10
    assert _balance(server) + debited_before == 9950

    _set_balance(server, 20_000)
    assert server.api("POST", f"/jobs/{job_id}/resume").status_code == 200
    server.advance(3)
    assert server.job(job_id)["job"]["successfulPageCount"] >= done_before
    server.advance(200)
    job = server.job(job_id)["job"]
    assert job["status"] == "completed"
    assert job["successfulPageCount"] == job["pageCount"] == 1501
    assert job["billing"] == {"creditsReserved": 0, "creditsDebited": 15_010}
    assert _balance(server) == 20_000 - (15_010 - debited_before)


def test_failed_pages_are_free(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid, scenario="with_errors")["job"]["id"]
    # 4 document pages (400 kB, no classification) at 1 credit; 25% fail
    assert server.upload(job_id, files=[("spec.pdf", b"x" * 400_000, None)]).status_code == 200
    assert server.complete(job_id).status_code == 202
    server.advance(60)
    job = server.job(job_id)["job"]
    assert job["status"] == "completed_with_errors"
    assert job["pageCount"] == 4
    assert job["successfulPageCount"] == 3
    assert job["billing"] == {"creditsReserved": 0, "creditsDebited": 3}
    assert _balance(server) == 9950 - 3


def test_resume_when_not_blocked_is_409_and_a_violation(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    r = server.api("POST", f"/jobs/{job_id}/resume")
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "job_not_blocked"
    assert err["currentStatus"] == "awaiting_uploads"
    (v,) = server.control("GET", "/violations").json()["violations"]
    assert v["rule"] == "resume_not_blocked" and v["jobId"] == job_id


def test_job_on_an_unready_project_is_409_and_a_violation(server: Server) -> None:
    r = server.api("POST", "/projects", json={"name": "fresh"})
    pid = r.json()["project"]["id"]
    r = server.api("POST", f"/projects/{pid}/jobs", json={})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "project_not_ready"
    assert err["currentStatus"] == "provisioning"
    (v,) = server.control("GET", "/violations").json()["violations"]
    assert v["rule"] == "job_create_on_unready_project"
    assert v["projectId"] == pid


def test_project_creation_with_a_low_balance_charges_what_is_left(server: Server) -> None:
    _set_balance(server, 20)
    r = server.api("POST", "/projects", json={"name": "cheap"})
    assert r.status_code == 202
    assert r.json()["billing"] == {
        "availableCredits": 20,
        "creditsCharged": 20,
        "requiredCredits": 50,
    }
    assert _balance(server) == 0


def test_a_resume_racing_another_resume_is_409_but_no_violation(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid, scenario="expensive")
    server.advance(10)
    assert server.api("GET", f"/jobs/{job_id}").json()["job"]["status"] == (
        "blocked_insufficient_credits"
    )
    # the account owner resumes first (through the control API); this key still saw it blocked
    server.control("POST", f"/jobs/{job_id}/events", json={"event": "resume"})
    r = server.api("POST", f"/jobs/{job_id}/resume")
    assert r.status_code == 409 and r.json()["error"]["currentStatus"] == "preflighting"
    assert server.control("GET", "/violations").json()["violations"] == []
    # resuming again after the 409 showed this key preflighting is the client's mistake
    assert server.api("POST", f"/jobs/{job_id}/resume").status_code == 409
    (v,) = server.control("GET", "/violations").json()["violations"]
    assert v["rule"] == "resume_not_blocked"
