"""POST /jobs/{jobId}/uploads: validation, limits before any byte moves, instructions."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.config import parse_key_spec
from mock_server.storage import CHECKSUM_HEADER, StorageSettings, sha256_b64

from .conftest import KEY, PLAN_BYTES, ServerFactory, UploadServer, sha, spec

GOOD = spec("a.pdf", PLAN_BYTES)


@pytest.fixture
def big(make_server: ServerFactory) -> UploadServer:
    """Plangrep's own sizes: multipart over 5 GB, 100 MB parts."""
    return make_server(settings=None)


def _error(r: Any) -> dict[str, Any]:
    err: dict[str, Any] = r.json()["error"]
    return err


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sha256": "A" * 64}, "sha256"),
        ({"sha256": "a" * 63}, "sha256"),
        ({"sha256": "g" * 64}, "sha256"),
        ({"sha256": None}, "sha256"),
        ({"fileSize": -1}, "fileSize"),
        ({"fileSize": "782"}, "fileSize"),
        ({"fileSize": 1.5}, "fileSize"),
        ({"classification": "drawings"}, "classification"),
        ({"fileName": ""}, "fileName"),
        ({"fileName": "../etc/passwd"}, "fileName"),
        ({"fileName": "a\x00.pdf"}, "fileName"),
        ({"fileName": "x" * 256}, "fileName"),
        ({"contentType": ""}, "contentType"),
    ],
)
def test_invalid_file_is_422_naming_the_field(
    srv: UploadServer, change: dict[str, Any], field: str
) -> None:
    job_id = srv.job()
    r = srv.register(job_id, [GOOD, GOOD | change])
    assert r.status_code == 422, r.text
    err = _error(r)
    assert err["code"] == "validation_error"
    assert any(d["field"] == f"files.1.{field}" for d in err["details"]), err
    assert srv.get_job(job_id)["files"] == []


@pytest.mark.parametrize("body", [{}, {"files": []}, {"files": "a.pdf"}, []])
def test_missing_or_empty_file_list_is_422(srv: UploadServer, body: Any) -> None:
    job_id = srv.job()
    r = srv.api("POST", f"/jobs/{job_id}/uploads", json=body)
    assert r.status_code == 422, r.text
    assert _error(r)["code"] == "validation_error"


def test_101_files_is_limit_exceeded_and_registers_nothing(srv: UploadServer) -> None:
    job_id = srv.job()
    r = srv.register(job_id, [GOOD] * 101)
    assert r.status_code == 422, r.text
    assert _error(r)["code"] == "limit_exceeded"
    assert "100" in _error(r)["message"]
    job = srv.get_job(job_id)
    assert job["files"] == [] and job["status"] == "awaiting_uploads"


def test_100_files_then_one_more_is_limit_exceeded(srv: UploadServer) -> None:
    job_id = srv.job()
    assert srv.register(job_id, [GOOD] * 100).status_code == 200
    r = srv.register(job_id, [GOOD])
    assert (r.status_code, _error(r)["code"]) == (422, "limit_exceeded")
    assert len(srv.get_job(job_id)["files"]) == 100


def test_form_files_count_toward_the_file_limit(srv: UploadServer) -> None:
    job_id = srv.job()
    assert srv.form_upload(job_id, [("f.pdf", PLAN_BYTES, None)]).status_code == 200
    r = srv.register(job_id, [GOOD] * 100)
    assert (r.status_code, _error(r)["code"]) == (422, "limit_exceeded")


@pytest.mark.parametrize(
    "sizes",
    [[10_000_000_001], [5_000_000_000, 5_000_000_001], [10**30]],
)
def test_declared_bytes_over_ten_billion_is_limit_exceeded(
    big: UploadServer, sizes: list[int]
) -> None:
    srv = big
    job_id = srv.job()
    r = srv.register(job_id, [GOOD | {"fileSize": n} for n in sizes])
    assert (r.status_code, _error(r)["code"]) == (422, "limit_exceeded"), r.text
    assert srv.get_job(job_id)["files"] == []


def test_declared_bytes_add_up_across_registrations(big: UploadServer) -> None:
    srv = big
    job_id = srv.job()
    assert srv.register(job_id, [GOOD | {"fileSize": 6_000_000_000}]).status_code == 200
    r = srv.register(job_id, [GOOD | {"fileSize": 4_000_000_001}])
    assert (r.status_code, _error(r)["code"]) == (422, "limit_exceeded")
    assert srv.register(job_id, [GOOD | {"fileSize": 4_000_000_000}]).status_code == 200


def test_exactly_ten_billion_bytes_is_accepted(big: UploadServer) -> None:
    srv = big
    job_id = srv.job()
    r = srv.register(job_id, [GOOD | {"fileSize": 10_000_000_000}])
    assert r.status_code == 200, r.text


