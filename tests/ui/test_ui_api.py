"""The dashboard's server side, over HTTP without a browser: the compact reads it adds, the live
feed (server-sent events), the page's files, and what the OpenAPI document says about them."""

from __future__ import annotations

import http.client
import json
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mock_server.config import KeySpec
from mock_server.ui import FEED_KEY
from mock_server.ui.feed import LiveFeed, _event, _Page
from statemachine import allowed_events, render_diagram
from tests.mock_server.harness import Server

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "mock_server" / "ui" / "static"


class Feed:
    """One page's event stream, read message by message (a blocking read with a timeout)."""

    def __init__(self, server: Server, query: str = "") -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        self.conn.request("GET", "/_mock/ui/events" + query)
        self.resp = self.conn.getresponse()
        self.seen: list[dict[str, Any]] = []

    def next(self, kind: str, where: Callable[[dict[str, Any]], bool] = lambda m: True) -> Any:
        """The next message of this `kind` for which `where` holds (others are kept in seen)."""
        data: list[str] = []
        while True:
            line = self.resp.readline().decode()
            if not line:
                raise AssertionError(f"the stream ended before a {kind} message: {self.seen}")
            line = line.rstrip("\n")
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line and data:
                msg = json.loads("".join(data))
                data = []
                self.seen.append(msg)
                if msg["type"] == kind and where(msg):
                    return msg

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def feeds(server: Server) -> Iterator[Callable[[str], Feed]]:
    opened: list[Feed] = []

    def open_feed(query: str = "") -> Feed:
        f = Feed(server, query)
        opened.append(f)
        return f

    yield open_feed
    for f in opened:
        f.close()


def wait_until(cond: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.01)


def jobs(server: Server, query: str = "") -> dict[str, Any]:
    r = server.control("GET", "/jobs" + query)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


# --------------------------------------------------------------------------- GET /_mock/jobs


def test_job_list_is_newest_first_with_compact_rows(server: Server) -> None:
    pid = server.ready_project()
    first = server.new_job(pid, externalId="first")["job"]["id"]
    second = server.started_job(pid)
    body = jobs(server)
    assert [j["id"] for j in body["jobs"]] == [second, first]
    assert body["total"] == body["totalJobs"] == 2
    assert body["counts"] == {"awaiting_uploads": 1, "preflighting": 1}
    row = body["jobs"][1]
    assert row == {
        "id": first,
        "projectId": pid,
        "organisation": "pgk_test_a",
        "externalId": "first",
        "scenario": "happy",
        "status": "awaiting_uploads",
        "pagesDone": 0,
        "pageCount": 0,
        "creditsReserved": 0,
        "creditsDebited": 0,
        "createdAt": row["createdAt"],
        "updatedAt": row["updatedAt"],
    }
    server.advance(100)  # the started job completes
    done = jobs(server, "?status=completed")["jobs"][0]
    assert done["id"] == second and done["pagesDone"] == done["pageCount"] > 0
    assert done["creditsDebited"] > 0


def test_job_list_filters_by_status_search_and_project(server: Server) -> None:
    p1 = server.ready_project(name="one")
    p2 = server.ready_project(name="two")
    a = server.new_job(p1, externalId="Tower-North")["job"]["id"]
    b = server.started_job(p1)
    c = server.new_job(p2, externalId="annex")["job"]["id"]
    assert [j["id"] for j in jobs(server, "?status=preflighting")["jobs"]] == [b]
    both = jobs(server, "?status=preflighting,awaiting_uploads")
    assert {j["id"] for j in both["jobs"]} == {a, b, c}
    # search: a part of the id, or of the external id whatever its case
    assert [j["id"] for j in jobs(server, f"?q={b[-8:]}")["jobs"]] == [b]
    assert [j["id"] for j in jobs(server, "?q=tower-n")["jobs"]] == [a]
    assert jobs(server, "?q=nothing-like-it")["jobs"] == []
    in_p2 = jobs(server, f"?projectId={p2}")
    assert [j["id"] for j in in_p2["jobs"]] == [c]
    assert in_p2["total"] == 1 and in_p2["totalJobs"] == 3
    # counts: per status among the jobs the other filters leave
    assert jobs(server, f"?projectId={p1}&status=preflighting")["counts"] == {
        "awaiting_uploads": 1,
        "preflighting": 1,
    }
    assert jobs(server, "?projectId=proj_unknown")["jobs"] == []


