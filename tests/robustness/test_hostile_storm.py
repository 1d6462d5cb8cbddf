"""Hostile receivers (issue 8, item 4): a storm of webhooks to receivers that refuse, never
answer, drip, answer 10 MB, redirect to themselves or answer 410, all at once, while a client
keeps polling. The server answers every GET, its memory stays bounded, each receiver's
deliveries end the way the webhook contract says, and a well-behaved receiver gets every event.
The p99 of those GETs against a quiet server is a benchmark: `benchmarks/bench_storm.py`.
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.bench_storm import HOSTILE_KINDS, HostileReceivers, rss_mb
from mock_server import STATE_KEY, MockConfig
from mock_server.testing import MockServerThread

from .support import Api, Receiver

JOBS_PER_KIND = 8
KEY = "pgk_storm"
# a bound far above what the storm needs (a few MB) and far below reading the 10 MB answers
# (JOBS_PER_KIND x ~5 events x 10 MB = 400 MB)
MAX_RSS_GROWTH_MB = 120


@pytest.fixture
def storm_server() -> Iterator[MockServerThread]:
    # 2 s: long enough for the 10 MB answer's headers on a busy 2-core CI machine (1 s missed
    # them under load), and the black hole and the drip never answer at all
    config = MockConfig(clock="manual", port=0, polling="off", seed=4, webhook_timeout=2.0)
    with MockServerThread(config) as server:
        yield server


def _poll_until(stop: threading.Event, api: Api, job: str, out: collections.Counter[Any]) -> None:
    while not stop.is_set():
        try:
            r = api.api("GET", f"/jobs/{job}", timeout=15)
            out[r.status_code] += 1
        except Exception as exc:  # a hang (the timeout) or a dropped connection
            out[type(exc).__name__] += 1


def test_hostile_receivers_never_stall_the_server(storm_server: MockServerThread) -> None:
    api = Api(storm_server, KEY)
    with HostileReceivers(drip_interval=0.1) as hostile, Receiver() as good:
        project = api.ready_project("storm")
        jobs: dict[str, list[str]] = {kind: [] for kind in (*HOSTILE_KINDS, "good")}
        urls = {**hostile.urls, "good": good.url}
        for kind, url in urls.items():
            for _ in range(1 if kind == "good" else JOBS_PER_KIND):
                job = api.create_job(project, webhookUrl=url)["job"]["id"]
                api.upload(job)
                jobs[kind].append(job)
        probe = jobs["good"][0]
        rss_before = rss_mb_self()

        answers: collections.Counter[Any] = collections.Counter()
        stop = threading.Event()
        poller = threading.Thread(target=_poll_until, args=(stop, api, probe, answers))
        poller.start()
        try:
            for kind_jobs in jobs.values():
                for job in kind_jobs:
                    api.complete(job)
            for _ in range(20):  # processing, then completion: the storm's events
                api.advance(5)
            drained = storm_server.run(storm_server.app[STATE_KEY].webhooks.drain(timeout=60))
        finally:
            stop.set()
            poller.join()
        assert drained, "the webhook deliveries did not finish"
        assert answers and set(answers) == {200}, answers
        print(f"\n{answers[200]} GETs answered during the storm; receiver hits {hostile.hits}")
        if rss_before is not None:
            assert (rss_mb_self() or 0.0) - rss_before < MAX_RSS_GROWTH_MB

        deliveries = api.ok(api.control("GET", "/webhooks/deliveries"))["deliveries"]
        by_kind: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        owner = {job: kind for kind, js in jobs.items() for job in js}
        for d in deliveries:
            by_kind[owner[d["jobId"]]].append(d)

        def attempts(kind: str) -> list[dict[str, Any]]:
            return [a for d in by_kind[kind] for a in d["attempts"]]

        histories = {job: api.mock_job(job)["history"] for js in jobs.values() for job in js}
        for kind, js in jobs.items():
            events = sum(len(histories[j]) for j in js)
            assert len(by_kind[kind]) == events, kind  # one delivery per transition
        assert {a["error"] for a in attempts("refused")} == {"refused"}
        assert {a["error"] for a in attempts("black_hole")} == {"timeout"}
        assert {a["error"] for a in attempts("slow_drip")} == {"timeout"}
        assert {(a["httpStatus"], a["outcome"]) for a in attempts("ten_mb")} == {
            (200, "delivered")
        }
        # redirects are not followed: one request per delivery, each a failed 307
        assert {(a["httpStatus"], a["outcome"]) for a in attempts("redirect_loop")} == {
            (307, "failed")
        }
        assert hostile.hits["redirect_loop"] == len(attempts("redirect_loop"))
        # 410 Gone: the first event fails and disables that job's webhook
        for job in jobs["gone"]:
            states = [d["state"] for d in by_kind["gone"] if d["jobId"] == job]
            assert states[0] == "failed" and set(states[1:]) <= {"disabled"}, states
        assert hostile.hits["gone"] == JOBS_PER_KIND
        # the well-behaved receiver was not held up by the others
        good_events = sorted(e["sequence"] for e in good.events)
        assert good_events == list(range(1, len(histories[probe]) + 1))


def rss_mb_self() -> float | None:
    """This process's resident memory in MB, where /proc tells it (Linux)."""
    if not os.path.exists("/proc/self/status"):
        return None
    return rss_mb(os.getpid())
