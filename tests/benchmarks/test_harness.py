"""The benchmark harness's own logic (no timing here): wrk's report is read right, the bare
baseline really does the bearer check, `--json` prints exactly issue 7's keys (and issue 14's
source search figure), goals compare the right way round."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from benchmarks import run as bench_run
from benchmarks.loadgen import parse_wrk
from benchmarks.targets import make_bare_app, make_bare_list_app, make_minimal_app

WRK_OUT = """Running 5s test @ http://127.0.0.1:4000/api/open/v1/jobs/job_x
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms  612.31us  12.00ms   90.00%
    Req/Sec     7.80k   300.00     8.20k    80.00%
  Latency Distribution
     50%    3.98ms
     75%    4.20ms
     90%    4.60ms
     99%  850.00us
  38850 requests in 5.00s, 40.00MB read
  Socket errors: connect 0, read 12, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:   7770.00
Transfer/sec:      8.00MB
"""


def test_parse_wrk_reads_rate_latency_and_failures() -> None:
    r = parse_wrk(WRK_OUT, 32, 5.0)
    assert (r.tool, r.requests, r.rps) == ("wrk", 38850, 7770.0)
    assert r.p50_ms == pytest.approx(3.98) and r.p99_ms == pytest.approx(0.85)
    assert r.bad == 3 + 2  # non-2xx and timeouts; read errors are werkzeug's closes


def test_parse_wrk_refuses_output_it_cannot_read() -> None:
    with pytest.raises(RuntimeError, match="cannot read wrk's output"):
        parse_wrk("wrk: connection refused\n", 32, 5.0)


BODY: dict[str, Any] = {"job": {"id": "job_a", "status": "processing"}}


async def _get(path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    async with TestClient(TestServer(make_bare_app(BODY, "key_1"))) as client:
        resp = await client.get(path, headers=headers)
        return resp.status, await resp.json()


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/open/v1/jobs/job_a", {"Authorization": "Bearer key_1"}, 200),
        ("/api/open/v1/jobs/job_a", {}, 401),
        ("/api/open/v1/jobs/job_a", {"Authorization": "Basic a2V5XzE="}, 401),
        ("/api/open/v1/jobs/job_a", {"Authorization": "Bearer "}, 401),
        ("/api/open/v1/jobs/job_a", {"Authorization": "Bearer other"}, 401),
        ("/api/open/v1/jobs/job_b", {"Authorization": "Bearer key_1"}, 404),
    ],
)
def test_bare_baseline_checks_the_bearer_key(
    path: str, headers: dict[str, str], status: int
) -> None:
    got, body = asyncio.run(_get(path, headers))
    assert got == status
    assert (body == BODY) if status == 200 else ("error" in body)


ISSUE_7_KEYS = [
    "poll_rps", "bare_aiohttp_rps", "poll_ratio_vs_bare", "poll_p99_ms", "pytest_httpserver_rps",
    "poll_ratio_vs_pytest_httpserver", "fixture_start_stop_ms", "pytest_httpserver_start_stop_ms",
    "fixture_speedup_vs_pytest_httpserver", "transition_us_1k", "transition_us_100k",
    "transitions_trigger_us_1k", "transitions_trigger_us_100k", "transition_ratio_vs_transitions",
    "simulate_jobs", "simulate_seconds", "simulate_jobs_per_s", "simulate_peak_rss_mb",
    "webhook_deliveries_per_s", "contract_examples_per_s",
]  # fmt: skip
ISSUE_19_KEYS = [
    "poll_ratio_vs_wiremock_warm", "poll_ratio_vs_wiremock_cold", "wiremock_cold_rps",
    "wiremock_warm_rps", "wiremock_warm_p99_ms", "wiremock_journal_warm_rps",
    "poll_ratio_vs_wiremock_journal_warm", "wiremock_like_for_like", "prism_rps", "prism_p99_ms",
    "simulate_workers_jobs_per_s", "simulate_workers_peak_rss_mb",
]  # fmt: skip


async def _get_minimal(headers: dict[str, str]) -> tuple[int, bytes]:
    async with TestClient(TestServer(make_minimal_app(BODY, "key_1"))) as client:
        resp = await client.get("/api/open/v1/jobs/job_a", headers=headers)
        return resp.status, await resp.read()


def test_the_minimal_floor_checks_the_key_and_serves_the_json() -> None:
    status, raw = asyncio.run(_get_minimal({"Authorization": "Bearer key_1"}))
    assert status == 200 and json.loads(raw) == BODY
    assert asyncio.run(_get_minimal({"Authorization": "Bearer other"}))[0] == 401
    assert asyncio.run(_get_minimal({}))[0] == 401


def test_json_output_has_exactly_the_table_keys_issue_7_first_and_unchanged(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fig: dict[str, Any] = dict.fromkeys(bench_run.KEYS, 1.0)
    fig["webhook_deliveries_per_s"] = None
    extra: dict[str, Any] = {"notes": {"webhook_deliveries_per_s": "not built"}}
    monkeypatch.setattr(bench_run, "run", lambda **_: (fig, extra))
    assert bench_run.main(["--json", "--quick"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    data = json.loads(last)
    assert list(data) == list(bench_run.KEYS)
    assert list(data)[: len(ISSUE_7_KEYS)] == ISSUE_7_KEYS
    assert set(ISSUE_19_KEYS) <= set(data)
    # issues 13, 14, 15, 16 and 18
    later = {
        "entity_list_ratio_vs_bare",
        "source_search_p99_ms",
        "workflow_examples_per_s",
        "check_cli_seconds_per_example",
        "receiver_probes_per_s",
        "dashboard_first_render_ms",
    }
    assert later <= set(data)
    assert len(set(bench_run.KEYS)) == len(bench_run.KEYS)  # no key twice in the table
    assert data["webhook_deliveries_per_s"] is None
    # every goal belongs to a figure of the table
    assert set(bench_run.GOALS) <= set(bench_run.KEYS)


def test_table_names_the_reason_of_a_null(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fig = dict.fromkeys(bench_run.KEYS)
    extra: dict[str, Any] = {"notes": {"contract_examples_per_s": "ImportError: no contract"}}
    monkeypatch.setattr(bench_run, "run", lambda **_: (fig, extra))
    bench_run.main([])
    out = capsys.readouterr().out
    assert "null because: ImportError: no contract" in out
    assert "goal >= 50: not measured" in out


def test_goals_compare_the_right_way_round() -> None:
    g = bench_run.GOALS
    assert g["poll_ratio_vs_bare"].met(0.8) and not g["poll_ratio_vs_bare"].met(0.79)
    assert g["simulate_peak_rss_mb"].met(300) and not g["simulate_peak_rss_mb"].met(301)
    assert g["transition_ratio_vs_transitions"].met(1.2)
    assert not g["transition_ratio_vs_transitions"].met(1.6)
    assert g["simulate_jobs_per_s"].met(None) is None
    assert g["source_search_p99_ms"].met(20) and not g["source_search_p99_ms"].met(20.1)
    ratio = g["entity_list_ratio_vs_bare"]
    assert ratio.met(0.8) and not ratio.met(0.79)
    assert g["poll_ratio_vs_wiremock_warm"].met(1.0)
    assert not g["poll_ratio_vs_wiremock_warm"].met(0.78)
    assert g["poll_p99_ratio_vs_wiremock_warm"].met(1.0)
    assert not g["poll_p99_ratio_vs_wiremock_warm"].met(1.1)


LIST_BODY: dict[str, Any] = {"total": 1, "sheets": [{"sheetId": "sheet_a"}]}


@pytest.mark.parametrize("encoded", [False, True])
@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/api/open/v1/projects/proj_a/sheets", {"Authorization": "Bearer key_1"}, 200),
        ("/api/open/v1/projects/proj_a/sheets", {}, 401),
        ("/api/open/v1/projects/proj_a/sheets", {"Authorization": "Bearer other"}, 401),
        ("/api/open/v1/projects/proj_b/sheets", {"Authorization": "Bearer key_1"}, 404),
    ],
)
def test_bare_list_baseline_checks_the_key_and_the_project(
    path: str, headers: dict[str, str], status: int, encoded: bool
) -> None:
    async def get() -> tuple[int, dict[str, Any]]:
        app = make_bare_list_app(LIST_BODY, "key_1", "proj_a", encoded=encoded)
        async with TestClient(TestServer(app)) as client:
            resp = await client.get(path, headers=headers)
            return resp.status, await resp.json()

    got, body = asyncio.run(get())
    assert got == status
    assert (body == LIST_BODY) if status == 200 else ("error" in body)


def test_quick_notes_say_why_a_quick_figure_does_not_count(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fig: dict[str, Any] = dict.fromkeys(bench_run.KEYS, 0.5)
    monkeypatch.setattr(bench_run, "run", lambda **_: (fig, {"notes": {}}))
    bench_run.main(["--quick"])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("poll_ratio_vs_wiremock_warm "))
    assert "NOT met (not warm in --quick)" in line
    bench_run.main([])
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("poll_ratio_vs_wiremock_warm "))
    assert line.endswith("NOT met")
