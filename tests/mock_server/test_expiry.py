"""Expiry (API.md part B, "Expiry"): at expiresAt a job that is not terminal becomes expired;
from expiresAt on its result and resultUrl answer 404 job_expired; the job itself stays readable
for 24 virtual hours more, then answers 404 job_expired too."""

from __future__ import annotations

import requests

from statemachine import parse_time

from .harness import Server

DAY = 24 * 3600.0


def _to(server: Server, at: float) -> None:
    """Advance the virtual clock to `at` (epoch seconds)."""
    now = server.control("GET", "/clock").json()["epochSeconds"]
    assert at >= now
    server.advance(at - now)


def _err(r: requests.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def test_a_completed_job_loses_its_result_at_expires_at(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid)
    server.advance(600)
    job = server.api("GET", f"/jobs/{job_id}").json()["job"]
    assert job["status"] == "completed"
    expires = parse_time(job["expiresAt"])
    _to(server, expires - 0.001)
    assert server.api("GET", f"/jobs/{job_id}/result").status_code == 200
    assert server.http.get(job["resultUrl"], timeout=10).status_code == 200
    _to(server, expires)
    r = server.api("GET", f"/jobs/{job_id}/result")
    assert _err(r) == (404, "job_expired")
    assert r.json()["error"]["expiresAt"] == job["expiresAt"]
    assert _err(server.http.get(job["resultUrl"], timeout=10)) == (404, "job_expired")
    # the job itself is still readable, frozen at its terminal status
    r = server.api("GET", f"/jobs/{job_id}")
    assert r.status_code == 200 and r.json()["job"]["status"] == "completed"


def test_a_running_job_expires_and_stays_readable_for_a_day(server: Server) -> None:
    pid = server.ready_project()
    job = server.new_job(pid)["job"]
    expires = parse_time(job["expiresAt"])
    _to(server, expires)
    r = server.api("GET", f"/jobs/{job['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["job"]["status"] == "expired"
    assert r.json()["job"]["completedAt"] == job["expiresAt"]
    assert _err(server.api("GET", f"/jobs/{job['id']}/result")) == (404, "job_expired")
    _to(server, expires + DAY - 0.001)
    assert server.api("GET", f"/jobs/{job['id']}").status_code == 200
    listed = server.api("GET", f"/projects/{pid}/jobs").json()["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    _to(server, expires + DAY)
    r = server.api("GET", f"/jobs/{job['id']}")
    assert _err(r) == (404, "job_expired")
    assert "expired at" in r.json()["error"]["message"]
    # every job route answers the same, and the project's list leaves the job out
    assert _err(server.api("POST", f"/jobs/{job['id']}/cancel")) == (404, "job_expired")
    assert server.api("GET", f"/projects/{pid}/jobs").json()["jobs"] == []


def test_another_organisation_still_gets_job_not_found(server: Server) -> None:
    pid = server.ready_project()
    job = server.new_job(pid)["job"]
    _to(server, parse_time(job["expiresAt"]) + 2 * DAY)
    r = server.api("GET", f"/jobs/{job['id']}", key="pgk_other_org")
    assert _err(r) == (404, "job_not_found")
