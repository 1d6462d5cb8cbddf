"""A client that goes away in the middle of a body gets nothing stored and leaves no server
error behind (a 5xx would fail the user's test through the pytest plugin)."""

from __future__ import annotations

import json

from mock_server import STATE_KEY

from .conftest import PLAN_BYTES, UploadServer, b64, direct_put, put_parts


def _no_server_errors(srv: UploadServer) -> None:
    assert srv.app[STATE_KEY].server_errors == []


def test_direct_put_cut_short(srv: UploadServer) -> None:
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("a.pdf", PLAN_BYTES, "plans")])
    path = ins["uploadUrl"].removeprefix(srv.url)
    srv.raw_abort("PUT", path, ins["headers"], PLAN_BYTES[:100], len(PLAN_BYTES))
    _no_server_errors(srv)
    assert srv.get_job(job_id)["files"][0]["status"] == "pending"
    assert direct_put(srv, ins, PLAN_BYTES).status_code == 200


def test_part_cut_short(srv: UploadServer) -> None:
    data = bytes(range(200)) * 6
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("big.pdf", data, "plans")])
    path = ins["parts"][0]["url"].removeprefix(srv.url)
    srv.raw_abort("PUT", path, {}, data[:10], 400)
    _no_server_errors(srv)
    put_parts(srv, ins, data)
    assert srv.get_job(job_id)["files"][0]["status"] == "uploaded"


def test_base64_body_cut_short(srv: UploadServer) -> None:
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("a.pdf", PLAN_BYTES, "plans")])
    body = json.dumps({"uploadToken": ins["uploadToken"], "contentBase64": b64(PLAN_BYTES)})
    path = f"/api/open/v1/jobs/{job_id}/uploads/{ins['documentId']}/content"
    headers = {"Authorization": "Bearer pgk_test_uploads", "Content-Type": "application/json"}
    srv.raw_abort("POST", path, headers, body.encode()[:50], len(body))
    _no_server_errors(srv)
    assert srv.get_job(job_id)["files"][0]["status"] == "pending"
