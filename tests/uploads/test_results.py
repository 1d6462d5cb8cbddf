"""GET /jobs/{jobId}/result and resultUrl: the v1 shape, availability, immutability, per-file
statuses in step with the job, and the organisation's jobPageLimit at preflight."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_server.config import parse_key_spec

from .conftest import KEY, PLAN_BYTES, ServerFactory, UploadServer

PAGES_3 = b"p" * 250_000  # 3 estimated pages


def _err(r: requests.Response) -> dict[str, Any]:
    err: dict[str, Any] = r.json()["error"]
    return err


def _submitted(
    srv: UploadServer, files: list[tuple[str, bytes, str | None]], scenario: str | None = None
) -> str:
    job_id = srv.job(scenario=scenario)
    assert srv.form_upload(job_id, files).status_code == 200
    assert srv.complete(job_id).status_code == 202
    return job_id


def test_shape_of_a_completed_result(srv: UploadServer) -> None:
    job_id = _submitted(
        srv, [("plan.pdf", PAGES_3, "plans"), ("spec.pdf", PLAN_BYTES, "specifications")]
    )
    job = srv.finish(job_id)
    result = srv.result(job_id).json()
    assert set(result) == {
        "schemaVersion",
        "job",
        "usage",
        "documents",
        "evidence",
        "warnings",
        "errors",
        "generatedAt",
    }
    assert result["job"] == {
        "id": job_id,
        "status": "completed",
        "externalId": None,
        "createdAt": job["createdAt"],
        "completedAt": job["completedAt"],
        "expiresAt": job["expiresAt"],
        "resultUrl": job["resultUrl"],
        "error": None,
    }
    assert result["usage"] == {
        "pageCount": 4,
        "successfulPageCount": 4,
        "drawingPageCount": 3,
        "documentPageCount": 1,
        "successfulDrawingPageCount": 3,
        "successfulDocumentPageCount": 1,
        "drawingCreditsPerPage": 10,
        "documentCreditsPerPage": 1,
        "creditsDebited": 31,
    }
    assert job["billing"]["creditsDebited"] == 31 and job["pageCount"] == 4
    plan, spec = result["documents"]
    # the content (mock_server.content): three sheets, the document's two artifacts
    artifacts, sheets = plan.pop("artifacts"), plan.pop("sheets")
    assert plan == {
        "documentId": job["files"][0]["documentId"],
        "fileName": "plan.pdf",
        "classification": "plans",
        "contentType": "application/pdf",
        "fileSize": len(PAGES_3),
        "status": "completed",
        "pageCount": 3,
        "successfulPageCount": 3,
        "failedPageCount": 0,
        "error": None,
        "specifications": None,
        "docs": None,
    }
    assert [a["type"] for a in artifacts] == ["thumbnail", "extracted_json"]
    prefix = f"/api/open/v1/jobs/{job_id}/artifact?path="
    assert all(prefix in a["url"] for a in artifacts)
    assert [s["pageNumber"] for s in sheets] == [1, 2, 3]
    assert all(
        set(s)
        == {
            "sheetId",
            "sheetNumber",
            "sheetName",
            "sheetDisplayName",
            "pageNumber",
            "drawingType",
            "discipline",
            "artifacts",
        }
        for s in sheets
    )
    assert len(spec["specifications"]) == 1 and spec["docs"] is None
    assert result["evidence"] and all(e["type"] == "region" for e in result["evidence"])
    assert result["warnings"] == result["errors"] == []
    assert result["generatedAt"] == job["completedAt"]


@pytest.mark.parametrize(
    ("classification", "specifications", "docs"),
    [
        ("plans", None, None),
        ("specifications", 1, None),
        ("documents", None, 1),
        ("addenda", None, 1),
        ("mixed", 1, 0),  # its one page is a document page; the first half (rounded up) is spec
        ("other", None, None),
        (None, None, 1),
    ],
)
def test_specifications_and_docs_by_classification(
    srv: UploadServer, classification: str | None, specifications: Any, docs: Any
) -> None:
    """null where Plangrep documents null; otherwise the one page's specification or doc."""
    job_id = _submitted(srv, [("f.pdf", PLAN_BYTES, classification)])
    srv.finish(job_id)
    [doc] = srv.result(job_id).json()["documents"]
    counts = tuple(None if v is None else len(v) for v in (doc["specifications"], doc["docs"]))
    assert counts == (specifications, docs)


