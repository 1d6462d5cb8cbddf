"""POST /jobs/{jobId}/uploads/{documentId}/content: base64 bytes of a direct_put document."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from .conftest import PLAN_BYTES, UploadServer, b64, sha


def _registered(srv: UploadServer) -> tuple[str, dict[str, Any]]:
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("a.pdf", PLAN_BYTES, "plans")])
    return job_id, ins


def _send(srv: UploadServer, job_id: str, doc: str, body: Any, **kw: Any) -> requests.Response:
    return srv.api("POST", f"/jobs/{job_id}/uploads/{doc}/content", json=body, **kw)


def _err(r: requests.Response) -> dict[str, Any]:
    err: dict[str, Any] = r.json()["error"]
    return err


def _file_status(srv: UploadServer, job_id: str) -> str:
    status: str = srv.get_job(job_id)["files"][0]["status"]
    return status


def test_content_is_stored_and_answers_the_completion_record(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    r = _send(
        srv,
        job_id,
        ins["documentId"],
        {"uploadToken": ins["uploadToken"], "contentBase64": b64(PLAN_BYTES)},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "uploaded",
        "documentId": ins["documentId"],
        "fileName": "a.pdf",
        "fileSize": len(PLAN_BYTES),
        "contentType": "application/pdf",
        "uploadMode": "direct_put",
        "directUpload": {"documentId": ins["documentId"], "uploadToken": ins["uploadToken"]},
    }
    assert _file_status(srv, job_id) == "uploaded"


def test_line_wrapped_base64_is_accepted(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    text = b64(PLAN_BYTES)
    wrapped = "\n".join(text[i : i + 76] for i in range(0, len(text), 76)) + "\n"
    body = {"uploadToken": ins["uploadToken"], "contentBase64": wrapped}
    assert _send(srv, job_id, ins["documentId"], body).status_code == 200


@pytest.mark.parametrize("text", ["not base64!", "QUJD=", "@@@@"])
def test_invalid_base64_is_422(srv: UploadServer, text: str) -> None:
    job_id, ins = _registered(srv)
    r = _send(
        srv, job_id, ins["documentId"], {"uploadToken": ins["uploadToken"], "contentBase64": text}
    )
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
    assert _err(r)["details"][0]["field"] == "contentBase64"


def test_wrong_size_is_integrity_error_size(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    body = {"uploadToken": ins["uploadToken"], "contentBase64": b64(PLAN_BYTES[:-2])}
    r = _send(srv, job_id, ins["documentId"], body)
    assert r.status_code == 422
    err = _err(r)
    assert (err["code"], err["field"]) == ("integrity_error", "size")
    assert (err["expected"], err["received"]) == (len(PLAN_BYTES), len(PLAN_BYTES) - 2)
    assert _file_status(srv, job_id) == "pending"


def test_other_bytes_are_integrity_error_sha256(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    other = bytes(reversed(PLAN_BYTES))
    body = {"uploadToken": ins["uploadToken"], "contentBase64": b64(other)}
    r = _send(srv, job_id, ins["documentId"], body)
    assert (r.status_code, _err(r)["code"], _err(r)["field"]) == (422, "integrity_error", "sha256")
    assert _err(r)["received"] == sha(other)
    assert _file_status(srv, job_id) == "pending"


def test_sha256_in_body_other_than_registered_is_integrity_error(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    body = {
        "uploadToken": ins["uploadToken"],
        "contentBase64": b64(PLAN_BYTES),
        "sha256": sha(b"something else"),
    }
    r = _send(srv, job_id, ins["documentId"], body)
    assert (r.status_code, _err(r)["field"]) == (422, "sha256")
    assert "in the body" in _err(r)["message"]


def test_sha256_in_body_must_be_lowercase_hex(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    body = {
        "uploadToken": ins["uploadToken"],
        "contentBase64": b64(PLAN_BYTES),
        "sha256": sha(PLAN_BYTES).upper(),
    }
    r = _send(srv, job_id, ins["documentId"], body)
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")


def test_wrong_upload_token_is_422(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    other_job, other = _registered(srv)
    for token in ["upt_wrong", other["uploadToken"]]:
        body = {"uploadToken": token, "contentBase64": b64(PLAN_BYTES)}
        r = _send(srv, job_id, ins["documentId"], body)
        assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
        assert _err(r)["details"][0]["field"] == "uploadToken"
    assert _file_status(srv, job_id) == "pending"
    assert other_job != job_id


@pytest.mark.parametrize("body", [{}, {"uploadToken": "x"}, {"contentBase64": "QUJD"}])
def test_missing_fields_are_422(srv: UploadServer, body: dict[str, str]) -> None:
    job_id, ins = _registered(srv)
    r = _send(srv, job_id, ins["documentId"], body)
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")


def test_unknown_document_is_404_and_form_document_is_409(srv: UploadServer) -> None:
    job_id = srv.job()
    r = _send(srv, job_id, "doc_" + "x" * 26, {"uploadToken": "x", "contentBase64": ""})
    assert (r.status_code, _err(r)["code"]) == (404, "document_not_found")
    form = srv.form_upload(job_id, [("f.pdf", b"abc", None)]).json()["uploads"][0]
    r = _send(srv, job_id, form["documentId"], {"uploadToken": "x", "contentBase64": ""})
    assert (r.status_code, _err(r)["code"]) == (409, "wrong_upload_mode")
    assert _err(r)["uploadMode"] == "form" and _err(r)["currentStatus"] == "uploading"
    assert "form upload" in _err(r)["message"]


def test_document_of_another_job_is_404(srv: UploadServer) -> None:
    job_a, ins = _registered(srv)
    job_b = srv.job()
    body = {"uploadToken": ins["uploadToken"], "contentBase64": b64(PLAN_BYTES)}
    r = _send(srv, job_b, ins["documentId"], body)
    assert (r.status_code, _err(r)["code"]) == (404, "document_not_found")
    assert job_a != job_b


def test_body_over_the_limit_is_413(make_server: Any) -> None:
    srv = make_server(max_upload_mb=0.001)  # ~1 kB of bytes, ~1.4 kB + slack of base64
    job_id, ins = _registered(srv)
    body = {"uploadToken": ins["uploadToken"], "contentBase64": "A" * 200_000}
    r = _send(srv, job_id, ins["documentId"], body)
    assert (r.status_code, _err(r)["code"]) == (413, "payload_too_large")


def test_content_after_complete_is_409(srv: UploadServer) -> None:
    job_id = srv.job()
    a, b = srv.register_ok(job_id, [("a.pdf", PLAN_BYTES, None), ("b.pdf", b"bb", None)])
    assert (
        _send(
            srv,
            job_id,
            a["documentId"],
            {"uploadToken": a["uploadToken"], "contentBase64": b64(PLAN_BYTES)},
        ).status_code
        == 200
    )
    assert srv.complete(job_id).status_code == 202
    r = _send(
        srv,
        job_id,
        b["documentId"],
        {"uploadToken": b["uploadToken"], "contentBase64": b64(b"bb")},
    )
    assert (r.status_code, _err(r)["code"]) == (409, "uploads_closed")


def test_content_needs_write_scope(make_server: Any) -> None:
    from mock_server.config import parse_key_spec

    srv = make_server(
        api_keys=(parse_key_spec("pgk_test_uploads"), parse_key_spec("pgk_r:jobs:read"))
    )
    job_id, ins = _registered(srv)
    body = {"uploadToken": ins["uploadToken"], "contentBase64": b64(PLAN_BYTES)}
    r = _send(srv, job_id, ins["documentId"], body, key="pgk_r")
    assert (r.status_code, _err(r)["code"]) == (403, "insufficient_scope")
