"""Each upload way, end to end to a result: form, direct PUT, multipart PUT, base64."""

from __future__ import annotations

from typing import Any

from .conftest import PLAN_BYTES, UploadServer, b64, direct_put, put_parts, sha

PLAN = PLAN_BYTES
SPEC = b"%PDF-1.7 spec " * 100  # 1400 bytes: over the test multipart threshold of 1000


def _check_result(srv: UploadServer, job_id: str, names: list[str]) -> dict[str, Any]:
    job = srv.finish(job_id)
    assert job["status"] == "completed"
    assert [f["status"] for f in job["files"]] == ["completed"] * len(names)
    r = srv.result(job_id)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    assert result["schemaVersion"] == "v1"
    assert [d["fileName"] for d in result["documents"]] == names
    assert result["job"]["resultUrl"] == job["resultUrl"]
    same = srv.http.get(job["resultUrl"], timeout=10)
    assert same.status_code == 200, same.text
    assert same.json() == result
    return result


def test_form_upload_to_result(srv: UploadServer) -> None:
    job_id = srv.job()
    r = srv.form_upload(job_id, [("a.pdf", PLAN, "plans")])
    assert r.status_code == 200, r.text
    assert srv.complete(job_id).status_code == 202
    result = _check_result(srv, job_id, ["a.pdf"])
    assert result["usage"]["drawingPageCount"] == 1


def test_direct_put_to_result(srv: UploadServer) -> None:
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("a.pdf", PLAN, "plans")])
    assert ins["uploadMode"] == "direct_put"
    assert srv.get_job(job_id)["files"][0]["status"] == "pending"
    r = direct_put(srv, ins, PLAN)
    assert r.status_code == 200, r.text
    assert srv.get_job(job_id)["files"][0]["status"] == "uploaded"
    body = {
        "directUploads": [{"documentId": ins["documentId"], "uploadToken": ins["uploadToken"]}]
    }
    r = srv.complete(job_id, body)
    assert r.status_code == 202, r.text
    _check_result(srv, job_id, ["a.pdf"])


def test_multipart_to_result(srv: UploadServer) -> None:
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("spec.pdf", SPEC, "specifications")])
    assert ins["uploadMode"] == "multipart"
    assert [p["size"] for p in ins["parts"]] == [400, 400, 400, 200]
    parts = put_parts(srv, ins, SPEC, order=[2, 4, 1, 3])
    body = {
        "multipartUploads": [
            {"documentId": ins["documentId"], "uploadId": ins["uploadId"], "parts": parts}
        ]
    }
    r = srv.complete(job_id, body)
    assert r.status_code == 202, r.text
    result = _check_result(srv, job_id, ["spec.pdf"])
    [doc] = result["documents"]
    # one specification page: one specification section, and no docs for a specifications file
    assert len(doc["specifications"]) == 1 and doc["docs"] is None
    assert doc["specifications"][0]["pageStart"] == doc["specifications"][0]["pageEnd"] == 1


def test_base64_to_result(srv: UploadServer) -> None:
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("a.pdf", PLAN, None)])
    r = srv.api(
        "POST",
        f"/jobs/{job_id}/uploads/{ins['documentId']}/content",
        json={"uploadToken": ins["uploadToken"], "contentBase64": b64(PLAN), "sha256": sha(PLAN)},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "uploaded" and out["uploadMode"] == "direct_put"
    assert out["fileSize"] == len(PLAN)
    r = srv.complete(job_id, {"directUploads": [out["directUpload"]]})
    assert r.status_code == 202, r.text
    result = _check_result(srv, job_id, ["a.pdf"])
    assert result["documents"][0]["classification"] == "documents"