def test_job_list_pages(server: Server) -> None:
    pid = server.ready_project()
    ids = [server.new_job(pid)["job"]["id"] for _ in range(7)]
    newest_first = ids[::-1]
    page1 = jobs(server, "?limit=3")
    page3 = jobs(server, "?limit=3&offset=6")
    assert [j["id"] for j in page1["jobs"]] == newest_first[:3]
    assert [j["id"] for j in page3["jobs"]] == newest_first[6:]
    assert (page3["total"], page3["offset"], page3["limit"]) == (7, 6, 3)
    assert jobs(server, "?offset=50")["jobs"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?limit=ten", "limit"),
        ("?limit=5.0", "limit"),
        ("?offset=+1", "offset"),
        ("?offset=-1", "offset"),
        ("?status=done", "status"),
        ("?status=completed,", "status"),
        ("?q=" + "x" * 201, "q"),
    ],
)
def test_bad_job_list_queries_are_422_naming_the_parameter(
    server: Server, query: str, field: str
) -> None:
    r = server.control("GET", "/jobs" + query)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "validation_error"
    assert [d["field"] for d in err["details"]] == [field]
    assert field in err["message"]


# --------------------------------------------------------------------------- other reads


def test_projects_list_counts_jobs(server: Server) -> None:
    p1 = server.ready_project(name="one")
    server.new_job(p1)
    server.new_job(p1)
    p2 = server.ready_project(key="pgk_test_b", name="two")
    body = server.control("GET", "/projects").json()
    rows = {p["id"]: p for p in body["projects"]}
    assert [p["id"] for p in body["projects"]] == [p2, p1]
    assert rows[p1]["jobs"] == 2 and rows[p2]["jobs"] == 0
    assert (rows[p2]["name"], rows[p2]["organisation"], rows[p2]["status"]) == (
        "two",
        "pgk_test_b",
        "ready",
    )


def test_accounts_without_configured_keys_are_one_per_token(server: Server) -> None:
    server.ready_project(key="pgk_test_b")
    body = server.control("GET", "/accounts").json()
    assert body["accounts"] == [
        {
            "organisation": "pgk_test_b",
            "balance": 10_000 - 50,  # a project costs 50 credits
            "profile": body["accounts"][0]["profile"],
            "apiKeys": ["pgk_test_b"],
        }
    ]
    # the listed key sets the balance through the existing control route
    r = server.control("PUT", "/accounts/pgk_test_b/credits", json={"balance": 7})
    assert r.status_code == 200
    assert server.control("GET", "/accounts").json()["accounts"][0]["balance"] == 7


def test_accounts_with_configured_keys_list_every_organisation(
    make_server: Callable[..., Server],
) -> None:
    server = make_server(
        api_keys=(KeySpec("pgk_a1", org="acme"), KeySpec("pgk_a2", org="acme"),
                  KeySpec("pgk_b", org="beta")),
        credits=500,
    )  # fmt: skip
    server.ready_project(key="pgk_b")
    accounts = server.control("GET", "/accounts").json()["accounts"]
    assert {a["organisation"]: (a["balance"], a["apiKeys"]) for a in accounts} == {
        "beta": (450, ["pgk_b"]),
        "acme": (500, ["pgk_a1", "pgk_a2"]),  # not acted yet: the starting balance
    }
    # reading did not open an account
    assert "acme" not in server.call(lambda: list(server.state.engine.accounts))


def test_machine_is_the_engine_machine(server: Server) -> None:
    body = server.control("GET", "/machine").json()
    assert body["initial"] == "provisioning"
    assert len(body["statuses"]) == 11
    assert set(body["terminal"]) == {
        "completed",
        "completed_with_errors",
        "failed",
        "cancelled",
        "expired",
    }
    for status in body["statuses"]:
        assert body["allowed"][status] == list(allowed_events(status))
    assert body["allowed"]["completed"] == []
    assert body["mermaid"] == render_diagram("mermaid")
    block = next(t for t in body["transitions"] if t["event"] == "block")
    assert block == {
        "event": "block",
        "from": ["preflighting", "processing"],
        "to": "blocked_insufficient_credits",
    }


