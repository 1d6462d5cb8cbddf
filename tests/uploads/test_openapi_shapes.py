"""The routes of this part are in /openapi.json, and real answers match the models it is built
from, field for field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from mock_server.public.models import (
    RegisterUploadsResponse,
    ResultDocument,
    ResultResponse,
    ResultUsage,
    UploadContentResponse,
)
from mock_server.storage.routes import PartPutResponse, UploadPutResponse

from .conftest import PLAN_BYTES, UploadServer, b64, direct_put, sha

BIG = bytes(range(256)) * 5  # 1280 bytes: multipart at the test threshold


def _exact(model: type[BaseModel], data: dict[str, Any]) -> None:
    model.model_validate(data)
    assert set(data) == set(model.model_fields), (
        model.__name__,
        set(data) ^ set(model.model_fields),
    )


def test_operations_are_described(srv: UploadServer) -> None:
    doc = srv.request("GET", "/openapi.json", key=None).json()
    ops = {
        op["operationId"]: (path, method)
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    assert ops["registerUploads"] == ("/api/open/v1/jobs/{jobId}/uploads", "post")
    assert ops["uploadRegisteredFile"] == (
        "/api/open/v1/jobs/{jobId}/uploads/{documentId}/content",
        "post",
    )
    assert ops["getJobResult"] == ("/api/open/v1/jobs/{jobId}/result", "get")
    assert ops["storagePutUpload"][1] == "put"
    assert ops["storagePutPart"][1] == "put"
    assert ops["storageGetResult"][0] == "/_mock/storage/results/{jobId}"
    schemas = doc["components"]["schemas"]
    for name in ("RegisterUploadsRequest", "UploadInstruction", "ResultResponse", "ResultUsage"):
        assert name in schemas
    put = doc["paths"]["/_mock/storage/uploads/{jobId}/{documentId}"]["put"]
    assert put["security"] == []
    assert any(p["name"] == "token" and p["in"] == "query" for p in put["parameters"])


def test_answers_match_their_models(srv: UploadServer) -> None:
    job_id = srv.job()
    r = srv.register(
        job_id,
        [
            {"fileName": "a.pdf", "contentType": "application/pdf", "fileSize": len(PLAN_BYTES),
             "sha256": sha(PLAN_BYTES)},
            {"fileName": "b.pdf", "contentType": "application/pdf", "fileSize": len(BIG),
             "sha256": sha(BIG), "classification": "mixed"},
            {"fileName": "c.pdf", "contentType": "application/pdf", "fileSize": 3,
             "sha256": sha(b"abc")},
        ],
    )  # fmt: skip
    RegisterUploadsResponse.model_validate(r.json())
    direct, multi, small = r.json()["uploads"]
    put = direct_put(srv, direct, PLAN_BYTES)
    _exact(UploadPutResponse, put.json())
    for p in multi["parts"]:
        n = p["partNumber"]
        part = srv.put(p["url"], BIG[(n - 1) * 400 : n * 400])
        _exact(PartPutResponse, part.json())
    body = {"uploadToken": small["uploadToken"], "contentBase64": b64(b"abc")}
    content = srv.api("POST", f"/jobs/{job_id}/uploads/{small['documentId']}/content", json=body)
    _exact(UploadContentResponse, content.json())
    assert srv.complete(job_id).status_code == 202
    srv.finish(job_id)
    result = srv.result(job_id).json()
    _exact(ResultResponse, result)
    _exact(ResultUsage, result["usage"])
    for d in result["documents"]:
        _exact(ResultDocument, d)
