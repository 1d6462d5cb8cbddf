"""Properties of the read half: for random projects (several jobs, random scenarios and
classifications, failed pages and failed uploads) the results' sheets, the project's `/sheets`
list and `usage` agree, cursor walks under any limit return every entity exactly once, and the
same seed and uploads give byte-identical results and entity lists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import MockConfig
from statemachine import parse_time

from .harness import Server

CLASSES = [None, "plans", "specifications", "documents", "addenda", "mixed", "other"]
PAGE = 100_000  # bytes per estimated page
ORIGIN = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@dataclass(frozen=True)
class JobPlan:
    scenario: str | float  # a built-in name, or the failed-page fraction of an inline scenario
    files: tuple[tuple[str | None, int], ...]  # (classification, pages)
    fail_last_upload: bool


jobs_st = st.lists(
    st.builds(
        JobPlan,
        scenario=st.one_of(
            st.sampled_from(["happy", "with_errors", "processing_fails"]),
            st.floats(0.05, 1.0),
        ),
        files=st.lists(
            st.tuples(st.sampled_from(CLASSES), st.integers(1, 6)), min_size=1, max_size=3
        ).map(tuple),
        fail_last_upload=st.booleans(),
    ),
    min_size=1,
    max_size=3,
)


@pytest.fixture(scope="module")
def shared() -> Iterator[Server]:
    server = Server(MockConfig(clock="manual", polling="off", seed=11)).start()
    yield server
    server.stop()
    assert not server.state.server_errors, server.state.server_errors


def _run(server: Server, plans: list[JobPlan]) -> tuple[str, list[dict[str, Any]]]:
    """Create a project and the planned jobs, let them finish; the jobs as they ended."""
    pid = server.ready_project(name="props")
    job_ids = []
    for i, plan in enumerate(plans):
        headers = {}
        if isinstance(plan.scenario, str):
            headers["X-Mock-Scenario"] = plan.scenario
        else:
            inline = {
                "name": f"frac{i}",
                "outcome": "completed_with_errors",
                "failed_page_fraction": plan.scenario,
            }
            r = server.control("POST", "/scenarios/next", json={"scenario": inline})
            assert r.status_code == 200, r.text
        r = server.api("POST", f"/projects/{pid}/jobs", json={}, headers=headers)
        assert r.status_code == 202, r.text
        job_id = r.json()["job"]["id"]
        files = [
            (f"f{i}-{n}.pdf", b"x" * (pages * PAGE), cls)
            for n, (cls, pages) in enumerate(plan.files)
        ]
        up = server.upload(job_id, files=files)
        assert up.status_code == 200, up.text
        body: dict[str, Any] = {}
        if plan.fail_last_upload:
            body = {"failedUploads": [{"documentId": up.json()["uploads"][-1]["documentId"]}]}
        assert server.complete(job_id, json=body).status_code == 202
        job_ids.append(job_id)
    server.advance(24 * 3600)
    return pid, [server.job(j)["job"] for j in job_ids]


def _walk(server: Server, path: str, name: str, limit: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    total = None
    while True:
        query = f"limit={limit}&compact=true" + (f"&cursor={cursor}" if cursor else "")
        r = server.api("GET", f"{path}?{query}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert total in (None, body["total"])
        total = body["total"]
        assert body["returnedCount"] == len(body[name]) <= limit
        ids += [e[name[:-1] + "Id"] for e in body[name]]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert len(ids) == total == len(set(ids))  # each exactly once
    return ids


def _expected_status(plan: JobPlan) -> str:
    left = len(plan.files) - plan.fail_last_upload
    if left == 0 or plan.scenario == "processing_fails":
        return "failed"
    if plan.fail_last_upload or plan.scenario != "happy":
        return "completed_with_errors"
    return "completed"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=jobs_st, limit=st.integers(1, 25))
def test_results_sheets_list_and_usage_agree(
    shared: Server, plans: list[JobPlan], limit: int
) -> None:
    assert shared.control("POST", "/reset").status_code == 200
    pid, jobs = _run(shared, plans)
    finished = []
    for plan, job in zip(plans, jobs, strict=True):
        assert job["status"] == _expected_status(plan), (plan, job["status"])
        if job["status"] == "failed":
            assert shared.api("GET", f"/jobs/{job['id']}/result").status_code == 409
            continue
        result = shared.api("GET", f"/jobs/{job['id']}/result").json()
        usage, docs = result["usage"], result["documents"]
        sheets = [s["sheetId"] for d in docs for s in d["sheets"]]
        assert len(sheets) == usage["successfulDrawingPageCount"]
        assert usage["pageCount"] == sum(d["pageCount"] for d in docs) == job["pageCount"]
        assert usage["successfulPageCount"] == sum(d["successfulPageCount"] for d in docs)
        assert usage["successfulPageCount"] == job["successfulPageCount"]
        failed_pages = sum(d["failedPageCount"] for d in docs)
        assert failed_pages == usage["pageCount"] - usage["successfulPageCount"]
        assert len(result["errors"]) == failed_pages + plan.fail_last_upload
        if plan.fail_last_upload:
            assert docs[-1]["status"] == "failed"
            assert docs[-1]["error"]["code"] == "upload_failed"
        finished.append((parse_time(job["completedAt"]), len(finished), sheets, result))
    finished.sort(key=lambda t: (t[0], t[1]))
    expected = [s for _, _, sheets, _ in finished for s in sheets]
    assert _walk(shared, f"/projects/{pid}/sheets", "sheets", limit) == expected
    total = sum(r["usage"]["successfulDrawingPageCount"] for _, _, _, r in finished)
    assert len(expected) == total
    regions = _walk(shared, f"/projects/{pid}/regions", "regions", limit)
    evidence = [e["regionId"] for _, _, _, r in finished for e in r["evidence"]]
    assert set(evidence) <= set(regions)
    summary = shared.api("GET", f"/projects/{pid}/summary").json()["projectSummary"]
    assert summary["sheetCount"] == total and summary["regionCount"] == len(regions)


def _project_bytes(seed: int) -> tuple[list[bytes], list[bytes]]:
    """A fresh server: one project, two jobs; its results and entity lists as bytes, with the
    server's origin (its port) written as ORIGIN."""
    server = Server(MockConfig(clock="manual", polling="off", seed=seed, clock_origin=ORIGIN))
    server.start()
    try:
        plans = [
            JobPlan("with_errors", (("plans", 5), ("mixed", 4)), False),
            JobPlan(0.3, (("specifications", 6), ("documents", 3), ("other", 1)), True),
        ]
        pid, jobs = _run(server, plans)

        def raw(path: str) -> bytes:
            r = server.api("GET", path)
            assert r.status_code == 200, r.text
            return r.content.replace(server.url.encode(), b"ORIGIN")

        results = [raw(f"/jobs/{j['id']}/result") for j in jobs]
        lists = [
            raw(f"/projects/{pid}/{name}?limit=7{compact}")
            for name in ("files", "sheets", "regions", "specifications", "docs")
            for compact in ("", "&compact=true")
        ]
        return results, lists
    finally:
        server.stop()


def test_the_same_seed_and_uploads_give_byte_identical_results_and_lists() -> None:
    first = _project_bytes(5)
    assert _project_bytes(5) == first
    results, lists = first
    assert all(json.loads(r)["documents"] for r in results)
    assert all(json.loads(x)["total"] for x in lists)
    # another seed, other content
    other_results, _ = _project_bytes(6)
    assert other_results != results
