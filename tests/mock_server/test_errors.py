"""Every error is JSON with a code; bodies are validated; a 5xx is JSON and recorded."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiohttp import web

from mock_server import MockConfig, create_app

from .harness import Server


def _error(r: object) -> dict[str, object]:
    import requests

    assert isinstance(r, requests.Response)
    assert r.headers["Content-Type"].startswith("application/json"), r.text
    body = r.json()
    assert set(body) == {"error"}
    err: dict[str, object] = body["error"]
    assert isinstance(err["code"], str) and isinstance(err["message"], str) and err["message"]
    return err


def test_malformed_json_is_400_invalid_json(server: Server) -> None:
    r = server.api(
        "POST", "/projects", data=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert _error(r)["code"] == "invalid_json"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"[]", "(body)"),
        (b'"x"', "(body)"),
        (b'{"name": 5}', "name"),
        (b'{"name": ""}', "name"),
        (b'{"name": "' + b"x" * 181 + b'"}', "name"),
        (b"{}", "name"),
    ],
)
def test_invalid_bodies_are_422_with_details(server: Server, payload: bytes, field: str) -> None:
    r = server.api("POST", "/projects", data=payload, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    err = _error(r)
    assert err["code"] == "validation_error"
    details = err["details"]
    assert isinstance(details, list)
    assert details[0]["field"] == field
    assert details[0]["message"]


def test_wrong_content_type_is_415(server: Server) -> None:
    # form-encoded, as `curl -d` sends it without -H 'Content-Type: application/json'
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    r = server.api("POST", "/projects", data="name=x", headers=form)
    assert r.status_code == 415
    assert _error(r)["code"] == "unsupported_media_type"


def test_json_without_a_content_type_is_accepted(server: Server) -> None:
    r = server.api("POST", "/projects", data=b'{"name": "x"}')
    assert "Content-Type" not in r.request.headers
    assert r.status_code == 202


def test_json_body_over_the_limit_is_413(server: Server) -> None:
    big = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    r = server.api("POST", "/projects", data=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert _error(r)["code"] == "payload_too_large"


def test_upload_over_max_upload_mb_is_413(make_server: Callable[..., Server]) -> None:
    s = make_server(polling="off", max_upload_mb=0.01)  # about 10 kB
    pid = s.ready_project()
    job_id = s.new_job(pid)["job"]["id"]
    r = s.upload(job_id, files=[("big.pdf", b"x" * 20_000, None)])
    assert r.status_code == 413
    assert _error(r)["code"] == "payload_too_large"
    # nothing stored: the job still waits for uploads
    assert s.job(job_id)["job"]["status"] == "awaiting_uploads"


def test_upload_far_over_the_aiohttp_limit_is_413(make_server: Callable[..., Server]) -> None:
    s = make_server(polling="off", max_upload_mb=0.01)
    r = s.api(
        "POST",
        "/projects",
        data=b"x" * (3 * 1024 * 1024),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413
    assert _error(r)["code"] == "payload_too_large"


def test_unknown_route_and_method(server: Server) -> None:
    r = server.api("GET", "/nothing/here")
    assert r.status_code == 404
    assert _error(r)["code"] == "not_found"
    r = server.api("DELETE", "/projects")
    assert r.status_code == 405
    assert _error(r)["code"] == "method_not_allowed"


def test_every_409_carries_current_status(server: Server) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    answers = [
        server.complete(job_id),  # no_documents
        server.api("POST", f"/jobs/{job_id}/resume"),  # job_not_blocked
        server.api("POST", "/projects", json={"name": "p"}),  # name_taken
    ]
    for r in answers:
        assert r.status_code == 409, r.text
        assert "currentStatus" in _error(r)


def test_a_handler_crash_is_json_500_and_recorded() -> None:
    app = create_app(MockConfig(clock="manual"))

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("kaboom")

    app.router.add_get("/_mock/boom", boom)
    s = Server(MockConfig(clock="manual"), app=app).start()
    try:
        r = s.control("GET", "/boom")
        assert r.status_code == 500
        err = _error(r)
        assert err["code"] == "internal_error"
        assert "kaboom" in str(err["message"])
        assert len(s.state.server_errors) == 1
        assert isinstance(s.state.server_errors[0], RuntimeError)
        # a reset forgets state, not bugs: the error still reaches the test afterwards
        assert s.control("POST", "/reset").status_code == 200
        assert len(s.state.server_errors) == 1
    finally:
        s.stop()


def test_overlong_ids_are_404_with_a_short_message(server: Server) -> None:
    for job_id in ("job_" + "a" * 10_000, "job_ÄÖÜ-日本"):
        r = server.api("GET", f"/jobs/{job_id}")
        assert r.status_code == 404
        err = _error(r)
        assert err["code"] == "job_not_found"
        assert len(str(err["message"])) < 300
