"""Tenancy (issue 8, item 6): a hypothesis property that no sequence of requests made with
organisation B's keys reads, changes or learns of organisation A's projects and jobs.

Organisation A holds a ready project and jobs in several statuses (with documents, a result and
Idempotency-Keys it used). Hypothesis draws sequences of B's requests: every public route on
A's ids, with B's full key and B's read-only key, plus B's own requests that could collide with
A's (a project named like A's, a job created with an Idempotency-Key A used, lists). For each:

- with B's full key, A's object is a 404 (never a 403);
- with any of B's keys, the answer (status and error code) is the one the same request gets for
  an id that does not exist at all: B cannot tell A's objects from nothing;
- no answer to B names an id of A's it did not send itself, and B's lists never include them;
- B's own requests are not refused or replayed because of A (names and keys are per
  organisation);
- afterwards A's projects, jobs (with their histories), documents and balance are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import MockConfig
from mock_server.config import KeySpec
from mock_server.testing import MockServerThread

from .support import PDF, Api

KEY_A = "pgk_tenant_a"
KEY_B = "pgk_tenant_b"
KEY_B_READ = "pgk_tenant_b_read"  # organisation B, jobs:read only
A_CREATE_KEY = "a-create-1"


@dataclass
class World:
    server: MockServerThread
    a: Api
    b: Api
    b_read: Api
    a_projects: list[str]
    a_project_names: list[str]
    a_jobs: list[str]
    a_docs: dict[str, str]  # document id -> its job
    b_project: str
    b_names: set[str] = field(default_factory=set)

    def a_ids(self) -> set[str]:
        return {*self.a_projects, *self.a_jobs, *self.a_docs}

    def snapshot(self) -> Any:
        a = self.a
        jobs = {j: a.mock_job(j) for j in self.a_jobs}
        projects = a.ok(a.api("GET", "/projects"))
        lists = {p: a.ok(a.api("GET", f"/projects/{p}/jobs")) for p in self.a_projects}
        credits = a.ok(a.control("GET", f"/accounts/{KEY_A}/credits"))
        return jobs, projects, lists, credits["balance"]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    config = MockConfig(
        clock="manual",
        port=0,
        polling="off",
        seed=6,
        api_keys=(
            KeySpec(KEY_A, org="org_a"),
            KeySpec(KEY_B, org="org_b"),
            KeySpec(KEY_B_READ, scopes=frozenset({"jobs:read"}), org="org_b"),
        ),
    )
    with MockServerThread(config) as server:
        a, b = Api(server, KEY_A), Api(server, KEY_B)
        names = ["plans 2024", "tower b"]
        projects = [a.ready_project(n) for n in names]
        fresh = a.create_job(projects[0], headers={"Idempotency-Key": A_CREATE_KEY})["job"]["id"]
        uploading = a.create_job(projects[0])["job"]["id"]
        docs = {u["documentId"]: uploading for u in a.upload(uploading)["uploads"]}
        done = a.create_job(projects[1], externalId="a-secret")["job"]["id"]
        docs.update({u["documentId"]: done for u in a.upload(done)["uploads"]})
        a.complete(done)
        a.advance(3600)  # done: completed, with a result
        running = a.create_job(projects[1], headers={"X-Mock-Scenario": "slow"})["job"]["id"]
        a.upload(running)
        a.complete(running)
        a.advance(10)
        blocked = a.create_job(projects[1], headers={"X-Mock-Scenario": "expensive"})["job"]["id"]
        a.upload(blocked)
        a.complete(blocked)
        a.advance(10)
        b_project = b.ready_project("b's own")
        yield World(
            server,
            a,
            b,
            Api(server, KEY_B_READ),
            projects,
            names,
            [fresh, uploading, done, running, blocked],
            docs,
            b_project,
        )
        assert not server.server_errors(), server.server_errors()


def _ghost(real: str) -> str:
    """An id of the same shape that exists nowhere."""
    prefix = real.split("_", 1)[0]
    return f"{prefix}_{'z' * 26}"


def _on_job(kind: str, job: str, doc: str) -> tuple[str, str, dict[str, Any]]:
    form: dict[str, Any] = {
        "files": {"file0": ("b.pdf", PDF, "application/pdf")},
        "data": {"metadata": json.dumps({"files": [{"partName": "file0", "fileName": "b.pdf"}]})},
    }
    register: dict[str, Any] = {
        "json": {
            "files": [
                {"fileName": "b.pdf", "contentType": "application/pdf", "fileSize": 1,
                 "sha256": "0" * 64}
            ]
        }
    }  # fmt: skip
    return {
        "get": ("GET", f"/jobs/{job}", {}),
        "result": ("GET", f"/jobs/{job}/result", {}),
        "resume": ("POST", f"/jobs/{job}/resume", {}),
        "cancel": ("POST", f"/jobs/{job}/cancel", {}),
        "upload": ("POST", f"/jobs/{job}/files", form),
        "register": ("POST", f"/jobs/{job}/uploads", register),
        "complete": ("POST", f"/jobs/{job}/uploads/complete", {"json": {"documentIds": [doc]}}),
        "content": (
            "POST",
            f"/jobs/{job}/uploads/{doc}/content",
            {"json": {"uploadToken": "upt_x", "contentBase64": "eA=="}},
        ),
    }[kind]


def _on_project(kind: str, project: str) -> tuple[str, str, dict[str, Any]]:
    return {
        "get_project": ("GET", f"/projects/{project}", {}),
        "list_jobs": ("GET", f"/projects/{project}/jobs", {}),
        "create_job": ("POST", f"/projects/{project}/jobs", {"json": {"externalId": "b"}}),
        "create_job_keyed": (
            "POST",
            f"/projects/{project}/jobs",
            {"json": {}, "headers": {"Idempotency-Key": A_CREATE_KEY}},
        ),
    }[kind]


JOB_OPS = ("get", "result", "resume", "cancel", "upload", "register", "complete", "content")
PROJECT_OPS = ("get_project", "list_jobs", "create_job", "create_job_keyed")
OWN_OPS = ("own_list_projects", "own_project_named_like_a", "own_job_with_a_key", "own_list_jobs")

op_strategy = st.one_of(
    st.tuples(st.just("job"), st.sampled_from(JOB_OPS), st.integers(0, 99), st.booleans()),
    st.tuples(st.just("project"), st.sampled_from(PROJECT_OPS), st.integers(0, 99), st.booleans()),
    st.tuples(st.just("own"), st.sampled_from(OWN_OPS), st.integers(0, 99), st.just(True)),
)


def _code(r: Any) -> tuple[int, str | None]:
    body = r.json()
    return r.status_code, (body.get("error") or {}).get("code")


def _no_foreign_ids(world: World, text: str, sent: set[str]) -> None:
    leaked = [i for i in world.a_ids() - sent if i in text]
    assert not leaked, f"B was shown A's ids {leaked}: {text[:300]}"


def _run_b_op(world: World, op: tuple[str, str, int, bool]) -> None:
    scope, kind, pick, full_key = op
    api = world.b if full_key else world.b_read
    if scope == "own":
        _run_own(world, kind, pick)
        return
    if scope == "job":
        job = world.a_jobs[pick % len(world.a_jobs)]
        docs = [d for d, j in world.a_docs.items() if j == job] or list(world.a_docs)
        doc = docs[pick % len(docs)]
        real, ghost = _on_job(kind, job, doc), _on_job(kind, _ghost(job), _ghost(doc))
        sent = {job, doc}
    else:
        project = world.a_projects[pick % len(world.a_projects)]
        real, ghost = _on_project(kind, project), _on_project(kind, _ghost(project))
        sent = {project}
    method, path, kw = real
    r = api.api(method, path, **kw)
    g = api.api(ghost[0], ghost[1], **ghost[2])
    assert _code(r) == _code(g), (kind, r.text, g.text)
    if full_key:
        assert r.status_code == 404, (kind, r.status_code, r.text)
    _no_foreign_ids(world, r.text, sent)


def _run_own(world: World, kind: str, pick: int) -> None:
    b = world.b
    if kind == "own_list_projects":
        r = b.api("GET", "/projects")
    elif kind == "own_list_jobs":
        r = b.api("GET", f"/projects/{world.b_project}/jobs")
    elif kind == "own_project_named_like_a":
        # names are unique per organisation: A's names are free for B (a name_taken would leak
        # them) until B has used them itself
        name = world.a_project_names[pick % len(world.a_project_names)]
        r = b.api("POST", "/projects", json={"name": name})
        if name in world.b_names:
            assert _code(r) == (409, "name_taken"), r.text
            return
        assert r.status_code == 202, r.text
        world.b_names.add(name)
    else:  # own_job_with_a_key: A's Idempotency-Key means nothing in B's organisation
        r = b.api(
            "POST",
            f"/projects/{world.b_project}/jobs",
            json={},
            headers={"Idempotency-Key": A_CREATE_KEY},
        )
        assert r.status_code == 202, r.text
        assert r.json()["job"]["id"] not in world.a_jobs
        assert r.json()["job"]["projectId"] == world.b_project
    assert r.status_code < 400, r.text
    _no_foreign_ids(world, r.text, set())


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(ops=st.lists(op_strategy, min_size=1, max_size=15))
def test_key_b_never_reads_changes_or_learns_of_a(
    world: World, ops: list[tuple[str, str, int, bool]]
) -> None:
    before = world.snapshot()
    for op in ops:
        _run_b_op(world, op)
    assert world.snapshot() == before, "B's requests changed what A holds"
