"""The poll's cached `{"job": ...}` bytes follow every change the Job object shows, even two
changes at the same virtual time (the cache is keyed by the engine's per-job version)."""

from __future__ import annotations

import json

from mock_server import MockConfig, MockState
from mock_server.public.serialize import job_body, job_json
from statemachine import FileSpec, FileStatus


def _fresh(state: MockState, job_id: str) -> bytes:
    job = state.engine.jobs[job_id]
    return json.dumps({"job": job_json(state, job)}, separators=(",", ":")).encode()


def test_the_cached_body_is_never_stale() -> None:
    state = MockState(MockConfig(clock="manual", seed=3))
    engine = state.engine
    project, _ = engine.create_project("org", "p")
    engine.advance(10)
    job = engine.create_job(project)
    seen: list[bytes] = []

    def check() -> None:
        body = job_body(state, job)
        assert body == _fresh(state, job.id)
        seen.append(body)

    check()
    # two files registered, then stored one by one, all at the same virtual time
    a, b = engine.add_files(
        job,
        [FileSpec("a.pdf", 300_000, classification="plans"), FileSpec("b.pdf", 10)],
        status=FileStatus.PENDING,
    )
    check()
    engine.mark_uploaded(job, a)
    check()
    engine.mark_uploaded(job, b)
    check()
    engine.complete_uploads(job)
    check()
    engine.advance(3)  # processing: pages move with the clock
    for _ in range(4):
        engine.advance(0.5)
        check()
    engine.advance(600)
    check()
    assert job.state == "completed"
    # every change above showed up (no two consecutive bodies equal but the last ones at rest)
    assert len(set(seen)) >= 8
