"""The form upload `POST /jobs/{jobId}/files` and the simple complete-uploads body."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import requests

from .harness import Server


def _job(server: Server) -> str:
    pid = server.ready_project()
    job_id: str = server.new_job(pid)["job"]["id"]
    return job_id


def _post(server: Server, job_id: str, parts: list[tuple[str, Any]]) -> requests.Response:
    return server.api("POST", f"/jobs/{job_id}/files", files=parts)


def _meta(*files: dict[str, Any], **extra: Any) -> tuple[str, tuple[None, str]]:
    return ("metadata", (None, json.dumps({"files": list(files), **extra})))


def _file(name: str = "file0", data: bytes = b"%PDF") -> tuple[str, tuple[str, bytes, str]]:
    return (name, ("a.pdf", data, "application/pdf"))


def test_two_files_with_metadata(server: Server) -> None:
    job_id = _job(server)
    r = server.upload(job_id, files=[("a.pdf", b"x" * 10, "plans"), ("b.pdf", b"y", None)])
    assert r.status_code == 200
    body = r.json()
    assert [u["fileName"] for u in body["uploads"]] == ["a.pdf", "b.pdf"]
    assert [u["partName"] for u in body["uploads"]] == ["file0", "file1"]
    assert [u["fileSize"] for u in body["uploads"]] == [10, 1]
    assert len({u["documentId"] for u in body["uploads"]}) == 2
    assert [f["status"] for f in body["job"]["files"]] == ["uploaded", "uploaded"]


def test_metadata_files_may_be_omitted(server: Server) -> None:
    job_id = _job(server)
    r = _post(server, job_id, [("metadata", (None, "{}")), _file()])
    assert r.status_code == 200, r.text
    assert r.json()["uploads"][0]["fileName"] == "a.pdf"


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([_file()], "metadata"),
        ([("metadata", (None, "{not json")), _file()], "metadata"),
        ([("metadata", (None, "[]")), _file()], "(body)"),
        ([_meta()], "file0"),
        ([_meta({"partName": "file1", "fileName": "x.pdf", "contentType": "a/b"}), _file()],
         "metadata.files.0.partName"),
        ([_meta({"partName": "file0", "fileName": "x.pdf", "contentType": "a/b",
                 "sha256": "ABC"}), _file()], "files.0.sha256"),
        ([_meta({"partName": "file0", "fileName": "x.pdf", "contentType": "a/b",
                 "classification": "drawings"}), _file()], "files.0.classification"),
        ([_meta(), _file("upload")], "upload"),
    ],
)  # fmt: skip
def test_bad_forms_are_422(server: Server, parts: list[tuple[str, Any]], field: str) -> None:
    job_id = _job(server)
    r = _post(server, job_id, parts)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert err["details"][0]["field"].endswith(field) or err["details"][0]["field"] == field
    assert server.job(job_id)["job"]["files"] == []


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b.pdf", "..", "a\x00.pdf", "x" * 300])
def test_hostile_file_names_are_422(server: Server, name: str) -> None:
    job_id = _job(server)
    meta = _meta({"partName": "file0", "fileName": name, "contentType": "application/pdf"})
    r = _post(server, job_id, [meta, _file()])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "validation_error"


def test_sha256_mismatch_is_integrity_error(server: Server) -> None:
    job_id = _job(server)
    good = hashlib.sha256(b"%PDF").hexdigest()
    bad = hashlib.sha256(b"other").hexdigest()
    for digest, status in ((bad, 422), (good, 200)):
        meta = _meta({"partName": "file0", "fileName": "a.pdf", "contentType": "application/pdf",
                      "sha256": digest})  # fmt: skip
        r = _post(server, job_id, [meta, _file()])
        assert r.status_code == status, r.text
    assert len(server.job(job_id)["job"]["files"]) == 1


def test_not_multipart_is_415(server: Server) -> None:
    job_id = _job(server)
    r = server.api("POST", f"/jobs/{job_id}/files", json={"files": []})
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "unsupported_media_type"


def test_more_than_100_files_is_limit_exceeded(server: Server) -> None:
    job_id = _job(server)
    files = [(f"f{i}.pdf", b"x", None) for i in range(101)]
    r = server.upload(job_id, files=files)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "limit_exceeded"
    assert server.upload(job_id, files=files[:100]).status_code == 200
    r = server.upload(job_id, files=files[:1])
    assert r.status_code == 422


def test_a_repeated_upload_flow_is_skipped(server: Server) -> None:
    job_id = _job(server)
    meta = ("metadata", (None, json.dumps({"clientUploadFlowId": "flow-1"})))
    first = _post(server, job_id, [meta, _file()])
    again = _post(server, job_id, [meta, _file()])
    assert first.json()["status"] == "uploaded"
    assert again.status_code == 200
    assert again.json()["status"] == "skipped"
    assert again.json()["uploads"] == first.json()["uploads"]
    assert len(server.job(job_id)["job"]["files"]) == 1


def test_uploads_after_complete_are_409(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.started_job(pid)
    r = server.upload(job_id)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "uploads_closed"
    assert r.json()["error"]["currentStatus"] == "preflighting"


def test_complete_without_uploads_is_no_documents(server: Server) -> None:
    job_id = _job(server)
    r = server.complete(job_id)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "no_documents"


def test_complete_with_document_ids_processes_only_those(server: Server) -> None:
    job_id = _job(server)
    up = server.upload(job_id, files=[("a.pdf", b"x", None), ("b.pdf", b"y", None)]).json()
    first = up["uploads"][0]["documentId"]
    r = server.complete(job_id, json={"documentIds": [first]})
    assert r.status_code == 202, r.text
    assert [f["status"] for f in r.json()["job"]["files"]] == ["processing", "skipped"]
    server.advance(60)
    job = server.job(job_id)["job"]
    assert job["status"] == "completed" and job["pageCount"] == 1
