"""Issue 3 item 11: a hypothesis RuleBasedStateMachine drives the HTTP API (create project and job,
upload, complete, get, resume, cancel, advance, top up) against an independent model of the
documented lifecycle and checks: status equals the model, billing equals the model and adds up,
history is a valid path, terminal statuses absorb, never a 5xx."""

from __future__ import annotations

import heapq
import os
from dataclasses import dataclass, field
from typing import Any

import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from mock_server import MockConfig
from statemachine import JOB_TRANSITIONS, TERMINAL_STATUSES

from .harness import Server

settings.register_profile(
    "mock_server_ci",
    max_examples=100,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "mock_server_dev",
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PROFILE = os.environ.get("PLANGREP_MOCK_HYPOTHESIS_PROFILE", "mock_server_ci")

KEY = "pgk_model"
OTHER = "pgk_intruder"
START_CREDITS = 10_000
TTL = 7 * 24 * 3600.0
GRACE = 24 * 3600.0  # an expired job stays readable this long past expiresAt
EDGES = {(src, event.value, dst.value) for event, srcs, dst in JOB_TRANSITIONS for src in srcs}


@dataclass(frozen=True)
class Knobs:
    """The parts of a built-in scenario the model needs (restated here on purpose: the model
    must not read the engine's own tables)."""

    provisioning: float = 0.0
    preflight: float = 3.0
    preflight_fails: bool = False
    pages_per_file: int | None = None
    speed: float = 1.0
    outcome: str = "completed"
    failed_fraction: float = 0.0
    rate: int = 1  # credits per page (files are unclassified: document pages)
    cancel: str = "immediate"


SCENARIOS = {
    "happy": Knobs(),
    "with_errors": Knobs(outcome="completed_with_errors", failed_fraction=0.25),
    "processing_fails": Knobs(outcome="failed"),
    "preflight_fails": Knobs(preflight_fails=True),
    "expensive": Knobs(pages_per_file=400, speed=50.0, rate=50),
    "cold_start": Knobs(provisioning=30.0),
    "cancel_deferred": Knobs(speed=0.05, cancel="deferred"),
    "cancel_race_lost": Knobs(speed=0.05, cancel="race_lost"),
}


def _fails(i: int, failed: int, total: int) -> bool:
    return (i + 1) * failed // total > i * failed // total


@dataclass
class ModelJob:
    id: str
    knobs: Knobs
    created: float
    status: str = "provisioning"
    sizes: list[int] = field(default_factory=list)
    rates: list[int] | None = None
    failed: int = 0
    pages_done: int = 0
    ok: int = 0
    held: int = 0
    debited: int = 0
    gen: int = 0
    # processing run: (started_at, start_page, stop_page)
    run: tuple[float, int, int] | None = None


class Model:
    """The documented lifecycle with the mock's scenario timings, as a tiny event simulation."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.balance = START_CREDITS
        self.jobs: dict[str, ModelJob] = {}
        self.heap: list[tuple[float, int, str, str, int]] = []
        self.seq = 0

    def schedule(self, at: float, job: ModelJob, what: str, gen: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (max(at, self.now), self.seq, job.id, what, gen))

    def advance_to(self, t: float) -> None:
        while self.heap and self.heap[0][0] <= t:
            at, _, job_id, what, gen = heapq.heappop(self.heap)
            self.now = max(self.now, at)
            job = self.jobs[job_id]
            if job.status in TERMINAL_STATUSES:
                continue
            if what == "expire":
                self.to(job, "expired")
            elif gen == job.gen:
                getattr(self, "_due_" + what)(job)
        self.now = max(self.now, t)

    # transitions -----------------------------------------------------------

    def to(self, job: ModelJob, status: str) -> None:
        job.gen += 1
        if status in TERMINAL_STATUSES or status == "blocked_insufficient_credits":
            self.freeze(job)
        if status in TERMINAL_STATUSES:
            self.balance += job.held
            job.held = 0
        job.status = status
        if status == "preflighting":
            if job.rates is None:
                pages = [job.knobs.pages_per_file or max(1, -(-s // 100_000)) for s in job.sizes]
                job.rates = [job.knobs.rate] * sum(pages)
                total = len(job.rates)
                if job.knobs.outcome == "completed_with_errors":
                    job.failed = max(1, min(total, round(total * job.knobs.failed_fraction)))
            self.reserve(job)  # Plangrep reserves as the job enters preflighting
            self.schedule(self.now + job.knobs.preflight, job, "preflight", job.gen)
        elif status == "processing":
            rates = job.rates or []
            stop = len(rates) // 2 if job.knobs.outcome == "failed" else len(rates)
            job.run = (self.now, job.pages_done, stop)
            due = self.now + (stop - job.pages_done) / job.knobs.speed
            self.schedule(due, job, "milestone", job.gen)

    def _due_provision(self, job: ModelJob) -> None:
        self.to(job, "awaiting_uploads")

    def _due_preflight(self, job: ModelJob) -> None:
        rates = job.rates or []
        if job.knobs.preflight_fails or len(rates) > 500:
            self.to(job, "failed")
            return
        if not self.reserve(job):
            self.to(job, "blocked_insufficient_credits")
            return
        self.to(job, "processing")

    def reserve(self, job: ModelJob) -> bool:
        needed = sum((job.rates or [])[job.pages_done :]) - job.held
        if needed <= 0:
            return True
        if self.balance < needed:
            return False
        self.balance -= needed
        job.held += needed
        return True

    def _due_milestone(self, job: ModelJob) -> None:
        self.to(job, self.final(job))

    def _due_cancel(self, job: ModelJob) -> None:
        self.to(job, "cancelled")

    def final(self, job: ModelJob) -> str:
        if job.knobs.outcome == "failed":
            return "failed"
        return "completed_with_errors" if job.failed else "completed"

    # pages and credits -----------------------------------------------------

    def progress(self, job: ModelJob) -> tuple[int, int, int, int]:
        """(pages_done, ok, debited, held) as of now."""
        if job.run is None:
            return job.pages_done, job.ok, job.debited, job.held
        started, start, stop = job.run
        n = min(stop - start, max(0, int((self.now - started) * job.knobs.speed + 1e-9)))
        rates = job.rates or []
        total = len(rates)
        ok = cost = 0
        for i in range(start, start + n):
            if not _fails(i, job.failed, total):
                ok += 1
                cost += rates[i]
        return start + n, job.ok + ok, job.debited + cost, job.held - cost

    def freeze(self, job: ModelJob) -> None:
        job.pages_done, job.ok, job.debited, job.held = self.progress(job)
        job.run = None

    # commands --------------------------------------------------------------

    def create(self, job_id: str, knobs: Knobs) -> ModelJob:
        job = ModelJob(job_id, knobs, self.now)
        self.jobs[job_id] = job
        self.schedule(self.now + TTL, job, "expire", 0)
        if knobs.provisioning <= 0:
            self.to(job, "awaiting_uploads")
        else:
            self.schedule(self.now + knobs.provisioning, job, "provision", job.gen)
        return job

    def cancel(self, job: ModelJob) -> str:
        """The status the cancel response shows."""
        if job.status == "processing" and job.knobs.cancel == "deferred":
            if job.run is not None:  # first cancel: processing stops, the cancel lands in 10 s
                self.freeze(job)
                job.gen += 1
                self.schedule(self.now + 10, job, "cancel", job.gen)
            return "cancelled"
        if job.status == "processing" and job.knobs.cancel == "race_lost":
            self.freeze_to_end(job)
            self.to(job, self.final(job))
            return "cancelled"
        self.to(job, "cancelled")
        return "cancelled"

    def freeze_to_end(self, job: ModelJob) -> None:
        assert job.run is not None
        _started, start, stop = job.run
        job.run = (self.now - (stop - start) / job.knobs.speed, start, stop)


_server: Server | None = None


def _shared_server() -> Server:
    global _server
    if _server is None:
        _server = Server(MockConfig(clock="manual", polling="off", seed=3)).start()
    return _server


class HttpApiMachine(RuleBasedStateMachine):
    projects = Bundle("projects")
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.s = _shared_server()
        assert self.s.control("POST", "/reset").status_code == 200
        self.model = Model(self.s.control("GET", "/clock").json()["epochSeconds"])
        self.charged = 0
        self.topped_up = 0
        self.ready: dict[str, float] = {}
        self.served_terminal: dict[str, dict[str, Any]] = {}

    # helpers ---------------------------------------------------------------

    def call(self, method: str, path: str, *, key: str = KEY, **kw: Any) -> requests.Response:
        r = self.s.api(method, path, key=key, **kw)
        assert r.status_code < 500, (method, path, r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("application/json")
        return r

    def mjob(self, job_id: str) -> ModelJob:
        return self.model.jobs[job_id]

    def gone(self, r: requests.Response, m: ModelJob) -> bool:
        """Whether the job is past expiresAt + 24 h: then every job route answers 404
        job_expired (checked here)."""
        if self.model.now < m.created + TTL + GRACE:
            return False
        self.expect_error(r, 404, "job_expired")
        return True

    def expect_error(self, r: requests.Response, status: int, code: str) -> None:
        assert r.status_code == status, (r.status_code, r.text, code)
        assert r.json()["error"]["code"] == code
        if status == 409:
            assert "currentStatus" in r.json()["error"]

    # rules -----------------------------------------------------------------

    @initialize(target=projects)
    def first_project(self) -> str:
        pid = self._project("first")
        self.advance(5)
        return pid

    @initialize(target=jobs, scenario=st.sampled_from(sorted(SCENARIOS)), complete=st.booleans())
    def first_job(self, scenario: str, complete: bool) -> str:
        """A job with one file uploaded (and perhaps completed): advancing is a step away."""
        pid = self._project("init")
        self.advance(5)
        job_id: str = self.create_job(pid, scenario)
        if self.mjob(job_id).status == "provisioning":
            self.advance(30)
        self.upload(job_id, 100_000)
        if complete:
            self.complete(job_id)
        return job_id

    @rule(target=projects, name=st.text("abcdefgh", min_size=1, max_size=6))
    def create_project(self, name: str) -> Any:
        if any(n == name for n in self.ready.values() if isinstance(n, str)):
            return multiple()
        r = self.call("POST", "/projects", json={"name": name})
        if r.status_code == 409:
            self.expect_error(r, 409, "name_taken")
            return multiple()
        assert r.status_code == 202
        charged = r.json()["billing"]["creditsCharged"]
        assert charged == min(50, max(self.model.balance, 0))
        self.model.balance -= charged
        self.charged += charged
        pid: str = r.json()["project"]["id"]
        self.ready[pid] = self.model.now + 5
        return pid

    def _project(self, name: str) -> str:
        r = self.call("POST", "/projects", json={"name": name})
        assert r.status_code == 202
        charged = r.json()["billing"]["creditsCharged"]
        self.model.balance -= charged
        self.charged += charged
        pid: str = r.json()["project"]["id"]
        self.ready[pid] = self.model.now + 5
        return pid

    @rule(target=jobs, project=projects, scenario=st.sampled_from(sorted(SCENARIOS)))
    def create_job(self, project: str, scenario: str) -> Any:
        r = self.call(
            "POST", f"/projects/{project}/jobs", json={}, headers={"X-Mock-Scenario": scenario}
        )
        if self.model.now < self.ready[project]:
            self.expect_error(r, 409, "project_not_ready")
            return multiple()
        assert r.status_code == 202, r.text
        body = r.json()
        job = self.model.create(body["job"]["id"], SCENARIOS[scenario])
        assert body["job"]["status"] == job.status
        assert body["webhookSigningSecret"].startswith("wss_")
        return job.id

    @rule(job=jobs, size=st.integers(1, 250_000))
    def upload(self, job: str, size: int) -> None:
        r = self.call("POST", f"/jobs/{job}/files", files=[
            ("metadata", (None, '{"files": [{"partName": "file0", "fileName": "f.pdf", '
                                '"contentType": "application/pdf"}]}')),
            ("file0", ("f.pdf", b"x" * size, "application/pdf")),
        ])  # fmt: skip
        m = self.mjob(job)
        if self.gone(r, m):
            return
        if m.status == "provisioning":
            self.expect_error(r, 409, "job_not_ready")
        elif m.status not in ("awaiting_uploads", "uploading"):
            self.expect_error(r, 409, "uploads_closed")
        elif len(m.sizes) >= 100:
            self.expect_error(r, 422, "limit_exceeded")
        else:
            assert r.status_code == 200, r.text
            m.sizes.append(size)
            if m.status == "awaiting_uploads":
                self.model.to(m, "uploading")

    @rule(job=jobs)
    def complete(self, job: str) -> None:
        r = self.call("POST", f"/jobs/{job}/uploads/complete", json={})
        m = self.mjob(job)
        if self.gone(r, m):
            return
        if m.status == "awaiting_uploads":
            self.expect_error(r, 409, "no_documents")
        elif m.status == "provisioning":
            self.expect_error(r, 409, "job_not_ready")
        elif m.status != "uploading":
            self.expect_error(r, 409, "uploads_closed")
        else:
            assert r.status_code == 202, r.text
            self.model.to(m, "preflighting")

    @rule(job=jobs)
    def get(self, job: str) -> None:
        r = self.call("GET", f"/jobs/{job}")
        if self.gone(r, self.mjob(job)):
            return
        assert r.status_code == 200
        self.check_job(r.json()["job"])

    @rule(job=jobs)
    def resume(self, job: str) -> None:
        r = self.call("POST", f"/jobs/{job}/resume")
        m = self.mjob(job)
        if self.gone(r, m):
            return
        if m.status != "blocked_insufficient_credits":
            self.expect_error(r, 409, "job_not_blocked")
        else:
            assert r.status_code == 200
            self.model.to(m, "preflighting")
            self.check_job(r.json()["job"])

    @rule(job=jobs)
    def cancel(self, job: str) -> None:
        r = self.call("POST", f"/jobs/{job}/cancel")
        m = self.mjob(job)
        if self.gone(r, m):
            return
        if m.status in TERMINAL_STATUSES:
            self.expect_error(r, 409, "job_not_cancellable")
            return
        assert r.status_code == 200, r.text
        shown = self.model.cancel(m)
        assert r.json()["job"]["status"] == shown

    @rule(job=jobs)
    def intruder_sees_nothing(self, job: str) -> None:
        for method, path in (("GET", f"/jobs/{job}"), ("POST", f"/jobs/{job}/cancel")):
            self.expect_error(self.call(method, path, key=OTHER), 404, "job_not_found")

    def advance(self, seconds: float) -> None:
        body = self.s.advance(seconds)
        self.model.advance_to(body["epochSeconds"])

    @rule(seconds=st.one_of(st.integers(0, 6), st.just(2.5)))
    def advance_a_little(self, seconds: float) -> None:
        self.advance(seconds)

    @rule(seconds=st.sampled_from([10, 30, 120, 3600, TTL]))
    def advance_a_lot(self, seconds: float) -> None:
        self.advance(seconds)

    @rule(amount=st.sampled_from([1, 100, 20_000, 100_000]))
    def top_up(self, amount: int) -> None:
        new = self.model.balance + amount
        r = self.s.control("PUT", f"/accounts/{KEY}/credits", json={"balance": new})
        assert r.status_code == 200 and r.json()["balance"] == new
        self.model.balance = new
        self.topped_up += amount

    # invariants ------------------------------------------------------------

    def check_job(self, got: dict[str, Any]) -> None:
        m = self.mjob(got["id"])
        assert got["status"] == m.status, (got["id"], m.knobs, got["status"], m.status)
        _done, ok, debited, held = self.model.progress(m)
        assert got["successfulPageCount"] == ok
        assert got["billing"] == {"creditsReserved": held, "creditsDebited": debited}
        if m.status in TERMINAL_STATUSES:
            assert got["completedAt"] is not None
            frozen = self.served_terminal.setdefault(m.id, got)
            assert got == frozen, "a terminal job changed"

    @invariant()
    def statuses_match_the_model(self) -> None:
        for job_id in self.model.jobs:
            self.check_job(self.s.job(job_id)["job"])

    @invariant()
    def histories_are_valid_paths(self) -> None:
        for job_id in self.model.jobs:
            history = self.s.job(job_id)["history"]
            status = "provisioning"
            for i, step in enumerate(history):
                assert step["from"] == status
                assert (step["from"], step["event"], step["to"]) in EDGES, step
                assert step["sequence"] == i + 1
                status = step["to"]
            terminal_steps = [h for h in history if h["to"] in TERMINAL_STATUSES]
            assert len(terminal_steps) <= 1
            if terminal_steps:
                assert history[-1] is terminal_steps[0]

    @invariant()
    def billing_adds_up(self) -> None:
        balance = self.s.control("GET", f"/accounts/{KEY}/credits").json()["balance"]
        assert balance == self.model.balance
        held = debited = 0
        for m in self.model.jobs.values():
            _, _, d, h = self.model.progress(m)
            held += h
            debited += d
        assert balance + held + debited == START_CREDITS - self.charged + self.topped_up

    @invariant()
    def no_server_errors(self) -> None:
        assert self.s.state.server_errors == []


HttpApiMachine.TestCase.settings = settings.get_profile(PROFILE)
TestHttpApi = HttpApiMachine.TestCase
