"""Property: for any set of uploaded files, any upload way and any outcome, the result's usage
adds up: pages, successful pages, drawing/document split, failed pages, and credits debited equal
to the per-page rates and to the organisation's balance change."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import MockConfig
from mock_server.storage import StorageSettings

from .conftest import UploadServer, b64, direct_put, put_parts, spec

CLASSES = [None, "plans", "specifications", "documents", "addenda", "mixed", "other"]
WAYS = ["form", "direct_put", "base64", "multipart"]
# multipart over 250 kB in parts of 100 kB: every way is reachable with small files
PROPERTY_SETTINGS = StorageSettings(multipart_threshold=250_000, part_size=100_000)


@pytest.fixture(scope="module")
def server() -> Iterator[UploadServer]:
    srv = UploadServer(
        MockConfig(clock="manual", polling="off", port=0), PROPERTY_SETTINGS
    ).start()
    yield srv
    srv.stop()


files_st = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=450_000),
        st.sampled_from(CLASSES),
        st.sampled_from(WAYS),
    ),
    min_size=1,
    max_size=5,
)
outcome_st = st.one_of(
    st.sampled_from(["happy", "with_errors", "runs_dry"]),
    st.builds(
        lambda d, doc, frac: {
            "name": "rates",
            "drawing_credits_per_page": d,
            "document_credits_per_page": doc,
            "pages_per_second": 3.0,
            "outcome": "completed_with_errors" if frac else "completed",
            "failed_page_fraction": frac,
        },
        st.integers(0, 40),
        st.integers(0, 7),
        st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    ),
)


def _upload(srv: UploadServer, job_id: str, files: list[tuple[int, str | None, str]]) -> None:
    for i, (size, cls, way) in enumerate(files):
        name, data = f"f{i}.pdf", bytes([i]) * size
        if way == "form" or (way == "multipart" and size <= 250_000):
            r = srv.form_upload(job_id, [(name, data, cls)])
            assert r.status_code == 200, r.text
            continue
        if way in ("direct_put", "base64") and size > 250_000:
            way = "multipart"
        r = srv.register(job_id, [spec(name, data, cls)])
        assert r.status_code == 200, r.text
        [ins] = r.json()["uploads"]
        if way == "direct_put":
            assert direct_put(srv, ins, data).status_code == 200
        elif way == "base64":
            body = {"uploadToken": ins["uploadToken"], "contentBase64": b64(data)}
            path = f"/jobs/{job_id}/uploads/{ins['documentId']}/content"
            assert srv.api("POST", path, json=body).status_code == 200
        else:
            put_parts(srv, ins, data)


def _run(srv: UploadServer, job_id: str) -> tuple[dict[str, Any], int]:
    """Complete, run to the end (topping up and resuming a blocked job); credits spent."""
    before = srv.balance()
    spent = 0
    assert srv.complete(job_id).status_code == 202
    for _ in range(60):
        job = srv.get_job(job_id)
        if job["status"] == "blocked_insufficient_credits":
            spent += before - srv.balance()
            srv.set_balance(before := 1_000_000)
            assert srv.api("POST", f"/jobs/{job_id}/resume").status_code == 200
        elif job["status"] in ("completed", "completed_with_errors", "failed"):
            return job, spent + before - srv.balance()
        srv.advance(600)
    raise AssertionError(f"{job_id} is still {job['status']}")


@settings(
    max_examples=int(os.environ.get("UPLOADS_PROPERTY_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files=files_st, outcome=outcome_st)
def test_usage_adds_up(
    server: UploadServer, files: list[tuple[int, str | None, str]], outcome: Any
) -> None:
    srv = server
    scenario = outcome if isinstance(outcome, str) else None
    if isinstance(outcome, dict):
        r = srv.request("POST", "/_mock/scenarios/next", key=None, json={"scenario": outcome})
        assert r.status_code == 200, r.text
    job_id = srv.job(scenario=scenario)
    srv.set_balance(10_000)
    _upload(srv, job_id, files)
    job, spent = _run(srv, job_id)
    assert job["status"] in ("completed", "completed_with_errors"), job
    result = srv.result(job_id).json()
    usage, docs = result["usage"], result["documents"]

    assert usage["pageCount"] == job["pageCount"] == sum(d["pageCount"] for d in docs)
    assert usage["successfulPageCount"] == job["successfulPageCount"]
    assert usage["successfulPageCount"] == sum(d["successfulPageCount"] for d in docs)
    assert usage["drawingPageCount"] + usage["documentPageCount"] == usage["pageCount"]
    assert (
        usage["successfulDrawingPageCount"] + usage["successfulDocumentPageCount"]
        == usage["successfulPageCount"]
    )
    assert usage["successfulDrawingPageCount"] <= usage["drawingPageCount"]
    assert usage["successfulDocumentPageCount"] <= usage["documentPageCount"]
    failed = sum(d["failedPageCount"] for d in docs)
    assert failed == usage["pageCount"] - usage["successfulPageCount"]
    assert failed == len([e for e in result["errors"] if e["code"] == "page_failed"])
    assert (job["status"] == "completed_with_errors") == (failed > 0)
    for d in docs:
        assert d["successfulPageCount"] + d["failedPageCount"] == d["pageCount"]

    debited = usage["creditsDebited"]
    assert debited == job["billing"]["creditsDebited"]
    assert debited == (
        usage["successfulDrawingPageCount"] * usage["drawingCreditsPerPage"]
        + usage["successfulDocumentPageCount"] * usage["documentCreditsPerPage"]
    )
    assert debited == spent, "credits debited must equal the organisation's balance change"
    assert job["billing"]["creditsReserved"] == 0