def test_completed_with_errors_lists_failed_pages(srv: UploadServer) -> None:
    job_id = _submitted(
        srv, [("a.pdf", b"a" * 400_000, "plans"), ("b.pdf", b"b" * 400_000, None)], "with_errors"
    )
    job = srv.finish(job_id)
    assert job["status"] == "completed_with_errors"
    result = srv.result(job_id).json()
    usage = result["usage"]
    assert usage["pageCount"] == 8
    assert usage["successfulPageCount"] == job["successfulPageCount"] == 6
    failed = [e for e in result["errors"] if e["code"] == "page_failed"]
    assert len(failed) == 2
    assert sum(d["failedPageCount"] for d in result["documents"]) == 2
    for e in failed:
        doc = next(d for d in result["documents"] if d["documentId"] == e["documentId"])
        assert 1 <= e["pageNumber"] <= doc["pageCount"]
        assert e["fileName"] == doc["fileName"]
    assert usage["creditsDebited"] == (
        usage["successfulDrawingPageCount"] * 10 + usage["successfulDocumentPageCount"]
    )


@pytest.mark.parametrize(
    ("scenario", "status"),
    [("processing_fails", "failed"), ("preflight_fails", "failed")],
)
def test_failed_job_has_error_and_no_result(srv: UploadServer, scenario: str, status: str) -> None:
    job_id = _submitted(srv, [("a.pdf", PAGES_3, "plans")], scenario)
    job = srv.finish(job_id)
    assert job["status"] == status
    assert job["error"]["code"] and job["error"]["message"]
    assert job["resultUrl"] is None
    assert [f["status"] for f in job["files"]] == ["failed"]
    r = srv.result(job_id)
    assert r.status_code == 409
    assert (_err(r)["code"], _err(r)["currentStatus"]) == ("result_not_available", status)


def test_no_result_before_the_job_ends(srv: UploadServer) -> None:
    job_id = srv.job(scenario="slow")
    r = srv.result(job_id)
    assert (r.status_code, _err(r)["currentStatus"]) == (409, "awaiting_uploads")
    assert "poll" in _err(r)["message"]
    srv.form_upload(job_id, [("a.pdf", PAGES_3, "plans")])
    srv.complete(job_id)
    srv.advance(61)
    job = srv.get_job(job_id)
    assert job["status"] == "processing" and job["resultUrl"] is None
    assert [f["status"] for f in job["files"]] == ["processing"]
    r = srv.result(job_id)
    assert (r.status_code, _err(r)["currentStatus"]) == (409, "processing")


def test_cancelled_job_has_cancelled_files_and_no_result(srv: UploadServer) -> None:
    job_id = srv.job(scenario="slow")
    [ins] = srv.register_ok(job_id, [("r.pdf", PLAN_BYTES, None)])
    srv.form_upload(job_id, [("a.pdf", PAGES_3, "plans")])
    srv.complete(job_id)
    srv.advance(61)
    r = srv.api("POST", f"/jobs/{job_id}/cancel")
    assert r.status_code == 200, r.text
    job = srv.get_job(job_id)
    assert job["status"] == "cancelled"
    # the registered file was never uploaded: skipped at complete, not cancelled
    assert [f["status"] for f in job["files"]] == ["skipped", "cancelled"]
    r = srv.result(job_id)
    assert (r.status_code, _err(r)["code"]) == (409, "result_not_available")
    assert ins["documentId"] == job["files"][0]["documentId"]


def test_expired_job_files_are_cancelled(srv: UploadServer) -> None:
    job_id = srv.job()
    srv.register_ok(job_id, [("r.pdf", PLAN_BYTES, None)])
    # within the 24 virtual hours past expiresAt that the expired job stays readable
    srv.advance(7 * 24 * 3600 + 3600)
    job = srv.get_job(job_id)
    assert job["status"] == "expired"
    assert [f["status"] for f in job["files"]] == ["cancelled"]


def test_result_never_changes(srv: UploadServer) -> None:
    job_id = _submitted(srv, [("a.pdf", PAGES_3, "mixed")], "with_errors")
    srv.finish(job_id)
    first = srv.result(job_id).json()
    srv.advance(2 * 24 * 3600)
    srv.set_balance(5)
    assert srv.result(job_id).json() == first
    assert srv.http.get(first["job"]["resultUrl"], timeout=10).json() == first


def test_result_needs_read_scope_and_tenancy(make_server: ServerFactory) -> None:
    keys = (KEY, "pgk_writer:jobs:write", "pgk_other")
    srv = make_server(api_keys=tuple(parse_key_spec(k) for k in keys))
    job_id = _submitted(srv, [("a.pdf", PLAN_BYTES, None)])
    srv.finish(job_id)
    assert srv.result(job_id).status_code == 200
    r = srv.result(job_id, key="pgk_writer")
    assert (r.status_code, _err(r)["code"]) == (403, "insufficient_scope")
    r = srv.result(job_id, key="pgk_other")
    assert (r.status_code, _err(r)["code"]) == (404, "job_not_found")
    r = srv.api("GET", f"/jobs/{job_id}/result", key=None)
    assert (r.status_code, _err(r)["code"]) == (401, "unauthorized")