def test_direct_put_instruction(srv: UploadServer) -> None:
    job_id = srv.job()
    r = srv.register(job_id, [GOOD])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["job"]["status"] == "uploading"
    [f] = body["job"]["files"]
    assert f["status"] == "pending" and f["fileName"] == "a.pdf"
    [ins] = body["uploads"]
    assert ins["documentId"] == f["documentId"]
    assert ins["uploadMode"] == "direct_put"
    assert ins["uploadToken"].startswith("upt_")
    assert ins["uploadUrl"].startswith(f"{srv.url}/_mock/storage/uploads/{job_id}/")
    assert "?token=" in ins["uploadUrl"]
    assert ins["headers"] == {
        "Content-Type": "application/pdf",
        CHECKSUM_HEADER: sha256_b64(sha(PLAN_BYTES)),
    }
    assert ins["expiresAt"].endswith("Z")
    assert "uploadId" not in ins and "parts" not in ins


def test_multipart_with_plangreps_defaults(big: UploadServer) -> None:
    srv = big
    job_id = srv.job()
    r = srv.register(job_id, [GOOD | {"fileSize": 5_000_000_000}])
    [at_limit] = r.json()["uploads"]
    r = srv.register(srv.job(), [GOOD | {"fileSize": 5_000_000_001}])
    assert r.status_code == 200, r.text
    [over] = r.json()["uploads"]
    assert at_limit["uploadMode"] == "direct_put"
    assert over["uploadMode"] == "multipart"
    assert over["uploadId"].startswith("upl_")
    assert over["partSize"] == 100_000_000
    assert len(over["parts"]) == 51
    assert [p["partNumber"] for p in over["parts"]] == list(range(1, 52))
    assert {p["size"] for p in over["parts"][:-1]} == {100_000_000}
    assert over["parts"][-1]["size"] == 1
    assert len({p["url"] for p in over["parts"]}) == 51
    assert "uploadUrl" not in over


def test_small_part_size_grows_to_at_most_10000_parts(srv: UploadServer) -> None:
    job_id = srv.job()
    r = srv.register(job_id, [GOOD | {"fileSize": 6_000_000_000}])
    [ins] = r.json()["uploads"]
    assert ins["partSize"] == 600_000 and len(ins["parts"]) == 10_000


def test_settings_from_config_fields() -> None:
    class Config:
        multipart_threshold_bytes = 10
        multipart_part_size_bytes = 4
        upload_url_ttl = 60

    s = StorageSettings.from_config(Config())
    assert (s.multipart_threshold, s.part_size, s.upload_url_ttl) == (10, 4, 60.0)
    assert StorageSettings.from_config(object()) == StorageSettings()


def test_register_on_a_provisioning_job_is_409_job_not_ready(srv: UploadServer) -> None:
    job_id = srv.job(scenario="cold_start")
    r = srv.register(job_id, [GOOD])
    assert r.status_code == 409
    assert _error(r)["code"] == "job_not_ready"
    assert _error(r)["currentStatus"] == "provisioning"


def test_register_after_complete_is_409_uploads_closed(srv: UploadServer) -> None:
    job_id = srv.job()
    srv.form_upload(job_id, [("a.pdf", PLAN_BYTES, None)])
    assert srv.complete(job_id).status_code == 202
    r = srv.register(job_id, [GOOD])
    assert r.status_code == 409
    assert _error(r)["code"] == "uploads_closed"
    assert _error(r)["currentStatus"] == "preflighting"


def test_register_needs_auth_scope_and_tenancy(make_server: ServerFactory) -> None:
    keys = (KEY, "pgk_reader:jobs:read", "pgk_other")
    srv = make_server(api_keys=tuple(parse_key_spec(k) for k in keys))
    job_id = srv.job()
    r = srv.register(job_id, [GOOD], key="pgk_reader")
    assert (r.status_code, _error(r)["code"]) == (403, "insufficient_scope")
    r = srv.register(job_id, [GOOD], key="pgk_other")
    assert (r.status_code, _error(r)["code"]) == (404, "job_not_found")
    r = srv.api("POST", f"/jobs/{job_id}/uploads", key=None, json={"files": [GOOD]})
    assert (r.status_code, _error(r)["code"]) == (401, "unauthorized")
    assert srv.get_job(job_id)["files"] == []


def test_malformed_json_is_400(srv: UploadServer) -> None:
    job_id = srv.job()
    r = srv.api(
        "POST",
        f"/jobs/{job_id}/uploads",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert (r.status_code, _error(r)["code"]) == (400, "invalid_json")
