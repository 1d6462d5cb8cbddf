"""Keys, scopes, revocation and tenancy: 401, 403 insufficient_scope, 404 across organisations."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mock_server.config import ALL_SCOPES, parse_key_spec

from .harness import Server


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token abc"},
    ],
)
def test_bad_authorization_is_401(server: Server, headers: dict[str, str]) -> None:
    r = server.api("GET", "/projects", key=None, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_any_key_is_its_own_organisation_by_default(server: Server) -> None:
    pid = server.ready_project(key="pgk_a")
    job_id = server.new_job(pid, key="pgk_a")["job"]["id"]
    assert server.api("GET", "/projects", key="pgk_b").json() == {"projects": []}
    assert server.api("GET", f"/projects/{pid}", key="pgk_b").status_code == 404
    assert server.api("GET", f"/jobs/{job_id}", key="pgk_a").status_code == 200


def test_another_organisations_objects_are_404_on_every_route(server: Server) -> None:
    pid = server.ready_project(key="pgk_a")
    job_id = server.started_job(pid, key="pgk_a")
    calls = [
        ("GET", f"/projects/{pid}", None),
        ("GET", f"/projects/{pid}/jobs", None),
        ("POST", f"/projects/{pid}/jobs", {}),
        ("GET", f"/jobs/{job_id}", None),
        ("POST", f"/jobs/{job_id}/resume", None),
        ("POST", f"/jobs/{job_id}/cancel", None),
        ("POST", f"/jobs/{job_id}/uploads/complete", {}),
    ]
    for method, path, body in calls:
        r = server.api(method, path, key="pgk_b", json=body)
        assert r.status_code == 404, (method, path, r.text)
        code = r.json()["error"]["code"]
        assert code in ("project_not_found", "job_not_found")
    r = server.upload(job_id, key="pgk_b")
    assert r.status_code == 404
    # the owner's job was not touched
    assert server.job(job_id)["job"]["status"] == "preflighting"


def test_configured_keys_only(make_server: Callable[..., Server]) -> None:
    s = make_server(
        polling="off",
        api_keys=(parse_key_spec("pgk_w"), parse_key_spec("pgk_r:jobs:read@pgk_w")),
    )
    assert s.api("GET", "/projects", key="pgk_other").status_code == 401
    pid = s.ready_project(key="pgk_w")
    # the read-only key shares pgk_w's organisation (@pgk_w)
    assert s.api("GET", f"/projects/{pid}", key="pgk_r").status_code == 200
    r = s.api("POST", f"/projects/{pid}/jobs", key="pgk_r", json={})
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "insufficient_scope"
    assert err["requiredScope"] == "jobs:write"
    assert err["grantedScopes"] == ["jobs:read"]


def test_a_write_only_key_cannot_read(make_server: Callable[..., Server]) -> None:
    s = make_server(polling="off", api_keys=(parse_key_spec("pgk_w:jobs:write"),))
    r = s.api("GET", "/projects", key="pgk_w")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "insufficient_scope"


def test_revoked_key_is_401(server: Server) -> None:
    assert server.api("GET", "/projects", key="pgk_gone").status_code == 200
    r = server.control("POST", "/keys/pgk_gone/revoke")
    assert r.status_code == 200
    assert r.json() == {"apiKey": "pgk_gone", "revoked": True}
    r = server.api("GET", "/projects", key="pgk_gone")
    assert r.status_code == 401
    assert "revoked" in r.json()["error"]["message"]
    assert server.api("GET", "/projects", key="pgk_other").status_code == 200


def test_revoking_an_unconfigured_key_is_404(make_server: Callable[..., Server]) -> None:
    s = make_server(api_keys=(parse_key_spec("pgk_w"),))
    assert s.control("POST", "/keys/pgk_nope/revoke").status_code == 404


@pytest.mark.parametrize(
    ("text", "key", "scopes", "org"),
    [
        ("k", "k", ALL_SCOPES, "k"),
        ("k:jobs:read", "k", frozenset({"jobs:read"}), "k"),
        ("k:jobs:read,jobs:write@acme", "k", frozenset({"jobs:read", "jobs:write"}), "acme"),
        ("k@acme", "k", ALL_SCOPES, "acme"),
    ],
)
def test_parse_key_spec(text: str, key: str, scopes: frozenset[str], org: str) -> None:
    spec = parse_key_spec(text)
    assert (spec.key, spec.scopes, spec.organisation) == (key, scopes, org)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [(":jobs:read", "empty"), ("k:jobs:delete", "unknown scope"), ("k@", "organisation")],
)
def test_parse_key_spec_rejects(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parse_key_spec(text)
