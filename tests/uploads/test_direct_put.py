"""PUT to a signed direct_put URL: required headers, size and sha256 (422 integrity_error naming
which), the upload window, retries."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_server.storage import CHECKSUM_HEADER

from .conftest import PLAN_BYTES, UploadServer, direct_put, sha


def _registered(srv: UploadServer, data: bytes = PLAN_BYTES) -> tuple[str, dict[str, Any]]:
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("a.pdf", data, "plans")])
    return job_id, ins


def _err(r: requests.Response) -> dict[str, Any]:
    err: dict[str, Any] = r.json()["error"]
    return err


def _status(srv: UploadServer, job_id: str) -> str:
    status: str = srv.get_job(job_id)["files"][0]["status"]
    return status


def test_put_stores_and_answers_etag(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    r = direct_put(srv, ins, PLAN_BYTES)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"].startswith('"') and r.json()["etag"] == r.headers["ETag"]
    assert r.json()["sha256"] == sha(PLAN_BYTES)
    assert _status(srv, job_id) == "uploaded"
    # an identical retry is fine
    assert direct_put(srv, ins, PLAN_BYTES).status_code == 200


def test_zero_byte_file(srv: UploadServer) -> None:
    job_id, ins = _registered(srv, b"")
    r = direct_put(srv, ins, b"")
    assert r.status_code == 200, r.text
    assert srv.complete(job_id).status_code == 202
    assert srv.finish(job_id)["status"] == "completed"


@pytest.mark.parametrize("header", ["Content-Type", CHECKSUM_HEADER])
def test_missing_required_header_is_422_naming_it(srv: UploadServer, header: str) -> None:
    job_id, ins = _registered(srv)
    headers = {k: v for k, v in ins["headers"].items() if k != header}
    # requests adds no Content-Type of its own for raw bytes
    r = srv.put(ins["uploadUrl"], PLAN_BYTES, headers)
    assert r.status_code == 422, r.text
    err = _err(r)
    assert err["code"] == "validation_error"
    assert err["details"][0]["field"] == f"headers.{header}"
    assert header in err["message"]
    assert _status(srv, job_id) == "pending"


def test_other_content_type_is_422(srv: UploadServer) -> None:
    _job_id, ins = _registered(srv)
    headers = ins["headers"] | {"Content-Type": "image/png"}
    r = srv.put(ins["uploadUrl"], PLAN_BYTES, headers)
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
    # parameters and case do not matter
    headers = ins["headers"] | {"Content-Type": "Application/PDF; charset=binary"}
    assert srv.put(ins["uploadUrl"], PLAN_BYTES, headers).status_code == 200


def test_checksum_header_of_other_bytes_is_integrity_error_sha256(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    headers = ins["headers"] | {CHECKSUM_HEADER: "AAAA"}
    r = srv.put(ins["uploadUrl"], PLAN_BYTES, headers)
    assert r.status_code == 422
    assert (_err(r)["code"], _err(r)["field"]) == ("integrity_error", "sha256")
    assert _status(srv, job_id) == "pending"


@pytest.mark.parametrize("data", [PLAN_BYTES[:-1], PLAN_BYTES + b"!", b""])
def test_wrong_size_is_integrity_error_size(srv: UploadServer, data: bytes) -> None:
    job_id, ins = _registered(srv)
    r = direct_put(srv, ins, data)
    assert r.status_code == 422, r.text
    err = _err(r)
    assert (err["code"], err["field"]) == ("integrity_error", "size")
    assert err["expected"] == len(PLAN_BYTES) and err["received"] == len(data)
    assert err["documentId"] == ins["documentId"]
    assert _status(srv, job_id) == "pending"


def test_longer_chunked_body_is_cut_off_with_size_error(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)

    def body() -> Any:
        yield PLAN_BYTES
        yield b"more than registered"

    r = srv.http.put(ins["uploadUrl"], data=body(), headers=ins["headers"], timeout=10)
    assert r.status_code == 422, r.text
    assert (_err(r)["code"], _err(r)["field"]) == ("integrity_error", "size")
    assert _status(srv, job_id) == "pending"


def test_shorter_chunked_body_is_size_error(srv: UploadServer) -> None:
    _job_id, ins = _registered(srv)

    def body() -> Any:
        yield PLAN_BYTES[:100]

    r = srv.http.put(ins["uploadUrl"], data=body(), headers=ins["headers"], timeout=10)
    assert (_err(r)["field"], _err(r)["received"]) == ("size", 100)


def test_same_size_other_bytes_is_integrity_error_sha256(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    other = bytes(reversed(PLAN_BYTES))
    r = direct_put(srv, ins, other)
    assert r.status_code == 422
    err = _err(r)
    assert (err["code"], err["field"]) == ("integrity_error", "sha256")
    assert (err["expected"], err["received"]) == (sha(PLAN_BYTES), sha(other))
    assert _status(srv, job_id) == "pending"
    # the right bytes afterwards are accepted
    assert direct_put(srv, ins, PLAN_BYTES).status_code == 200


def test_put_after_complete_is_409_uploads_closed(srv: UploadServer) -> None:
    job_id = srv.job()
    a, b = srv.register_ok(job_id, [("a.pdf", PLAN_BYTES, None), ("b.pdf", b"bb", None)])
    assert direct_put(srv, a, PLAN_BYTES).status_code == 200
    assert srv.complete(job_id).status_code == 202
    r = direct_put(srv, b, b"bb")
    assert r.status_code == 409
    assert (_err(r)["code"], _err(r)["currentStatus"]) == ("uploads_closed", "preflighting")
    files = srv.get_job(job_id)["files"]
    assert [f["status"] for f in files] == ["processing", "skipped"]


def test_put_on_cancelled_job_is_409(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    assert srv.api("POST", f"/jobs/{job_id}/cancel").status_code == 200
    r = direct_put(srv, ins, PLAN_BYTES)
    assert (r.status_code, _err(r)["code"]) == (409, "uploads_closed")
    assert _status(srv, job_id) == "cancelled"
