"""The polling rule on GET /jobs/{jobId}: enforce, record, off; poll_after_terminal."""

from __future__ import annotations

from collections.abc import Callable

from .harness import Server


def _setup(make_server: Callable[..., Server], policy: str) -> tuple[Server, str]:
    s = make_server(polling=policy)
    pid = s.ready_project()
    return s, s.new_job(pid)["job"]["id"]


def _violations(s: Server) -> list[dict[str, object]]:
    out: list[dict[str, object]] = s.control("GET", "/violations").json()["violations"]
    return out


def test_enforce_answers_429_with_retry_after(make_server: Callable[..., Server]) -> None:
    s, job_id = _setup(make_server, "enforce")
    assert s.api("GET", f"/jobs/{job_id}").status_code == 200
    s.advance(2)
    r = s.api("GET", f"/jobs/{job_id}")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "3"
    err = r.json()["error"]
    assert err["code"] == "polling_too_fast"
    assert err["retryAfterSeconds"] == 3
    (v,) = _violations(s)
    assert v["rule"] == "polling_too_fast"
    assert v["jobId"] == job_id and v["apiKey"] == "pgk_test_a"
    assert v["message"] == (
        f"{job_id} was polled twice within 2.0 s; Plangrep asks for at least 5.0 s between polls"
    )
    # a 429 does not restart the interval: 5 s after the last answered poll is fine
    s.advance(3)
    assert s.api("GET", f"/jobs/{job_id}").status_code == 200


def test_exactly_five_seconds_is_allowed(make_server: Callable[..., Server]) -> None:
    s, job_id = _setup(make_server, "enforce")
    for _ in range(4):
        assert s.api("GET", f"/jobs/{job_id}").status_code == 200
        s.advance(5)
    assert _violations(s) == []


def test_the_rule_is_per_key_and_per_job(make_server: Callable[..., Server]) -> None:
    s = make_server(polling="enforce", api_keys=())
    pid = s.ready_project()
    j1 = s.new_job(pid)["job"]["id"]
    j2 = s.new_job(pid)["job"]["id"]
    assert s.api("GET", f"/jobs/{j1}").status_code == 200
    assert s.api("GET", f"/jobs/{j2}").status_code == 200
    assert _violations(s) == []


def test_record_answers_and_records(make_server: Callable[..., Server]) -> None:
    s, job_id = _setup(make_server, "record")
    assert s.api("GET", f"/jobs/{job_id}").status_code == 200
    assert s.api("GET", f"/jobs/{job_id}").status_code == 200
    assert [v["rule"] for v in _violations(s)] == ["polling_too_fast"]


def test_off_records_nothing(make_server: Callable[..., Server]) -> None:
    s, job_id = _setup(make_server, "off")
    for _ in range(3):
        assert s.api("GET", f"/jobs/{job_id}").status_code == 200
    s.control("POST", f"/jobs/{job_id}/events", json={"event": "cancel"})
    for _ in range(2):
        assert s.api("GET", f"/jobs/{job_id}").status_code == 200
    assert _violations(s) == []


def test_poll_after_terminal_is_recorded_and_answered(make_server: Callable[..., Server]) -> None:
    s, job_id = _setup(make_server, "enforce")
    s.control("POST", f"/jobs/{job_id}/events", json={"event": "cancel"})
    assert s.api("GET", f"/jobs/{job_id}").json()["job"]["status"] == "cancelled"
    s.advance(10)
    r = s.api("GET", f"/jobs/{job_id}")
    assert r.status_code == 200
    (v,) = _violations(s)
    assert v["rule"] == "poll_after_terminal"
    assert "cancelled" in str(v["message"])


def test_list_and_control_reads_are_not_polls(make_server: Callable[..., Server]) -> None:
    s, job_id = _setup(make_server, "enforce")
    assert s.api("GET", f"/jobs/{job_id}").status_code == 200
    pid = s.job(job_id)["job"]["projectId"]
    assert s.api("GET", f"/projects/{pid}/jobs").status_code == 200
    s.job(job_id)
    assert _violations(s) == []