def test_rules_carry_the_text_behind_each_violation(server: Server) -> None:
    rules = {r["id"]: r for r in server.control("GET", "/rules").json()["rules"]}
    assert rules["polling_too_fast"]["server"] is True
    assert "5 s" in rules["polling_too_fast"]["text"]
    assert rules["polling_too_fast"]["source"] == "plangrep"


# --------------------------------------------------------------------------- the live feed


def test_feed_greets_then_pushes_job_rows_and_counts(
    server: Server, feeds: Callable[[str], Feed]
) -> None:
    pid = server.ready_project()
    feed = feeds("")
    hello = feed.next("hello")
    assert (hello["clock"], hello["totalJobs"], hello["violations"]) == ("manual", 0, 0)
    job_id = server.new_job(pid, externalId="live")["job"]["id"]
    msg = feed.next("jobs", lambda m: any(r["id"] == job_id for r in m["rows"]))
    row = next(r for r in msg["rows"] if r["id"] == job_id)
    assert (row["status"], row["externalId"]) == ("awaiting_uploads", "live")
    assert msg["totalJobs"] == 1 and msg["counts"] == {"awaiting_uploads": 1}
    assert msg["overflow"] is False


def test_feed_coalesces_many_transitions_into_few_pushes(
    server: Server, feeds: Callable[[str], Feed]
) -> None:
    pid = server.ready_project()
    started = [server.started_job(pid) for _ in range(20)]
    feed = feeds("")
    feed.next("hello")
    server.advance(100)  # 40 transitions (pass_preflight, complete) in one advance
    msg = feed.next("jobs", lambda m: m["counts"].get("completed") == 20)
    pushed = [m for m in feed.seen if m["type"] == "jobs"]
    rows = [r["id"] for m in pushed for r in m["rows"]]
    assert sorted(set(rows)) == sorted(started)
    assert len(rows) == len(set(rows)) == 20  # each job once, in its final state
    assert all(r["status"] == "completed" for r in msg["rows"])


def test_feed_sends_the_clock_and_violations(server: Server, feeds: Callable[[str], Feed]) -> None:
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    feed = feeds("")
    feed.next("hello")
    moved = server.advance(30)
    assert feed.next("clock")["now"] == moved["now"]
    assert server.api("GET", f"/jobs/{job_id}").status_code == 200
    assert server.api("GET", f"/jobs/{job_id}").status_code == 429
    assert feed.next("violations")["count"] == 1


def test_feed_sends_faults_as_they_change(server: Server, feeds: Callable[[str], Feed]) -> None:
    feed = feeds("")
    assert feed.next("hello")["faults"] == []
    r = server.control("POST", "/faults", json={"target": "webhooks", "mode": "drop", "count": 2})
    assert r.status_code == 201
    faults = feed.next("faults")["faults"]
    assert [(f["mode"], f["remaining"]) for f in faults] == [("drop", 2)]
    server.control("DELETE", "/faults")
    assert feed.next("faults")["faults"] == []


def test_a_job_page_hears_of_its_requests_and_transitions_only(
    server: Server, feeds: Callable[[str], Feed]
) -> None:
    pid = server.ready_project()
    watched = server.new_job(pid)["job"]["id"]
    other = server.new_job(pid)["job"]["id"]
    page = feeds(f"?job={watched}")
    everyone = feeds("")
    page.next("hello")
    everyone.next("hello")
    assert server.api("GET", f"/jobs/{other}").status_code == 200
    assert server.api("GET", f"/jobs/{watched}").status_code == 200  # a request: a note
    assert page.next("job")["id"] == watched
    server.control("POST", f"/jobs/{watched}/events", json={"event": "cancel"})  # a transition
    page.next("jobs", lambda m: any(r["id"] == watched for r in m["rows"]))
    assert page.next("job")["id"] == watched
    everyone.next("jobs", lambda m: any(r["id"] == watched for r in m["rows"]))
    assert not [m for m in page.seen if m["type"] == "job" and m["id"] != watched]
    assert not [m for m in everyone.seen if m["type"] == "job"]


