"""Concurrency (issue 8, item 3): many threads of mixed requests on shared jobs.

`plangrep-mock serve` runs in its own process (so the server and the 32 client threads do not
share one interpreter lock) with the manual clock, the polling rule off and no fault. Each
thread makes its requests in a seeded random order: create a job (with an `Idempotency-Key`
drawn from a small shared set, so identical requests race across threads), form upload,
complete (again with racing keys), cancel, resume, get, list, clock advance, credits top-up.
Every job has its `webhookUrl` on a receiver in this process.

Then: no 5xx and every answer one its route may give; each creation key made exactly one job
and every racing repeat got that job (`idempotent: true` on all but one); every history is a
valid path through the machine with at most one terminal step; the receiver got exactly one
webhook per transition (matched by job, sequence and statuses) and the server logged exactly one
attempt per delivery.

Size: `ROBUSTNESS_CONCURRENCY=THREADSxREQUESTS`, default the issue's full 32x800 (about 40 s on
2 cores; a smaller size for a quick run, e.g. 8x100).
"""

from __future__ import annotations

import collections
import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .support import PDF, TERMINAL, Api, Receiver, ServeProcess, assert_valid_history, form_upload

THREADS, PER_THREAD = (
    int(x) for x in os.environ.get("ROBUSTNESS_CONCURRENCY", "32x800").lower().split("x")
)
KEY = "pgk_concurrency"
PROJECTS = 4
CREATE_KEYS = max(8, THREADS * PER_THREAD // 40)  # ~4 racing requests per key
SCENARIOS = ("happy", "slow", "expensive", "runs_dry", "with_errors", "cancel_deferred")

# every answer each operation may give (anything else, 5xx included, fails the test)
ALLOWED: dict[str, set[int]] = {
    "create": {202},
    "upload": {200, 409},
    "complete": {202, 409},
    "cancel": {200, 409},
    "resume": {200, 409},
    "get": {200},
    "list": {200},
    "advance": {200},
    "credits": {200},
}
WEIGHTS = {
    "create": 12,
    "upload": 14,
    "complete": 12,
    "cancel": 5,
    "resume": 6,
    "get": 25,
    "list": 4,
    "advance": 12,
    "credits": 10,
}


@dataclass
class Shared:
    api: Api
    projects: list[str]
    hook: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: list[str] = field(default_factory=list)
    created: dict[str, list[tuple[str, bool]]] = field(
        default_factory=lambda: collections.defaultdict(list)
    )  # creation key -> [(job id, idempotent)]
    completed: dict[str, list[bool]] = field(
        default_factory=lambda: collections.defaultdict(list)
    )  # job id -> [idempotent] of 202 answers to complete
    answers: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    bad: list[str] = field(default_factory=list)


def _create_body(shared: Shared, n: int) -> tuple[str, dict[str, Any], dict[str, str]]:
    """The one request that goes with creation key n (repeats of a key are identical)."""
    project = shared.projects[n % len(shared.projects)]
    headers = {"Idempotency-Key": f"create-{n}", "X-Mock-Scenario": SCENARIOS[n % len(SCENARIOS)]}
    return project, {"externalId": f"ext-{n}", "webhookUrl": shared.hook}, headers


def _one(shared: Shared, rng: random.Random, op: str) -> None:
    api = shared.api
    with shared.lock:
        job = rng.choice(shared.jobs) if shared.jobs else None
    if op in ("upload", "complete", "cancel", "resume", "get") and job is None:
        op = "create"
    if op == "create":
        n = rng.randrange(CREATE_KEYS)
        project, body, headers = _create_body(shared, n)
        r = api.api("POST", f"/projects/{project}/jobs", json=body, headers=headers)
        if r.status_code == 202:
            got = r.json()
            with shared.lock:
                shared.created[f"create-{n}"].append(
                    (got["job"]["id"], bool(got.get("idempotent")))
                )
                if got["job"]["id"] not in shared.jobs:
                    shared.jobs.append(got["job"]["id"])
    elif op == "upload":
        files, data = form_upload([("plan.pdf", PDF * rng.randint(1, 50))])
        r = api.api("POST", f"/jobs/{job}/files", files=files, data=data)
    elif op == "complete":
        r = api.api(
            "POST",
            f"/jobs/{job}/uploads/complete",
            json={},
            headers={"Idempotency-Key": f"complete-{job}"},
        )
        if r.status_code == 202:
            with shared.lock:
                shared.completed[str(job)].append(bool(r.json().get("idempotent")))
    elif op == "cancel":
        r = api.api("POST", f"/jobs/{job}/cancel")
    elif op == "resume":
        r = api.api("POST", f"/jobs/{job}/resume")
    elif op == "get":
        r = api.api("GET", f"/jobs/{job}")
    elif op == "list":
        r = api.api("GET", f"/projects/{rng.choice(shared.projects)}/jobs")
    elif op == "advance":
        r = api.control("POST", "/clock/advance", json={"seconds": rng.choice([0.5, 2, 5, 30])})
    else:
        balance = rng.choice([0, 200, 5_000, 50_000])
        r = api.control("PUT", f"/accounts/{KEY}/credits", json={"balance": balance})
    with shared.lock:
        shared.answers[(op, r.status_code)] += 1
        if r.status_code not in ALLOWED[op] or not r.headers.get("Content-Type", "").startswith(
            "application/json"
        ):
            shared.bad.append(f"{op} {r.request.method} {r.url}: {r.status_code} {r.text[:300]}")


def _worker(shared: Shared, index: int, barrier: threading.Barrier) -> None:
    rng = random.Random(1000 + index)
    ops = list(WEIGHTS)
    weights = [WEIGHTS[o] for o in ops]
    barrier.wait()
    for _ in range(PER_THREAD):
        try:
            _one(shared, rng, rng.choices(ops, weights)[0])
        except Exception as exc:  # a dropped connection, a hang turned timeout: all failures
            with shared.lock:
                shared.bad.append(f"{type(exc).__name__}: {exc}")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    with ServeProcess(
        "--clock", "manual", "--polling", "off", "--seed", "5", "--api-key", KEY,
        stderr_path=str(tmp_path / "serve.stderr"),
    ) as proc:  # fmt: skip
        yield proc


def test_concurrent_mixed_requests_keep_every_job_consistent(serve: ServeProcess) -> None:
    with Receiver() as receiver:
        api = Api(serve, KEY)
        projects = [api.ready_project(f"concurrency-{i}") for i in range(PROJECTS)]
        shared = Shared(api, projects, receiver.url)
        barrier = threading.Barrier(THREADS)
        threads = [
            threading.Thread(target=_worker, args=(shared, i, barrier), name=f"client-{i}")
            for i in range(THREADS)
        ]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        print(
            f"\n{THREADS}x{PER_THREAD} = {THREADS * PER_THREAD} requests in {elapsed:.1f} s; "
            f"{len(shared.jobs)} jobs; answers {dict(sorted(shared.answers.items()))}"
        )
        assert not shared.bad, "\n".join(shared.bad[:20])

        # idempotency: one job per creation key, every racing repeat got it
        for key, got in shared.created.items():
            assert len({job for job, _ in got}) == 1, (key, got)
            assert sum(1 for _, idem in got if not idem) == 1, (key, got)
        listed = [
            j["id"]
            for p in projects
            for j in api.ok(api.api("GET", f"/projects/{p}/jobs"))["jobs"]
        ]
        assert sorted(listed) == sorted(shared.jobs)  # nothing lost, nothing extra
        for job, flags in shared.completed.items():
            assert flags.count(False) == 1, (job, flags)

        # every job to the end (TTL 7 days): more transitions, more webhooks
        api.advance(8 * 86400)
        histories = {job: api.mock_job(job) for job in shared.jobs}
        total = 0
        for job, view in histories.items():
            history = view["history"]
            assert_valid_history(job, history)
            assert history[-1]["to"] in TERMINAL, (job, history[-1])
            assert sum(1 for s in history if s["event"] == "complete_uploads") <= 1
            total += len(history)

        # exactly one webhook per transition
        assert receiver.wait_for(total, timeout=60), (len(receiver.events), total)
        seen = collections.Counter((e["jobId"], e["sequence"]) for e in receiver.events)
        dupes = [k for k, n in seen.items() if n > 1]
        assert not dupes, dupes[:10]
        assert len({e["webhookId"] for e in receiver.events}) == len(receiver.events)
        for job, view in histories.items():
            for step in view["history"]:
                assert seen[(job, step["sequence"])] == 1, (job, step)
            for d in view["deliveries"]:
                assert d["state"] == "delivered" and len(d["attempts"]) == 1, d
            assert len(view["deliveries"]) == len(view["history"])
        by_key = {(e["jobId"], e["sequence"]): e for e in receiver.events}
        for job, view in histories.items():
            for step in view["history"]:
                e = by_key[(job, step["sequence"])]
                assert (e["previousStatus"], e["status"]) == (step["from"], step["to"])
    assert "Traceback" not in serve.stderr()
