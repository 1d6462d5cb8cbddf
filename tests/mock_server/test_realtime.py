"""The realtime clock: the ticker fires due transitions without any request."""

from __future__ import annotations

import time
from collections.abc import Callable

from .harness import Server


def _wait_for(check: Callable[[], bool], wall_seconds: float = 10.0) -> bool:
    """Poll `check` until true (the realtime clock moves on its own; no manual clock here)."""
    deadline = time.monotonic() + wall_seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def test_ticker_moves_jobs_on_its_own(make_server: Callable[..., Server]) -> None:
    s = make_server(clock="realtime", speed=1000.0, polling="off")
    r = s.api("POST", "/projects", json={"name": "rt"})
    pid = r.json()["project"]["id"]
    fired: list[str] = []
    s.call(lambda: s.state.subscribe(lambda rec, obj: fired.append(rec.event)))
    # the project provisions (5 virtual s = 5 wall ms) with no request
    assert _wait_for(lambda: "provision" in fired)
    job_id = s.started_job(pid)
    assert _wait_for(lambda: "complete" in fired)
    assert s.job(job_id)["job"]["status"] == "completed"


def test_realtime_clock_reports_its_speed(make_server: Callable[..., Server]) -> None:
    s = make_server(clock="realtime", speed=50.0)
    clock = s.control("GET", "/clock").json()
    assert clock == {**clock, "mode": "realtime", "speed": 50.0}
    first = clock["epochSeconds"]
    assert _wait_for(lambda: s.control("GET", "/clock").json()["epochSeconds"] > first + 1)


def test_advance_works_on_a_realtime_clock(make_server: Callable[..., Server]) -> None:
    s = make_server(clock="realtime", speed=1.0)
    before = s.control("GET", "/clock").json()["epochSeconds"]
    after = s.advance(3600)["epochSeconds"]
    assert after >= before + 3600
