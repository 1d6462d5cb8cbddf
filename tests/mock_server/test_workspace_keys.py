"""Workspace API keys (`/api/open-api/keys`, the app's session cookie): create, list, use,
audit, revoke, revoke all, expire; one registry with the keys given to `serve --api-key`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
import requests

from mock_server.config import KeySpec

from .harness import Server

KEYS = "/api/open-api/keys"
ALICE = {"Cookie": "plangrep_session=alice"}


def keys(server: Server, method: str, path: str = "", *, cookie: Any = ALICE, **kw: Any) -> Any:
    headers = dict(cookie or {}) | dict(kw.pop("headers", {}) or {})
    return server.request(method, KEYS + path, key=None, headers=headers, **kw)


def create(server: Server, cookie: Any = ALICE, **body: Any) -> dict[str, Any]:
    body.setdefault("label", "CI pipeline")
    body.setdefault("scopes", ["jobs:read", "jobs:write", "artifacts:read"])
    r = keys(server, "POST", cookie=cookie, json=body)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def use(server: Server, key: str, method: str = "GET", path: str = "/projects") -> Any:
    kw: dict[str, Any] = (
        {"json": {"name": f"p-{method}-{path}-{key[-6:]}"}} if method == "POST" else {}
    )
    return server.api(method, path, key=key, **kw)


@pytest.fixture
def configured(make_server: Callable[..., Server]) -> Server:
    """Keys configured with --api-key: two of organisation acme, one of globex."""
    return make_server(
        polling="off",
        api_keys=(
            KeySpec("pgk_acme_owner_0001", org="acme"),
            KeySpec("pgk_acme_reader_001", scopes=frozenset({"jobs:read"}), org="acme"),
            KeySpec("pgk_globex_0000001", org="globex"),
        ),
    )


# --------------------------------------------------------------------------- sessions


def test_the_routes_take_a_session_cookie_not_a_bearer_key(server: Server) -> None:
    for method, path in (
        ("GET", ""),
        ("POST", ""),
        ("POST", "/revoke-all"),
        ("POST", "/k/revoke"),
    ):
        r = keys(server, method, path, cookie=None)
        assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthorized")
        r = keys(server, method, path, cookie=None, headers={"Authorization": "Bearer pgk_x"})
        assert r.status_code == 401 and "not a bearer API key" in r.json()["error"]["message"]
    assert keys(server, "GET", cookie={"Cookie": ""}).status_code == 401
    # any other session signs into the default organisation
    assert keys(server, "GET", cookie={"Cookie": "plangrep_session=anyone"}).status_code == 200
    assert keys(server, "GET", cookie={"Cookie": "sid=not-ours"}).status_code == 200


def test_the_control_api_names_a_sessions_organisation(configured: Server) -> None:
    server = configured
    # unknown sessions sign into the default organisation: the first configured key's
    listed = keys(server, "GET").json()["keys"]
    assert [k["keyPrefix"] for k in listed] == ["pgk_acme_", "pgk_acme_"]  # half of each key
    r = server.control("PUT", "/sessions/bob", json={"org": "globex"})
    assert r.status_code == 200 and r.json()["org"] == "globex"
    assert r.json()["userId"].startswith("usr_")
    bob = {"Cookie": "theme=dark; plangrep_session=bob"}
    assert [k["keyPrefix"] for k in keys(server, "GET", cookie=bob).json()["keys"]] == [
        "pgk_globe"
    ]
    assert server.control("PUT", "/sessions/bob", json={"org": ""}).status_code == 422
    assert server.control("PUT", "/sessions/" + "x" * 1025, json={"org": "o"}).status_code == 422


def test_a_strict_server_refuses_unknown_sessions(make_server: Callable[..., Server]) -> None:
    server = make_server(strict_sessions=True)
    assert keys(server, "GET").status_code == 401
    server.control("PUT", "/sessions/alice", json={"org": "acme"})
    assert keys(server, "GET").status_code == 200


# --------------------------------------------------------------------------- create and use


def test_create_shows_the_plaintext_once_and_keeps_only_a_hash(server: Server) -> None:
    body = create(server, label="Acme integration", scopes=["jobs:read", "jobs:read"])
    key, plaintext = body["key"], body["plaintextKey"]
    assert plaintext.startswith("pgk_live_") and len(plaintext) >= 40
    assert key["keyPrefix"] == plaintext[:13] and key["hashVersion"] == "v1"
    assert key["scopes"] == ["jobs:read"] and key["label"] == "Acme integration"
    assert key["id"].startswith("key_") and key["createdByUserId"].startswith("usr_")
    assert key["expiresAt"] is key["lastUsedAt"] is key["lastUsedIp"] is key["revokedAt"] is None
    listed = keys(server, "GET")
    assert plaintext not in listed.text
    assert [k["id"] for k in listed.json()["keys"]] == [key["id"]]
    profile = listed.json()["profile"]
    assert profile["drawingCreditsPerPage"] == 10 and profile["enabled"] is True

    def kept() -> list[Any]:
        return [
            getattr(r, slot) for r in server.state.keys.keys_of("default") for slot in r.__slots__
        ]

    held = server.call(kept)
    assert plaintext not in [v for v in held if isinstance(v, str)]
    assert hashlib.sha256(plaintext.encode()).digest() in held


@pytest.mark.parametrize(
    ("scopes", "allowed", "refused"),
    [
        (["jobs:read"], [("GET", "/projects")], [("POST", "/projects")]),
        (["jobs:write"], [("POST", "/projects")], [("GET", "/projects")]),
        (["artifacts:read"], [], [("GET", "/projects"), ("POST", "/projects")]),
    ],
)
def test_a_key_works_at_once_with_exactly_its_scopes(
    server: Server, scopes: list[str], allowed: list[Any], refused: list[Any]
) -> None:
    plaintext = create(server, scopes=scopes)["plaintextKey"]
    for method, path in allowed:
        assert use(server, plaintext, method, path).status_code in (200, 202)
    for method, path in refused:
        r = use(server, plaintext, method, path)
        assert (r.status_code, r.json()["error"]["code"]) == (403, "insufficient_scope")
        assert r.json()["error"]["grantedScopes"] == sorted(scopes)


def test_last_used_follows_each_use(server: Server) -> None:
    plaintext = create(server)["plaintextKey"]
    server.advance(90)
    assert use(server, plaintext).status_code == 200
    first = keys(server, "GET").json()["keys"][0]
    assert first["lastUsedIp"] == "127.0.0.1"
    server.advance(30)
    assert use(server, plaintext).status_code == 200
    second = keys(server, "GET").json()["keys"][0]
    assert second["lastUsedAt"] > first["lastUsedAt"] > first["createdAt"]
    # a refused request is not a use
    server.advance(30)
    assert use(server, plaintext + "x").status_code == 200  # open mode: another token
    assert keys(server, "GET").json()["keys"][0]["lastUsedAt"] == second["lastUsedAt"]


def test_a_created_key_is_of_its_sessions_organisation(server: Server) -> None:
    """Even in open mode (any other token is its own organisation), a created key has exactly
    its session's organisation: it sees that organisation's projects and no other."""
    server.control("PUT", "/sessions/alice", json={"org": "acme"})
    first, second = (create(server)["plaintextKey"] for _ in range(2))
    assert use(server, first, "POST", "/projects").status_code == 202
    assert len(use(server, second).json()["projects"]) == 1
    assert use(server, "pgk_some_other_token").json()["projects"] == []
    credits = server.control("GET", f"/accounts/{first}/credits").json()
    assert credits["organisation"] == "acme"


# --------------------------------------------------------------------------- revoke, expire


def test_revoke_makes_the_next_request_401(server: Server) -> None:
    a, b = create(server), create(server)
    assert use(server, a["plaintextKey"]).status_code == 200
    server.advance(5)
    r = keys(server, "POST", f"/{a['key']['id']}/revoke")
    assert r.status_code == 200 and r.json()["key"]["revokedAt"] is not None
    refused = use(server, a["plaintextKey"])
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    assert use(server, b["plaintextKey"]).status_code == 200
    # revoking again keeps the first revokedAt
    server.advance(5)
    again = keys(server, "POST", f"/{a['key']['id']}/revoke").json()["key"]
    assert again["revokedAt"] == r.json()["key"]["revokedAt"]
    assert keys(server, "POST", "/key_unknown/revoke").json()["error"]["code"] == "key_not_found"


def test_revoke_all_revokes_every_key_of_the_organisation(server: Server) -> None:
    made = [create(server)["plaintextKey"] for _ in range(3)]
    server.control("PUT", "/sessions/bob", json={"org": "globex"})
    bobs = create(server, cookie={"Cookie": "plangrep_session=bob"})["plaintextKey"]
    r = keys(server, "POST", "/revoke-all")
    assert r.status_code == 200 and len(r.json()["keys"]) == 3
    assert all(k["revokedAt"] for k in r.json()["keys"])
    assert [use(server, k).status_code for k in made] == [401, 401, 401]
    assert use(server, bobs).status_code == 200


def test_expires_at_runs_on_the_virtual_clock(server: Server) -> None:
    clock = server.control("GET", "/clock").json()
    body = create(server, expiresAt=_iso_after(clock["now"], 60))
    plaintext = body["plaintextKey"]
    assert body["key"]["expiresAt"] is not None
    server.advance(59)
    assert use(server, plaintext).status_code == 200
    server.advance(1)
    r = use(server, plaintext)
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]


def _iso_after(now: str, seconds: int) -> str:
    from datetime import datetime, timedelta

    at = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(seconds=seconds)
    return at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"label": "x" * 121}, "label"),
        ({"label": ""}, "label"),
        ({"label": None}, "label"),
        ({"scopes": []}, "scopes"),
        ({"scopes": ["jobs:read", "admin"]}, "scopes.1"),
        ({"scopes": "jobs:read"}, "scopes"),
        ({"expiresAt": "2000-01-01T00:00:00Z"}, "expiresAt"),
        ({"expiresAt": "tomorrow"}, "expiresAt"),
        ({"expiresAt": "2031-02-30T00:00:00Z"}, "expiresAt"),
        ({"expiresAt": "9999-01-01T00:00:00Z"}, "expiresAt"),
        ({"expiresAt": 1893456000}, "expiresAt"),
    ],
)
def test_invalid_keys_are_422_with_details(
    server: Server, change: dict[str, Any], field: str
) -> None:
    body = {"label": "ok", "scopes": ["jobs:read"], **change}
    r = keys(server, "POST", json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error"), r.text
    assert field in [d["field"] for d in r.json()["error"]["details"]]
    assert keys(server, "GET").json()["keys"] == []  # nothing was created


def test_a_label_of_120_characters_and_rfc_3339_offsets_are_fine(server: Server) -> None:
    body = create(server, label="é" * 120, expiresAt="2999-12-31T23:59:59.5+05:30")
    assert body["key"]["expiresAt"] == "2999-12-31T18:29:59.500Z"


# --------------------------------------------------------------------------- one registry


def test_configured_keys_are_in_the_same_registry(configured: Server) -> None:
    server = configured
    listed = keys(server, "GET").json()["keys"]
    assert [k["scopes"] for k in listed] == [
        ["artifacts:read", "jobs:read", "jobs:write"],
        ["jobs:read"],
    ]
    assert all(k["label"] == "serve --api-key" for k in listed)
    assert use(server, "pgk_acme_owner_0001").status_code == 200
    owner = keys(server, "GET").json()["keys"][0]
    assert owner["lastUsedAt"] is not None and owner["lastUsedIp"] == "127.0.0.1"
    # a created key sits beside them and works although the server only knew its --api-key keys
    created = create(server)["plaintextKey"]
    assert use(server, created).status_code == 200
    assert use(server, "pgk_unknown").status_code == 401
    # revoking through the session revokes the configured key too
    keys(server, "POST", f"/{owner['id']}/revoke")
    assert use(server, "pgk_acme_owner_0001").status_code == 401
    keys(server, "POST", "/revoke-all")
    assert use(server, "pgk_acme_reader_001").status_code == 401
    assert use(server, created).status_code == 401
    assert use(server, "pgk_globex_0000001").status_code == 200
    # the control API's revocation reaches created keys as well
    again = create(server)["plaintextKey"]
    assert server.control("POST", f"/keys/{again}/revoke").status_code == 200
    assert use(server, again).status_code == 401


def test_another_organisations_key_cannot_be_revoked(configured: Server) -> None:
    server = configured
    globex = {"Cookie": "plangrep_session=bob"}
    server.control("PUT", "/sessions/bob", json={"org": "globex"})
    theirs = keys(server, "GET", cookie=globex).json()["keys"][0]
    r = keys(server, "POST", f"/{theirs['id']}/revoke")  # alice is of acme
    assert (r.status_code, r.json()["error"]["code"]) == (404, "key_not_found")
    assert use(server, "pgk_globex_0000001").status_code == 200


def test_a_reset_forgets_created_keys_and_sessions(server: Server) -> None:
    server.control("PUT", "/sessions/alice", json={"org": "acme"})
    plaintext = create(server)["plaintextKey"]
    assert server.control("POST", "/reset").status_code == 200
    assert keys(server, "GET").json()["keys"] == []  # alice is in the default one again
    # in open mode a forgotten key is just another token again
    assert use(server, plaintext).json()["projects"] == []


def test_key_routes_are_not_journaled_and_not_faulted(server: Server) -> None:
    r = server.control(
        "POST", "/faults", json={"target": "api", "mode": "error", "status": 500, "count": 1}
    )
    assert r.status_code in (200, 201), r.text
    assert keys(server, "GET").status_code == 200
    assert use(server, "pgk_test_a").status_code == 500  # the fault was still there
    journal = server.control("GET", "/requests").json()
    assert [e["path"] for e in journal["requests"]] == ["/api/open/v1/projects"]


def test_requests_module_sends_the_cookie_as_documented(server: Server) -> None:
    session = requests.Session()
    session.cookies.set("plangrep_session", "alice")
    r = session.get(server.url + KEYS, timeout=10)
    assert r.status_code == 200 and r.json()["keys"] == []
