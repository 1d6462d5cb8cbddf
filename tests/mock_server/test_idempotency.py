"""Idempotency-Key on job creation and on complete (API.md part B)."""

from __future__ import annotations

import requests

from .harness import Server


def _create(
    server: Server, pid: str, key: str, body: dict[str, object], api: str = "pgk_test_a"
) -> requests.Response:
    return server.api(
        "POST", f"/projects/{pid}/jobs", key=api, json=body, headers={"Idempotency-Key": key}
    )


def test_replayed_job_creation_returns_the_original_without_the_secret(server: Server) -> None:
    pid = server.ready_project()
    first = _create(server, pid, "k1", {"externalId": "o-1"})
    assert first.status_code == 202
    assert first.json()["webhookSigningSecret"].startswith("wss_")
    assert "idempotent" not in first.json()
    again = _create(server, pid, "k1", {"externalId": "o-1"})
    assert again.status_code == 202
    body = again.json()
    assert body["idempotent"] is True
    assert "webhookSigningSecret" not in body
    assert body["job"]["id"] == first.json()["job"]["id"]
    # nothing was created twice
    assert len(server.api("GET", f"/projects/{pid}/jobs").json()["jobs"]) == 1


def test_same_key_different_request_is_409(server: Server) -> None:
    pid = server.ready_project()
    first = _create(server, pid, "k1", {"externalId": "o-1"})
    r = _create(server, pid, "k1", {"externalId": "o-2"})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "idempotency_key_reused"
    assert err["currentStatus"] == first.json()["job"]["status"]


def test_keys_are_per_organisation(server: Server) -> None:
    pa = server.ready_project(key="pgk_a")
    pb = server.ready_project(key="pgk_b")
    a = _create(server, pa, "same", {}, api="pgk_a")
    b = _create(server, pb, "same", {}, api="pgk_b")
    assert a.status_code == b.status_code == 202
    assert "idempotent" not in b.json()
    assert a.json()["job"]["id"] != b.json()["job"]["id"]


def test_key_longer_than_256_is_422(server: Server) -> None:
    pid = server.ready_project()
    r = _create(server, pid, "k" * 257, {})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert err["details"][0]["field"] == "Idempotency-Key"
    assert _create(server, pid, "k" * 256, {}).status_code == 202


def test_keys_expire_after_24_virtual_hours(server: Server) -> None:
    pid = server.ready_project()
    first = _create(server, pid, "k1", {})
    server.advance(24 * 3600)
    again = _create(server, pid, "k1", {})
    assert again.status_code == 202
    assert "idempotent" not in again.json()
    assert again.json()["job"]["id"] != first.json()["job"]["id"]


def test_replayed_complete_does_not_act_twice(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    assert server.upload(job_id).status_code == 200
    headers = {"Idempotency-Key": "c1"}
    first = server.complete(job_id, headers=headers)
    assert first.status_code == 202
    server.advance(3)  # preflight passes: processing
    again = server.complete(job_id, headers=headers)
    assert again.status_code == 202
    assert again.json()["idempotent"] is True
    assert again.json()["job"]["status"] == "preflighting"  # the original answer
    history = [h["event"] for h in server.job(job_id)["history"]]
    assert history.count("complete_uploads") == 1
    # without the key, a second complete is refused: the upload window is closed
    r = server.complete(job_id)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "uploads_closed"