def test_feed_announces_a_reset(server: Server, feeds: Callable[[str], Feed]) -> None:
    pid = server.ready_project()
    server.new_job(pid)
    feed = feeds("")
    assert feed.next("hello")["totalJobs"] == 1
    server.control("POST", "/reset")
    assert feed.next("reset")["totalJobs"] == 0
    # and follows the new engine
    pid = server.ready_project()
    job_id = server.new_job(pid)["job"]["id"]
    feed.next("jobs", lambda m: any(r["id"] == job_id for r in m["rows"]))


def test_feed_costs_nothing_once_the_last_page_leaves(
    server: Server, feeds: Callable[[str], Feed]
) -> None:
    feed_obj: LiveFeed = server.app[FEED_KEY]
    engine_subscribers = server.call(lambda: len(server.state.engine._subscribers))
    assert not feed_obj.active
    a, b = feeds(""), feeds("")
    a.next("hello")
    b.next("hello")
    assert server.call(lambda: feed_obj.active and len(feed_obj.pages)) == 2
    assert server.call(lambda: len(server.state.engine._subscribers)) == engine_subscribers + 1
    a.close()
    wait_until(lambda: server.call(lambda: len(feed_obj.pages)) == 1, "the first page to leave")
    assert server.call(lambda: feed_obj.active)
    b.close()
    wait_until(lambda: not server.call(lambda: feed_obj.active), "the feed to stop")
    assert server.call(lambda: len(server.state.engine._subscribers)) == engine_subscribers


def test_a_page_that_falls_behind_is_told_to_resync() -> None:
    page = _Page(request=None, job_id=None)  # type: ignore[arg-type]
    for n in range(200):
        page.send(_event({"type": "jobs", "n": n}))
    queued = []
    while not page.queue.empty():
        queued.append(page.queue.get_nowait())
    assert b'"resync"' in queued[0]  # the backlog was dropped for one resync
    assert len(queued) < 64


def test_feed_rejects_a_malformed_job_id_with_json(server: Server) -> None:
    r = server.control("GET", "/ui/events?job=" + "x" * 101)
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [{"field": "job", "message": "not a job id"}]


# --------------------------------------------------------------------------- the page's files


def test_page_and_assets_are_served_from_the_package(server: Server) -> None:
    page = server.control("GET", "/ui/")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'src="assets/app.js"' in page.text and 'href="assets/app.css"' in page.text
    js = server.control("GET", "/ui/assets/app.js")
    css = server.control("GET", "/ui/assets/app.css")
    assert js.headers["Content-Type"].startswith("text/javascript")
    assert css.headers["Content-Type"].startswith("text/css")
    assert js.content == (STATIC / "assets" / "app.js").read_bytes()
    missing = server.control("GET", "/ui/assets/../../state.py")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_page_fetches_nothing_from_elsewhere() -> None:
    """No CDN, no font service: every URL the page's files name is relative or the W3C's SVG
    namespace (an identifier, never fetched)."""
    for path in STATIC.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.\w+[^\s\"')]*", text))
            assert urls <= {"http://www.w3.org/2000/svg"}, (path.name, urls)


def test_page_files_are_package_data() -> None:
    """A non-editable install carries the page: pyproject's package data names every file."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["mock_server"]
    root = REPO / "mock_server"
    packaged = {p for g in globs for p in root.glob(g)}
    files = {p for p in STATIC.rglob("*") if p.is_file()}
    assert files and files <= packaged, files - packaged


def test_openapi_describes_the_dashboard_routes(server: Server) -> None:
    doc = server.request("GET", "/openapi.json", key=None).json()
    paths = doc["paths"]
    for path in ("/_mock/jobs", "/_mock/projects", "/_mock/accounts", "/_mock/machine"):
        assert "get" in paths[path], path
    params = {p["name"]: p["schema"] for p in paths["/_mock/jobs"]["get"]["parameters"]}
    assert params["limit"] == {"type": "integer", "minimum": 1, "maximum": 500}
    assert params["status"]["type"] == "string" and "pattern" in params["status"]
    events = paths["/_mock/ui/events"]["get"]["responses"]["200"]["content"]
    assert list(events) == ["text/event-stream"]
    page = paths["/_mock/ui/"]["get"]["responses"]["200"]["content"]
    assert list(page) == ["text/html"]
