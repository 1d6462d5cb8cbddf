from __future__ import annotations

from .harness import Server


def test_health_answers_ok(server: Server) -> None:
    r = server.control("GET", "/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.headers["Content-Type"].startswith("application/json")


def test_unknown_route_is_json_404(server: Server) -> None:
    r = server.request("GET", "/nope")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(server: Server) -> None:
    r = server.control("DELETE", "/health")
    assert r.status_code == 405
    body = r.json()["error"]
    assert body["code"] == "method_not_allowed"
    assert "GET" in body["allowedMethods"]
    assert "GET" in r.headers["Allow"]