def test_job_page_limit_fails_the_job_at_preflight(srv: UploadServer) -> None:
    r = srv.request(
        "POST",
        "/_mock/scenarios/next",
        key=None,
        json={"scenario": {"name": "huge", "pages_per_file": 501}},
    )
    assert r.status_code == 200, r.text
    job_id = srv.job()
    before = srv.balance()
    srv.form_upload(job_id, [("a.pdf", PLAN_BYTES, "plans")])
    assert srv.complete(job_id).status_code == 202
    job = srv.finish(job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "page_limit_exceeded"
    assert "jobPageLimit is 500" in job["error"]["message"]
    assert "501" in job["error"]["message"]
    assert job["billing"] == {"creditsReserved": 0, "creditsDebited": 0}
    assert srv.balance() == before
    assert srv.result(job_id).status_code == 409


def test_page_limit_is_not_hit_at_exactly_500_pages(srv: UploadServer) -> None:
    srv.request(
        "POST",
        "/_mock/scenarios/next",
        key=None,
        json={
            "scenario": {"name": "five_hundred", "pages_per_file": 500, "pages_per_second": 100}
        },
    )
    srv.set_balance(100_000)
    job_id = _submitted(srv, [("a.pdf", PLAN_BYTES, "plans")])
    assert srv.finish(job_id)["status"] == "completed"
    assert srv.result(job_id).json()["usage"]["pageCount"] == 500


def test_blocked_then_resumed_job_result_adds_up(srv: UploadServer) -> None:
    job_id = srv.job(scenario="runs_dry")
    assert srv.form_upload(job_id, [("a.pdf", PLAN_BYTES, "plans")]).status_code == 200
    before = srv.balance()  # credits are reserved as the job enters preflighting
    assert srv.complete(job_id).status_code == 202
    for _ in range(10):
        srv.advance(60)
        if srv.get_job(job_id)["status"] == "blocked_insufficient_credits":
            break
    assert srv.get_job(job_id)["status"] == "blocked_insufficient_credits"
    spent_before_block = before - srv.balance()
    srv.set_balance(1_000_000)
    assert srv.api("POST", f"/jobs/{job_id}/resume").status_code == 200
    job = srv.finish(job_id)
    assert job["status"] == "completed"
    usage = srv.result(job_id).json()["usage"]
    assert usage["pageCount"] == 1501
    assert usage["drawingPageCount"] == 1501
    assert usage["creditsDebited"] == 15010
    assert usage["creditsDebited"] == spent_before_block + (1_000_000 - srv.balance())


@pytest.mark.parametrize(
    ("event", "scenario"),
    [
        ("complete_with_errors", "slow"),
        ("complete", "slow"),
        ("complete", "with_errors"),
    ],
)
def test_forced_endings_keep_the_result_consistent(
    srv: UploadServer, event: str, scenario: str
) -> None:
    """A forced ending settles the remaining pages at once (all failed, or all successful);
    the result's per-document counts still add up to the job's."""
    job_id = srv.job(scenario=scenario)
    before = srv.balance()
    srv.form_upload(job_id, [("a.pdf", b"a" * 350_000, "plans"), ("b.pdf", b"b" * 450_000, None)])
    srv.complete(job_id)
    srv.advance(61 if scenario == "slow" else 3)  # through preflight
    srv.advance(20 if scenario == "slow" else 4)  # a few pages in
    assert srv.get_job(job_id)["status"] == "processing"
    r = srv.request("POST", f"/_mock/jobs/{job_id}/events", key=None, json={"event": event})
    assert r.status_code == 200, r.text
    job = srv.get_job(job_id)
    result = srv.result(job_id).json()
    usage, docs = result["usage"], result["documents"]
    assert usage["successfulPageCount"] == job["successfulPageCount"]
    assert sum(d["successfulPageCount"] for d in docs) == usage["successfulPageCount"]
    assert (
        sum(d["failedPageCount"] for d in docs)
        == usage["pageCount"] - usage["successfulPageCount"]
    )
    assert usage["creditsDebited"] == (
        usage["successfulDrawingPageCount"] * 10 + usage["successfulDocumentPageCount"]
    )
    assert usage["creditsDebited"] == before - srv.balance()
