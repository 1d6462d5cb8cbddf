"""POST /jobs/{jobId}/uploads/complete with every body field: documentIds, directUploads,
multipartUploads (see test_multipart), failedUploads, and {}."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from .conftest import PLAN_BYTES, UploadServer, direct_put

A = PLAN_BYTES
B = b"%PDF-1.7 b " * 20
C = b"%PDF-1.7 c " * 30


def _err(r: requests.Response) -> dict[str, Any]:
    err: dict[str, Any] = r.json()["error"]
    return err


def _three(srv: UploadServer) -> tuple[str, list[dict[str, Any]]]:
    """A job with three registered documents; A and B stored, C still pending."""
    job_id = srv.job()
    ins = srv.register_ok(job_id, [("a.pdf", A, "plans"), ("b.pdf", B, None), ("c.pdf", C, None)])
    assert direct_put(srv, ins[0], A).status_code == 200
    assert direct_put(srv, ins[1], B).status_code == 200
    return job_id, ins


def _direct(ins: dict[str, Any]) -> dict[str, str]:
    return {"documentId": ins["documentId"], "uploadToken": ins["uploadToken"]}


def _statuses(srv: UploadServer, job_id: str) -> list[str]:
    return [f["status"] for f in srv.get_job(job_id)["files"]]


def test_empty_body_takes_every_stored_file_and_skips_pending(srv: UploadServer) -> None:
    job_id, _ = _three(srv)
    r = srv.complete(job_id, {})
    assert r.status_code == 202, r.text
    files = r.json()["job"]["files"]
    assert [f["status"] for f in files] == ["processing", "processing", "skipped"]
    job = srv.finish(job_id)
    assert [f["status"] for f in job["files"]] == ["completed", "completed", "skipped"]
    docs = srv.result(job_id).json()["documents"]
    assert [d["status"] for d in docs] == ["completed", "completed", "skipped"]
    assert docs[2]["pageCount"] == 0


def test_no_body_at_all_is_like_empty(srv: UploadServer) -> None:
    job_id, _ = _three(srv)
    r = srv.api("POST", f"/jobs/{job_id}/uploads/complete")
    assert r.status_code == 202, r.text


def test_document_ids_choose_a_subset(srv: UploadServer) -> None:
    job_id, ins = _three(srv)
    r = srv.complete(job_id, {"documentIds": [ins[1]["documentId"]]})
    assert r.status_code == 202, r.text
    srv.finish(job_id)
    assert _statuses(srv, job_id) == ["skipped", "completed", "skipped"]


def test_direct_uploads_and_document_ids_combine(srv: UploadServer) -> None:
    job_id, ins = _three(srv)
    body = {"documentIds": [ins[0]["documentId"]], "directUploads": [_direct(ins[1])]}
    assert srv.complete(job_id, body).status_code == 202
    srv.finish(job_id)
    assert _statuses(srv, job_id) == ["completed", "completed", "skipped"]


@pytest.mark.parametrize("field", ["documentIds", "directUploads", "failedUploads"])
def test_unknown_document_is_404_naming_the_field(srv: UploadServer, field: str) -> None:
    job_id, _ = _three(srv)
    doc = "doc_" + "z" * 26
    item: Any = doc if field == "documentIds" else {"documentId": doc, "uploadToken": "upt_x"}
    r = srv.complete(job_id, {field: [item]})
    assert r.status_code == 404, r.text
    err = _err(r)
    assert err["code"] == "document_not_found"
    assert err["field"].startswith(f"{field}[0]") and err["documentId"] == doc
    assert srv.get_job(job_id)["status"] == "uploading"


def test_document_of_another_job_is_404(srv: UploadServer) -> None:
    job_id, _ = _three(srv)
    _, other = _three(srv)
    r = srv.complete(job_id, {"documentIds": [other[0]["documentId"]]})
    assert (r.status_code, _err(r)["code"]) == (404, "document_not_found")


@pytest.mark.parametrize("field", ["documentIds", "directUploads"])
def test_document_never_uploaded_is_409(srv: UploadServer, field: str) -> None:
    job_id, ins = _three(srv)
    item: Any = ins[2]["documentId"] if field == "documentIds" else _direct(ins[2])
    r = srv.complete(job_id, {field: [item]})
    assert r.status_code == 409, r.text
    err = _err(r)
    assert err["code"] == "document_not_uploaded"
    assert (err["documentStatus"], err["currentStatus"]) == ("pending", "uploading")
    assert "failedUploads" in err["message"]
    assert srv.get_job(job_id)["status"] == "uploading"


def test_upload_token_that_does_not_match_is_422(srv: UploadServer) -> None:
    job_id, ins = _three(srv)
    body = {"directUploads": [_direct(ins[0]) | {"uploadToken": ins[1]["uploadToken"]}]}
    r = srv.complete(job_id, body)
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
    assert _err(r)["details"][0]["field"] == "directUploads[0].uploadToken"


def test_form_document_in_direct_uploads_is_422(srv: UploadServer) -> None:
    job_id = srv.job()
    form = srv.form_upload(job_id, [("f.pdf", A, None)]).json()["uploads"][0]
    body = {"directUploads": [{"documentId": form["documentId"], "uploadToken": "upt_x"}]}
    r = srv.complete(job_id, body)
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
    # but documentIds takes it
    assert srv.complete(job_id, {"documentIds": [form["documentId"]]}).status_code == 202


def test_failed_uploads_are_marked_failed_and_reported(srv: UploadServer) -> None:
    job_id, ins = _three(srv)
    body = {
        "directUploads": [_direct(ins[0]), _direct(ins[1])],
        "failedUploads": [{"documentId": ins[2]["documentId"], "reason": "disk full"}],
    }
    r = srv.complete(job_id, body)
    assert r.status_code == 202, r.text
    files = r.json()["job"]["files"]
    assert [f["status"] for f in files] == ["processing", "processing", "failed"]
    job = srv.finish(job_id)
    # failed uploads are not waited for; they make the job end with errors (API.md)
    assert job["status"] == "completed_with_errors"
    assert [f["status"] for f in job["files"]] == ["completed", "completed", "failed"]
    result = srv.result(job_id).json()
    doc = result["documents"][2]
    assert doc["status"] == "failed"
    assert doc["error"] == {"code": "upload_failed", "message": "disk full"}
    assert result["errors"] == [
        {
            "code": "upload_failed",
            "message": "disk full",
            "documentId": ins[2]["documentId"],
            "fileName": "c.pdf",
            "pageNumber": None,
        }
    ]


def test_failed_upload_without_reason_gets_a_default(srv: UploadServer) -> None:
    job_id, ins = _three(srv)
    r = srv.complete(job_id, {"failedUploads": [{"documentId": ins[2]["documentId"]}]})
    assert r.status_code == 202, r.text
    srv.finish(job_id)
    errors = srv.result(job_id).json()["errors"]
    assert errors[0]["message"] == "the client reported the upload as failed"
    assert _statuses(srv, job_id) == ["completed", "completed", "failed"]


def test_only_failed_uploads_fails_the_job(srv: UploadServer) -> None:
    """Formerly 409 no_documents: API.md says the job ends failed when no file is left."""
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("a.pdf", A, None)])
    r = srv.complete(job_id, {"failedUploads": [{"documentId": ins["documentId"]}]})
    assert r.status_code == 202, r.text
    assert r.json()["job"]["status"] == "preflighting"
    job = srv.finish(job_id)
    assert job["status"] == "failed"
    assert job["error"]["code"] == "all_uploads_failed"
    assert [f["status"] for f in job["files"]] == ["failed"]
    assert job["billing"] == {"creditsReserved": 0, "creditsDebited": 0}
    r = srv.result(job_id)
    assert (r.status_code, _err(r)["code"]) == (409, "result_not_available")


def test_failed_uploads_with_nothing_named_for_processing_fail_the_job(
    srv: UploadServer,
) -> None:
    job_id, ins = _three(srv)
    body = {"directUploads": [], "failedUploads": [{"documentId": ins[0]["documentId"]}]}
    assert srv.complete(job_id, body).status_code == 202
    job = srv.finish(job_id)
    assert job["status"] == "failed"
    assert [f["status"] for f in job["files"]] == ["failed", "skipped", "skipped"]


def test_document_both_processed_and_failed_is_422(srv: UploadServer) -> None:
    job_id, ins = _three(srv)
    body = {
        "documentIds": [ins[0]["documentId"]],
        "failedUploads": [{"documentId": ins[0]["documentId"]}],
    }
    r = srv.complete(job_id, body)
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
    assert _err(r)["details"][0]["field"] == "documentIds[0]"
    assert srv.get_job(job_id)["status"] == "uploading"


def test_all_named_lists_empty_is_409_no_documents(srv: UploadServer) -> None:
    job_id, _ = _three(srv)
    r = srv.complete(job_id, {"documentIds": [], "directUploads": []})
    assert (r.status_code, _err(r)["code"]) == (409, "no_documents")


def test_complete_twice_is_409_uploads_closed_not_a_document_error(srv: UploadServer) -> None:
    job_id, ins = _three(srv)
    body = {"directUploads": [_direct(ins[0])]}
    assert srv.complete(job_id, body).status_code == 202
    r = srv.complete(job_id, body)
    assert (r.status_code, _err(r)["code"]) == (409, "uploads_closed")


def test_idempotent_replay_of_a_full_body(srv: UploadServer) -> None:
    job_id, ins = _three(srv)
    body = {
        "directUploads": [_direct(ins[0])],
        "failedUploads": [{"documentId": ins[2]["documentId"], "reason": "x"}],
    }
    headers = {"Idempotency-Key": "complete-1"}
    first = srv.api("POST", f"/jobs/{job_id}/uploads/complete", json=body, headers=headers)
    again = srv.api("POST", f"/jobs/{job_id}/uploads/complete", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["idempotent"] is True
    history = srv.request("GET", f"/_mock/jobs/{job_id}", key=None).json()["history"]
    assert [h["event"] for h in history].count("complete_uploads") == 1
