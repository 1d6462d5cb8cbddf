"""Storage token rules: a token is bound to its path and expiry; forged, altered, another job's,
missing and expired tokens are refused with a code that says which (403 over HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.storage import Signer, Storage, StorageSettings, TokenRejected

from .conftest import PLAN_BYTES, UploadServer, direct_put

PATH = "/_mock/storage/uploads/job_a/doc_a"


RENEW = "ask again"


def _code(exc: pytest.ExceptionInfo[TokenRejected]) -> str:
    return exc.value.code


def test_genuine_token_verifies_until_its_expiry() -> None:
    signer = Signer()
    token = signer.sign(PATH, 1000)
    signer.verify(PATH, token, 999.5, renew=RENEW)
    signer.verify(PATH, token, 1000, renew=RENEW)
    with pytest.raises(TokenRejected) as exc:
        signer.verify(PATH, token, 1000.001, renew=RENEW)
    assert _code(exc) == "token_expired"
    assert "expired at" in exc.value.message and exc.value.message.endswith(RENEW)


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "nodot",
        "abc.def",
        "1000.",
        "1000.AAAA",
        "9" * 13 + ".x",
    ],
)
def test_malformed_or_missing_token_is_invalid(token: str | None) -> None:
    storage = Storage(StorageSettings())
    with pytest.raises(TokenRejected) as exc:
        storage.verify(PATH, token, 0, renew=RENEW)
    assert _code(exc) == "token_invalid"


def test_token_is_bound_to_path_expiry_and_server_key() -> None:
    signer = Signer()
    token = signer.sign(PATH, 1000)
    expires, _, sig = token.partition(".")
    with pytest.raises(TokenRejected) as exc:  # another document
        signer.verify(PATH.replace("doc_a", "doc_b"), token, 0, renew=RENEW)
    assert _code(exc) == "token_invalid"
    with pytest.raises(TokenRejected) as exc:  # a later expiry with the old signature
        signer.verify(PATH, f"{int(expires) + 3600}.{sig}", 0, renew=RENEW)
    assert _code(exc) == "token_invalid"
    with pytest.raises(TokenRejected) as exc:  # another server's key
        Signer().verify(PATH, token, 0, renew=RENEW)
    assert _code(exc) == "token_invalid"


def test_upload_token_is_per_document() -> None:
    storage = Storage(StorageSettings(), key=b"k" * 32)
    a = storage.upload_token("job_a", "doc_a")
    assert a.startswith("upt_") and a == storage.upload_token("job_a", "doc_a")
    assert a != storage.upload_token("job_a", "doc_b")
    assert a != storage.upload_token("job_b", "doc_a")
    assert a != Storage(StorageSettings(), key=b"j" * 32).upload_token("job_a", "doc_a")


@pytest.mark.parametrize(
    "settings",
    [
        {"multipart_threshold": -1},
        {"part_size": 0},
        {"upload_url_ttl": 0},
        {"upload_url_ttl": float("nan")},
    ],
)
def test_settings_reject_nonsense(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        StorageSettings(**settings)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- over HTTP


def _registered(srv: UploadServer) -> tuple[str, dict[str, Any]]:
    job_id = srv.job()
    [ins] = srv.register_ok(job_id, [("a.pdf", PLAN_BYTES, "plans")])
    return job_id, ins


def test_put_with_forged_token_is_403_and_stores_nothing(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    url, _, token = ins["uploadUrl"].partition("?token=")
    expires, _, sig = token.partition(".")
    forged = f"{url}?token={expires}.{'A' * len(sig)}"
    r = srv.put(forged, PLAN_BYTES, ins["headers"])
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "token_invalid"
    assert srv.get_job(job_id)["files"][0]["status"] == "pending"


def test_put_without_token_or_with_bearer_key_is_403(srv: UploadServer) -> None:
    _, ins = _registered(srv)
    bare = ins["uploadUrl"].partition("?")[0]
    headers = dict(ins["headers"]) | {"Authorization": "Bearer pgk_test_uploads"}
    r = srv.put(bare, PLAN_BYTES, headers)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "token_invalid"


def test_expired_upload_url_is_403_token_expired(srv: UploadServer) -> None:
    job_id, ins = _registered(srv)
    srv.advance(3601)
    r = direct_put(srv, ins, PLAN_BYTES)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "token_expired"
    assert err["expiredAt"] == ins["expiresAt"]
    assert srv.get_job(job_id)["files"][0]["status"] == "pending"


def test_token_of_another_job_is_invalid(srv: UploadServer) -> None:
    job_a, ins_a = _registered(srv)
    job_b, ins_b = _registered(srv)
    url_b = ins_b["uploadUrl"].partition("?")[0]
    token_a = ins_a["uploadUrl"].partition("?token=")[2]
    r = srv.put(f"{url_b}?token={token_a}", PLAN_BYTES, ins_b["headers"])
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "token_invalid"
    # and job A's URL rewritten to job B's path with A's document
    url = ins_a["uploadUrl"].replace(job_a, job_b)
    r = srv.put(url, PLAN_BYTES, ins_a["headers"])
    assert r.json()["error"]["code"] == "token_invalid"


def test_result_url_with_forged_or_missing_token_is_403(srv: UploadServer) -> None:
    job_id = srv.job()
    assert srv.form_upload(job_id, [("a.pdf", PLAN_BYTES, "plans")]).status_code == 200
    assert srv.complete(job_id).status_code == 202
    job = srv.finish(job_id)
    url = job["resultUrl"]
    assert srv.http.get(url, timeout=10).status_code == 200
    r = srv.http.get(url.partition("?")[0], timeout=10)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "token_invalid")
    r = srv.http.get(url[:-3] + "AAA", timeout=10)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "token_invalid")
    other = srv.job()
    r = srv.http.get(url.replace(job_id, other), timeout=10)
    assert (r.status_code, r.json()["error"]["code"]) == (403, "token_invalid")


def test_result_url_expires_with_the_job(srv: UploadServer) -> None:
    job_id = srv.job()
    srv.form_upload(job_id, [("a.pdf", PLAN_BYTES, "plans")])
    srv.complete(job_id)
    job = srv.finish(job_id)
    srv.advance(8 * 24 * 3600)
    r = srv.http.get(job["resultUrl"], timeout=10)
    # formerly 403 token_expired: past expiresAt the job's result is gone (API.md part B)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "job_expired")


def test_an_expired_result_url_says_how_to_get_the_result(srv: UploadServer) -> None:
    """A result URL's expired-token message speaks of the result, not of registering a file
    (the job is gone here, so only the token can answer)."""
    job_id = srv.job()
    srv.form_upload(job_id, [("a.pdf", PLAN_BYTES, "plans")])
    srv.complete(job_id)
    job = srv.finish(job_id)
    assert srv.request("POST", "/_mock/reset", key=None).status_code == 200
    srv.advance(8 * 24 * 3600)
    r = srv.http.get(job["resultUrl"], timeout=10)
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (403, "token_expired")
    assert "resultUrl" in err["message"] and "GET /jobs/{jobId}" in err["message"]
    assert "register" not in err["message"]


def test_storage_after_reset_answers_404_not_500(srv: UploadServer) -> None:
    _, ins = _registered(srv)
    r = srv.request("POST", "/_mock/reset", key=None)
    assert r.status_code == 200, r.text
    r = direct_put(srv, ins, PLAN_BYTES)
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "document_not_found"
