"""`runtime.upgradeStatus`: "none" (the API reference's value), and a scenario's
`project_upgrade` runs a runtime upgrade while the project stays usable."""

from __future__ import annotations

from collections.abc import Callable

from statemachine import parse_scenario

from .harness import Server

UPGRADING = parse_scenario(
    {"name": "upgrading", "project_upgrade": {"start_after": 10, "duration": 60}}
)


def _register(server: Server, *, default: bool = False) -> None:
    def go() -> None:
        server.state.scenarios.register(UPGRADING)
        if default:
            server.state.engine.default_scenario = UPGRADING

    server.call(go)


def _runtime(server: Server, pid: str) -> dict[str, str]:
    r = server.api("GET", f"/projects/{pid}")
    assert r.status_code == 200, r.text
    runtime: dict[str, str] = r.json()["project"]["runtime"]
    return runtime


def test_upgrade_status_is_none_without_an_upgrade(server: Server) -> None:
    r = server.api("POST", "/projects", json={"name": "plain"})
    assert r.json()["project"]["runtime"] == {"status": "starting", "upgradeStatus": "none"}
    pid = r.json()["project"]["id"]
    server.advance(3600)
    assert _runtime(server, pid) == {"status": "running", "upgradeStatus": "none"}


def test_a_scenario_on_project_creation_runs_an_upgrade(server: Server) -> None:
    _register(server)
    r = server.api(
        "POST", "/projects", json={"name": "up"}, headers={"X-Mock-Scenario": "upgrading"}
    )
    assert r.status_code == 202, r.text
    pid = r.json()["project"]["id"]
    assert r.json()["project"]["runtime"]["upgradeStatus"] == "none"
    server.advance(10)
    assert _runtime(server, pid) == {"status": "running", "upgradeStatus": "in_progress"}
    # the project stays usable while its runtime upgrades
    job_id = server.started_job(pid)
    server.advance(30)
    assert _runtime(server, pid)["upgradeStatus"] == "in_progress"
    assert server.job(job_id)["job"]["status"] == "completed"
    server.advance(30)
    assert _runtime(server, pid) == {"status": "running", "upgradeStatus": "none"}


def test_the_default_scenario_applies_to_every_project(
    make_server: Callable[..., Server],
) -> None:
    server = make_server(polling="off")
    _register(server, default=True)
    pid = server.ready_project()
    server.advance(5)
    assert _runtime(server, pid)["upgradeStatus"] == "in_progress"


def test_an_unknown_scenario_on_project_creation_is_422(server: Server) -> None:
    r = server.api("POST", "/projects", json={"name": "x"}, headers={"X-Mock-Scenario": "nope"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")
    assert server.api("GET", "/projects").json()["projects"] == []
