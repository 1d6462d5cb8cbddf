"""Multipart uploads over signed part URLs (test sizes: multipart over 1000 bytes, 400-byte parts):
part sizes, ETags, order, the whole-file sha256, and completing with parts."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_server.storage import CHECKSUM_HEADER, sha256_b64

from .conftest import ServerFactory, UploadServer, put_parts, sha

DATA = bytes(i * 7 % 251 for i in range(1400))  # parts of 400, 400, 400, 200


def _registered(srv: UploadServer, data: bytes = DATA, **over: Any) -> tuple[str, dict[str, Any]]:
    job_id = srv.job()
    r = srv.register(
        job_id,
        [
            {
                "fileName": "set.pdf",
                "contentType": "application/pdf",
                "fileSize": len(data),
                "sha256": sha(data),
                "classification": "plans",
            }
            | over
        ],
    )
    assert r.status_code == 200, r.text
    [ins] = r.json()["uploads"]
    assert ins["uploadMode"] == "multipart"
    return job_id, ins


def _part(srv: UploadServer, ins: dict[str, Any], n: int, data: bytes, **kw: Any) -> Any:
    url = ins["parts"][n - 1]["url"]
    return srv.put(url, data, **kw)


def _chunk(n: int, data: bytes = DATA) -> bytes:
    return data[(n - 1) * 400 : n * 400]


def _err(r: requests.Response) -> dict[str, Any]:
    err: dict[str, Any] = r.json()["error"]
    return err


def _file_status(srv: UploadServer, job_id: str) -> str:
    status: str = srv.get_job(job_id)["files"][0]["status"]
    return status


def _complete_body(ins: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "multipartUploads": [
            {"documentId": ins["documentId"], "uploadId": ins["uploadId"], "parts": parts}
        ]
    }


def test_parts_in_order_store_the_file_when_the_last_arrives(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    for n in (1, 2, 3):
        r = _part(srv, ins, n, _chunk(n))
        assert r.status_code == 200, r.text
        assert r.json()["fileComplete"] is False
        assert _file_status(srv, job_id) == "pending"
    r = _part(srv, ins, 4, _chunk(4))
    assert r.json()["fileComplete"] is True
    assert r.json()["partsReceived"] == r.json()["partCount"] == 4
    assert _file_status(srv, job_id) == "uploaded"


@pytest.mark.parametrize("order", [[4, 3, 2, 1], [2, 1, 4, 3], [3, 1, 4, 2]])
def test_parts_in_any_order(srv: UploadServer, order: list[int]) -> None:
    job_id, ins = _registered(srv)
    parts = put_parts(srv, ins, DATA, order=order)
    assert _file_status(srv, job_id) == "uploaded"
    assert srv.complete(job_id, _complete_body(ins, parts)).status_code == 202
    assert srv.finish(job_id)["status"] == "completed"


def test_etag_is_quoted_md5_and_stable_on_retry(srv: UploadServer) -> None:
    _, ins = _registered(srv)
    first = _part(srv, ins, 1, _chunk(1))
    again = _part(srv, ins, 1, _chunk(1))
    assert first.status_code == again.status_code == 200
    assert first.headers["ETag"] == again.headers["ETag"]
    import hashlib

    assert first.headers["ETag"] == f'"{hashlib.md5(_chunk(1)).hexdigest()}"'


@pytest.mark.parametrize(("n", "data"), [(1, b"x" * 399), (1, b"x" * 401), (4, b"x" * 400)])
def test_wrong_part_size_is_integrity_error_size(srv: UploadServer, n: int, data: bytes) -> None:
    _job_id, ins = _registered(srv)
    r = _part(srv, ins, n, data)
    assert r.status_code == 422, r.text
    err = _err(r)
    assert (err["code"], err["field"], err["partNumber"]) == ("integrity_error", "size", n)
    assert err["expected"] == (400 if n < 4 else 200)


def test_part_checksum_header_is_checked(srv: UploadServer) -> None:
    _, ins = _registered(srv)
    good = {CHECKSUM_HEADER: sha256_b64(sha(_chunk(1)))}
    assert _part(srv, ins, 1, _chunk(1), headers=good).status_code == 200
    bad = {CHECKSUM_HEADER: sha256_b64(sha(b"other"))}
    r = _part(srv, ins, 2, _chunk(2), headers=bad)
    assert r.status_code == 422
    assert (_err(r)["field"], _err(r)["partNumber"]) == ("sha256", 2)


def test_parts_of_other_bytes_fail_the_whole_file_sha256_and_are_discarded(
    srv: UploadServer,
) -> None:
    job_id, ins = _registered(srv)
    wrong = bytes(reversed(DATA))
    for n in (1, 2, 3):
        assert _part(srv, ins, n, _chunk(n, wrong)).status_code == 200
    r = _part(srv, ins, 4, _chunk(4, wrong))
    assert r.status_code == 422, r.text
    err = _err(r)
    assert (err["code"], err["field"]) == ("integrity_error", "sha256")
    assert err["expected"] == sha(DATA) and err["received"] == sha(wrong)
    assert "upload all parts again" in err["message"]
    assert _file_status(srv, job_id) == "pending"
    # after the discard the right bytes go through
    parts = put_parts(srv, ins, DATA)
    assert _file_status(srv, job_id) == "uploaded"
    assert srv.complete(job_id, _complete_body(ins, parts)).status_code == 202


def test_a_hashed_part_cannot_be_replaced(srv: UploadServer) -> None:
    _, ins = _registered(srv)
    assert _part(srv, ins, 1, _chunk(1)).status_code == 200
    r = _part(srv, ins, 1, b"y" * 400)
    assert r.status_code == 422
    assert (_err(r)["field"], _err(r)["partNumber"]) == ("part", 1)


def test_a_held_part_can_be_replaced(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    assert _part(srv, ins, 3, b"z" * 400).status_code == 200  # held: parts 1-2 missing
    assert _part(srv, ins, 3, _chunk(3)).status_code == 200  # replaced while held
    parts = put_parts(srv, ins, DATA, order=[1, 2, 4])
    assert _file_status(srv, job_id) == "uploaded"
    assert len(parts) == 3


def test_out_of_order_part_over_the_memory_limit_is_413(make_server: ServerFactory) -> None:
    srv = make_server(max_upload_mb=0.0003)  # ~314 bytes: a 400-byte part cannot be held
    job_id, ins = _registered(srv)
    r = _part(srv, ins, 2, _chunk(2))
    assert r.status_code == 413
    assert _err(r)["code"] == "payload_too_large"
    assert "in order" in _err(r)["message"]
    # in order they stream through without being held
    put_parts(srv, ins, DATA)
    assert _file_status(srv, job_id) == "uploaded"


def test_part_url_of_another_part_number_is_invalid(srv: UploadServer) -> None:
    _, ins = _registered(srv)
    url = ins["parts"][0]["url"]
    r = srv.put(url.replace("/1?token=", "/2?token="), _chunk(2))
    assert (r.status_code, _err(r)["code"]) == (403, "token_invalid")


def test_expired_part_url_is_403(srv: UploadServer) -> None:
    _, ins = _registered(srv)
    srv.advance(4000)
    r = _part(srv, ins, 1, _chunk(1))
    assert (r.status_code, _err(r)["code"]) == (403, "token_expired")


# --------------------------------------------------------------------------- complete


def test_complete_with_wrong_etag_is_integrity_error(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    parts = put_parts(srv, ins, DATA)
    parts[2]["etag"] = '"0000"'
    r = srv.complete(job_id, _complete_body(ins, parts))
    assert r.status_code == 422, r.text
    err = _err(r)
    assert (err["code"], err["field"], err["partNumber"]) == ("integrity_error", "part", 3)
    assert srv.get_job(job_id)["status"] == "uploading"


def test_complete_accepts_etags_without_quotes(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    parts = [p | {"etag": p["etag"].strip('"')} for p in put_parts(srv, ins, DATA)]
    assert srv.complete(job_id, _complete_body(ins, parts)).status_code == 202


def test_complete_with_the_docs_entry_and_no_part_list(srv: UploadServer) -> None:
    """The docs' multipartUploads entry is {documentId, uploadId, uploadToken}: no part list."""
    job_id, ins = _registered(srv)
    put_parts(srv, ins, DATA)
    entry = {k: ins[k] for k in ("documentId", "uploadId", "uploadToken")}
    r = srv.complete(job_id, {"multipartUploads": [entry]})
    assert r.status_code == 202, r.text
    assert srv.finish(job_id)["status"] == "completed"


