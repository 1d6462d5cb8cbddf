"""The bad-input table (issue 8, item 2): one row per bad request, each answered with a JSON
error of the right status and code, and nothing stored changed by it.

Every row gets a fresh job (uploading, one form-uploaded file, one registered direct_put
document) in a ready project of organisation A. Its job (with history and deliveries) and the
server's project and job counts are read before and after the request: a rejected request must
leave them exactly as they were. The rows marked "fuzz" are bugs schemathesis found (each a 500
or a wrong answer before the fix).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mock_server import MockConfig
from mock_server.config import KeySpec
from mock_server.testing import MockServerThread

from .support import API, PDF, Api, form_upload

KEY_A = "pgk_bad_a"
KEY_B = "pgk_bad_b"  # another organisation
KEY_READ_ONLY = "pgk_bad_ro"  # organisation A, jobs:read only
KEY_REVOKED = "pgk_bad_revoked"  # organisation A, revoked before the tests
SHA = hashlib.sha256(PDF).hexdigest()


@dataclass
class Ctx:
    api: Api
    project: str
    job: str
    document: dict[str, Any]  # the registered document's upload instruction


@dataclass
class Req:
    method: str
    path: str  # /jobs... and /projects... are under the public API
    key: str | bool | None = True  # True: KEY_A; False/None: no Authorization header
    headers: dict[str, str] = field(default_factory=dict)
    kw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Row:
    name: str
    build: Callable[[Ctx], Req]
    status: int
    code: str


def _form(ctx: Ctx, files: list[tuple[str, bytes]], metadata: Any = None) -> Req:
    parts, data = form_upload(files, metadata=metadata)
    return Req("POST", f"/jobs/{ctx.job}/files", kw={"files": parts, "data": data})


def _as(key: str, req: Req) -> Req:
    req.key = key
    return req


def _form_named(ctx: Ctx, file_name: str) -> Req:
    meta = {"files": [{"partName": "file0", "fileName": file_name}]}
    return _form(ctx, [("x.pdf", PDF)], json.dumps(meta))


def _raw_multipart(ctx: Ctx, part_headers: bytes) -> Req:
    boundary = b"robustnessboundary"
    body = (
        b"--" + boundary + b"\r\n"
        b'Content-Disposition: form-data; name="metadata"\r\n\r\n{}\r\n'
        b"--" + boundary + b"\r\n" + part_headers + b"\r\n\r\n" + PDF + b"\r\n"
        b"--" + boundary + b"--\r\n"
    )
    return Req(
        "POST",
        f"/jobs/{ctx.job}/files",
        headers={"Content-Type": "multipart/form-data; boundary=robustnessboundary"},
        kw={"data": body},
    )


def _register(ctx: Ctx, files: list[dict[str, Any]]) -> Req:
    return Req("POST", f"/jobs/{ctx.job}/uploads", kw={"json": {"files": files}})


def _reg_file(**over: Any) -> dict[str, Any]:
    return {
        "fileName": "plan.pdf",
        "contentType": "application/pdf",
        "fileSize": len(PDF),
        "sha256": SHA,
        **over,
    }


def _advance(body: Any, raw: bool = False) -> Req:
    kw = {"data": body, "headers": {"Content-Type": "application/json"}} if raw else {"json": body}
    headers = kw.pop("headers", {})
    return Req("POST", "/_mock/clock/advance", key=False, headers=headers, kw=kw)


def _storage_put(ctx: Ctx, url: str) -> Req:
    return Req("PUT", url, key=False, headers=dict(ctx.document["headers"]), kw={"data": PDF})


def _forged(ctx: Ctx) -> Req:
    url = ctx.document["uploadUrl"]
    base, _, token = url.partition("?token=")
    expires, _, sig = token.partition(".")
    forged = "A" * len(sig) if not sig.startswith("A") else "B" * len(sig)
    return _storage_put(ctx, f"{base}?token={expires}.{forged}")


def _expired(ctx: Ctx) -> Req:
    ctx.api.advance(3601)  # upload URLs stay valid for an hour of virtual time
    return _storage_put(ctx, ctx.document["uploadUrl"])


ROWS: list[Row] = [
    # bodies
    Row("malformed JSON", lambda c: Req("POST", "/projects", headers={"Content-Type": "application/json"}, kw={"data": b'{"name": '}), 400, "invalid_json"),  # noqa: E501
    Row("malformed JSON on complete", lambda c: Req("POST", f"/jobs/{c.job}/uploads/complete", headers={"Content-Type": "application/json"}, kw={"data": b"{bad"}), 400, "invalid_json"),  # noqa: E501
    Row("wrong type: project name", lambda c: Req("POST", "/projects", kw={"json": {"name": 5}}), 422, "validation_error"),  # noqa: E501
    Row("wrong type: externalId", lambda c: Req("POST", f"/projects/{c.project}/jobs", kw={"json": {"externalId": 5}}), 422, "validation_error"),  # noqa: E501
    Row("wrong type: documentIds", lambda c: Req("POST", f"/jobs/{c.job}/uploads/complete", kw={"json": {"documentIds": "doc_x"}}), 422, "validation_error"),  # noqa: E501
    Row("JSON list as body: create job", lambda c: Req("POST", f"/projects/{c.project}/jobs", kw={"json": []}), 422, "validation_error"),  # noqa: E501
    Row("JSON list as body: complete", lambda c: Req("POST", f"/jobs/{c.job}/uploads/complete", kw={"json": [{}]}), 422, "validation_error"),  # noqa: E501
    Row("JSON body over the limit", lambda c: Req("POST", "/projects", kw={"json": {"name": "x" * (2 << 20)}}), 413, "payload_too_large"),  # noqa: E501
    Row("form upload over the limit", lambda c: _form(c, [("big.pdf", b"%PDF" + b"x" * (3 << 19))]), 413, "payload_too_large"),  # noqa: E501
    # ids
    Row("10,000-character job id", lambda c: Req("GET", "/jobs/job_" + "a" * 10_000), 404, "job_not_found"),  # noqa: E501
    Row("10,000-character project id", lambda c: Req("GET", "/projects/proj_" + "a" * 10_000), 404, "project_not_found"),  # noqa: E501
    Row("10,000-character id on cancel", lambda c: Req("POST", "/jobs/" + "é" * 10_000 + "/cancel"), 404, "job_not_found"),  # noqa: E501
    Row("non-ASCII job id", lambda c: Req("GET", "/jobs/job_ü漢字\U0001f600"), 404, "job_not_found"),  # noqa: E501
    Row("non-ASCII project id", lambda c: Req("GET", "/projects/proj_ü漢字/jobs"), 404, "project_not_found"),  # noqa: E501
    # form uploads
    Row("multipart without metadata", lambda c: _form(c, [("a.pdf", PDF)], metadata=False), 422, "validation_error"),  # noqa: E501
    Row("metadata that is not JSON", lambda c: _form(c, [("a.pdf", PDF)], metadata="{files: [}"), 422, "validation_error"),  # noqa: E501
    Row("metadata that is a JSON list", lambda c: _form(c, [("a.pdf", PDF)], metadata="[]"), 422, "validation_error"),  # noqa: E501
    Row("partName that matches no part", lambda c: _form(c, [("a.pdf", PDF)], json.dumps({"files": [{"partName": "file7", "fileName": "a.pdf"}]})), 422, "validation_error"),  # noqa: E501
    Row("file name with /", lambda c: _form_named(c, "plans/a.pdf"), 422, "validation_error"),
    Row("file name ..", lambda c: _form_named(c, ".."), 422, "validation_error"),
    Row("file name with NUL", lambda c: _form_named(c, "a\x00.pdf"), 422, "validation_error"),
    Row("file name of 300 characters", lambda c: _form_named(c, "a" * 296 + ".pdf"), 422, "validation_error"),  # noqa: E501
    Row("form sha256 not lowercase hex", lambda c: _form(c, [("a.pdf", PDF)], json.dumps({"files": [{"partName": "file0", "fileName": "a.pdf", "sha256": SHA.upper()}]})), 422, "validation_error"),  # noqa: E501
    Row("form sha256 of other bytes", lambda c: _form(c, [("a.pdf", PDF)], json.dumps({"files": [{"partName": "file0", "fileName": "a.pdf", "sha256": "0" * 64}]})), 422, "integrity_error"),  # noqa: E501
    Row("fuzz: part header with a control character", lambda c: _raw_multipart(c, b'Content-Disposition: form-data; name="file\x1f0"; filename="a.pdf"'), 422, "validation_error"),  # noqa: E501
    Row("fuzz: part named file² (a digit, not int()-able)", lambda c: _raw_multipart(c, 'Content-Disposition: form-data; name="file²"; filename="a.pdf"'.encode()), 422, "validation_error"),  # noqa: E501
    Row("fuzz: part without a name", lambda c: _raw_multipart(c, b'Content-Disposition: form-data; name=""; filename="a.pdf"'), 422, "validation_error"),  # noqa: E501
    # registered uploads
    Row("register: sha256 of 63 characters", lambda c: _register(c, [_reg_file(sha256=SHA[:63])]), 422, "validation_error"),  # noqa: E501
    Row("register: sha256 in upper case", lambda c: _register(c, [_reg_file(sha256=SHA.upper())]), 422, "validation_error"),  # noqa: E501
    Row("register: negative fileSize", lambda c: _register(c, [_reg_file(fileSize=-1)]), 422, "validation_error"),  # noqa: E501
    Row("register: fileSize true", lambda c: _register(c, [_reg_file(fileSize=True)]), 422, "validation_error"),  # noqa: E501
    Row("register: 101 files", lambda c: _register(c, [_reg_file(fileName=f"p{i}.pdf") for i in range(101)]), 422, "limit_exceeded"),  # noqa: E501
    Row("register: file name with ..", lambda c: _register(c, [_reg_file(fileName="..")]), 422, "validation_error"),  # noqa: E501
    Row("storage PUT with a forged token", _forged, 403, "token_invalid"),
    Row("storage PUT with an expired token", _expired, 403, "token_expired"),
    # jobs
    Row("externalId of 181 characters", lambda c: Req("POST", f"/projects/{c.project}/jobs", kw={"json": {"externalId": "e" * 181}}), 422, "validation_error"),  # noqa: E501
    Row("Idempotency-Key of 257 characters", lambda c: Req("POST", f"/projects/{c.project}/jobs", headers={"Idempotency-Key": "k" * 257}, kw={"json": {}}), 422, "validation_error"),  # noqa: E501
    Row("Idempotency-Key of 257 on complete", lambda c: Req("POST", f"/jobs/{c.job}/uploads/complete", headers={"Idempotency-Key": "k" * 257}, kw={"json": {}}), 422, "validation_error"),  # noqa: E501
    Row("unknown scenario header", lambda c: Req("POST", f"/projects/{c.project}/jobs", headers={"X-Mock-Scenario": "no_such_scenario"}, kw={"json": {}}), 422, "validation_error"),  # noqa: E501
    Row("webhookUrl that is not a URL", lambda c: Req("POST", f"/projects/{c.project}/jobs", kw={"json": {"webhookUrl": "not a url"}}), 422, "validation_error"),  # noqa: E501
    Row("fuzz: webhookUrl HTTP://[0]", lambda c: Req("POST", f"/projects/{c.project}/jobs", kw={"json": {"webhookUrl": "HTTP://[0]"}}), 422, "validation_error"),  # noqa: E501
    Row("resume a job that is not blocked", lambda c: Req("POST", f"/jobs/{c.job}/resume"), 409, "job_not_blocked"),  # noqa: E501
    # auth
    Row("empty bearer", lambda c: Req("GET", f"/jobs/{c.job}", headers={"Authorization": "Bearer "}), 401, "unauthorized"),  # noqa: E501
    Row("Basic auth", lambda c: Req("GET", f"/jobs/{c.job}", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "unauthorized"),  # noqa: E501
    Row("no Authorization header", lambda c: Req("GET", f"/jobs/{c.job}", key=False), 401, "unauthorized"),  # noqa: E501
    Row("unknown key", lambda c: Req("GET", f"/jobs/{c.job}", key="pgk_nobody"), 401, "unauthorized"),  # noqa: E501
    Row("revoked key", lambda c: Req("GET", f"/jobs/{c.job}", key=KEY_REVOKED), 401, "unauthorized"),  # noqa: E501
    Row("key without the scope: cancel", lambda c: Req("POST", f"/jobs/{c.job}/cancel", key=KEY_READ_ONLY), 403, "insufficient_scope"),  # noqa: E501
    Row("key without the scope: upload", lambda c: _as(KEY_READ_ONLY, _form(c, [("a.pdf", PDF)])), 403, "insufficient_scope"),  # noqa: E501
    # tenancy
    Row("another organisation's job", lambda c: Req("GET", f"/jobs/{c.job}", key=KEY_B), 404, "job_not_found"),  # noqa: E501
    Row("another organisation's job: cancel", lambda c: Req("POST", f"/jobs/{c.job}/cancel", key=KEY_B), 404, "job_not_found"),  # noqa: E501
    Row("another organisation's job: upload", lambda c: _as(KEY_B, _form(c, [("a.pdf", PDF)])), 404, "job_not_found"),  # noqa: E501
    Row("another organisation's project", lambda c: Req("GET", f"/projects/{c.project}", key=KEY_B), 404, "project_not_found"),  # noqa: E501
    Row("another organisation's project: create job", lambda c: Req("POST", f"/projects/{c.project}/jobs", key=KEY_B, kw={"json": {}}), 404, "project_not_found"),  # noqa: E501
    # control API
    Row("negative clock advance", lambda c: _advance({"seconds": -1}), 422, "validation_error"),
    Row("NaN clock advance", lambda c: _advance(b'{"seconds": NaN}', raw=True), 422, "validation_error"),  # noqa: E501
    Row("string clock advance", lambda c: _advance({"seconds": "10"}), 422, "validation_error"),
    Row("fuzz: clock advance true", lambda c: _advance({"seconds": True}), 422, "validation_error"),  # noqa: E501
    Row("fuzz: clock advance of 1e306 s", lambda c: _advance({"seconds": 1e306}), 422, "validation_error"),  # noqa: E501
    Row("unknown fault mode", lambda c: Req("POST", "/_mock/faults", key=False, kw={"json": {"target": "webhooks", "mode": "explode"}}), 422, "validation_error"),  # noqa: E501
    Row("fuzz: fault target that is a list", lambda c: Req("POST", "/_mock/faults", key=False, kw={"json": {"target": ["api"], "mode": "error"}}), 422, "validation_error"),  # noqa: E501
    Row("fuzz: fault seconds on drop", lambda c: Req("POST", "/_mock/faults", key=False, kw={"json": {"target": "webhooks", "mode": "drop", "seconds": 5}}), 422, "validation_error"),  # noqa: E501
    Row("forced event the machine forbids", lambda c: Req("POST", f"/_mock/jobs/{c.job}/events", key=False, kw={"json": {"event": "complete"}}), 409, "invalid_transition"),  # noqa: E501
    Row("unknown forced event", lambda c: Req("POST", f"/_mock/jobs/{c.job}/events", key=False, kw={"json": {"event": "explode"}}), 422, "validation_error"),  # noqa: E501
    Row("fuzz: credits balance true", lambda c: Req("PUT", f"/_mock/accounts/{KEY_A}/credits", key=False, kw={"json": {"balance": True}}), 422, "validation_error"),  # noqa: E501
    Row("fuzz: inline scenario with randomize 0", lambda c: Req("POST", "/_mock/scenarios/next", key=False, kw={"json": {"scenario": {"name": "x", "randomize": 0}}}), 422, "validation_error"),  # noqa: E501
]  # fmt: skip


@pytest.fixture(scope="module")
def bad_server() -> Iterator[MockServerThread]:
    config = MockConfig(
        clock="manual",
        port=0,
        polling="off",
        seed=2,
        max_upload_mb=1.0,
        api_keys=(
            KeySpec(KEY_A, org="org_a"),
            KeySpec(KEY_B, org="org_b"),
            KeySpec(KEY_READ_ONLY, scopes=frozenset({"jobs:read"}), org="org_a"),
            KeySpec(KEY_REVOKED, org="org_a"),
        ),
    )
    with MockServerThread(config) as server:
        api = Api(server, KEY_A)
        api.ok(api.control("POST", f"/keys/{KEY_REVOKED}/revoke"))
        yield server
        assert not server.server_errors(), server.server_errors()


@pytest.fixture(scope="module")
def project(bad_server: MockServerThread) -> str:
    return Api(bad_server, KEY_A).ready_project("bad-input")


def _ctx(server: MockServerThread, project: str) -> Ctx:
    api = Api(server, KEY_A)
    job = api.create_job(project)["job"]["id"]
    api.upload(job)
    registered = api.ok(api.api("POST", f"/jobs/{job}/uploads", json={"files": [_reg_file()]}))
    return Ctx(api, project, job, registered["uploads"][0])


def _snapshot(ctx: Ctx) -> tuple[Any, ...]:
    health = ctx.api.ok(ctx.api.control("GET", "/health"))
    mock_job = ctx.api.mock_job(ctx.job)
    projects = ctx.api.ok(ctx.api.api("GET", "/projects"))
    jobs = ctx.api.ok(ctx.api.api("GET", f"/projects/{ctx.project}/jobs"))
    return health["projects"], health["jobs"], mock_job, projects, jobs


def _send(ctx: Ctx, req: Req) -> Any:
    path = req.path
    if path.startswith(("/jobs", "/projects")):
        path = API + path
    key = KEY_A if req.key is True else (req.key or False)
    return ctx.api.request(req.method, path, key=key, headers=req.headers, **req.kw)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_bad_input_gets_a_clear_json_error_and_changes_nothing(
    row: Row, bad_server: MockServerThread, project: str
) -> None:
    ctx = _ctx(bad_server, project)
    req = row.build(ctx)
    before = _snapshot(ctx)
    response = _send(ctx, req)
    after = _snapshot(ctx)
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    body = response.json()
    error = body.get("error")
    assert isinstance(error, dict), body
    assert (response.status_code, error.get("code")) == (row.status, row.code), body
    assert isinstance(error.get("message"), str) and error["message"], body
    if row.status == 409:
        assert error.get("currentStatus"), body
    if row.status == 401:
        assert response.headers.get("WWW-Authenticate") == "Bearer"
    assert after == before, "a rejected request changed what the server holds"