def test_complete_with_the_docs_entry_and_a_wrong_upload_token_is_422(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    put_parts(srv, ins, DATA)
    entry = {"documentId": ins["documentId"], "uploadId": ins["uploadId"], "uploadToken": "upt_x"}
    r = srv.complete(job_id, {"multipartUploads": [entry]})
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
    assert _err(r)["details"][0]["field"] == "multipartUploads[0].uploadToken"
    assert srv.get_job(job_id)["status"] == "uploading"


def test_complete_without_a_part_list_needs_every_part_stored(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    put_parts(srv, ins, DATA[:1200], order=[1, 2, 3])
    entry = {k: ins[k] for k in ("documentId", "uploadId", "uploadToken")}
    r = srv.complete(job_id, {"multipartUploads": [entry]})
    assert r.status_code == 409, r.text
    err = _err(r)
    assert (err["code"], err["documentStatus"]) == ("document_not_uploaded", "pending")
    assert "parts never uploaded: 4" in err["message"]


def test_complete_listing_some_parts_checks_those_only(srv: UploadServer) -> None:
    """Formerly `..._too_few_parts_is_422` (422 "missing: 4"): the mock no longer requires a
    part list, so a partial one is checked part by part and the rest taken as stored."""
    job_id, ins = _registered(srv)
    parts = put_parts(srv, ins, DATA)
    r = srv.complete(job_id, _complete_body(ins, parts[:3]))
    assert r.status_code == 202, r.text
    assert srv.finish(job_id)["status"] == "completed"


@pytest.mark.parametrize(
    "bad",
    [
        [{"partNumber": 1, "etag": "x"}, {"partNumber": 1, "etag": "x"}],
        [{"partNumber": 5, "etag": "x"}],
        [{"partNumber": 0, "etag": "x"}],
    ],
)
def test_complete_with_bad_part_numbers_is_422(
    srv: UploadServer, bad: list[dict[str, Any]]
) -> None:
    job_id, ins = _registered(srv)
    put_parts(srv, ins, DATA)
    r = srv.complete(job_id, _complete_body(ins, bad))
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")


def test_complete_with_a_part_never_uploaded_is_409(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    parts = put_parts(srv, ins, DATA[:1200], order=[1, 2, 3])
    parts.append({"partNumber": 4, "etag": '"x"'})
    r = srv.complete(job_id, _complete_body(ins, parts))
    assert r.status_code == 409
    err = _err(r)
    assert (err["code"], err["documentStatus"]) == ("document_not_uploaded", "pending")
    assert "part 4" in err["message"] and err["currentStatus"] == "uploading"


def test_complete_with_wrong_upload_id_is_422(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    parts = put_parts(srv, ins, DATA)
    body = _complete_body(ins, parts)
    body["multipartUploads"][0]["uploadId"] = "upl_" + "x" * 26
    r = srv.complete(job_id, body)
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
    assert _err(r)["details"][0]["field"] == "multipartUploads[0].uploadId"


def test_multipart_document_in_direct_uploads_is_422_and_in_base64_409(
    srv: UploadServer,
) -> None:
    job_id, ins = _registered(srv)
    put_parts(srv, ins, DATA)
    body = {
        "directUploads": [{"documentId": ins["documentId"], "uploadToken": ins["uploadToken"]}]
    }
    r = srv.complete(job_id, body)
    assert (r.status_code, _err(r)["code"]) == (422, "validation_error")
    r = srv.api(
        "POST",
        f"/jobs/{job_id}/uploads/{ins['documentId']}/content",
        json={"uploadToken": ins["uploadToken"], "contentBase64": ""},
    )
    # a body field naming the wrong kind of document is invalid input; a path naming it is a
    # well-formed request that the document's state refuses
    assert (r.status_code, _err(r)["code"]) == (409, "wrong_upload_mode")
    assert _err(r)["uploadMode"] == "multipart" and _err(r)["currentStatus"] == "uploading"
    assert "multipart" in _err(r)["message"] and "direct_put" in _err(r)["message"]


def test_empty_complete_body_takes_a_stored_multipart_file(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    put_parts(srv, ins, DATA)
    assert srv.complete(job_id).status_code == 202
    assert srv.finish(job_id)["status"] == "completed"
