"""Measure plangrep-mock against named baselines, side by side, in one run.

    python benchmarks/run.py [--quick] [--json] [--markdown] [--uvloop]
                             [--loadgen auto|wrk|aiohttp]

The figures are the keys of `--json`, whose last printed line is one JSON object with exactly
these keys, in order: `FIGURES` below is the one table of them, each with what it measures
against which baseline, and its goal if it has one (docs/benchmarks.md explains each).

A figure that cannot be measured (a part not built yet, Java or npm missing for the WireMock and
Prism baselines) is null, and the table says why. Every requests/s figure of one run comes from
the same load generator (wrk if on PATH). `--quick` (under 2 minutes on 2 cores, once WireMock
and Prism are in their cache folder) runs fewer and shorter rounds, 20k simulated jobs instead
of 100k, 100k in two shards of 50k instead of 1M across workers, and does not warm WireMock
up. Progress goes to
stderr. Speed is never asserted in tests; it is measured here.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_statemachine import measure_simulate, measure_transitions

__all__ = ["BASELINES", "FIGURES", "GOALS", "KEYS", "Figure", "Goal", "main", "render_markdown",
           "render_table", "run"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Goal:
    op: str  # ">=" or "<="
    value: float

    def met(self, x: float | None) -> bool | None:
        if x is None:
            return None
        return x >= self.value if self.op == ">=" else x <= self.value

    def __str__(self) -> str:
        return f"{self.op} {self.value:g}"


@dataclass(frozen=True, slots=True)
class Figure:
    """One key of the JSON line: what it measures (against which baseline) and its goal."""

    key: str
    what: str
    goal: Goal | None = None
    quick_note: str = ""  # why --quick's value does not stand for the goal, if it does not


_100K = "goal is for 100k jobs"
_WM = "WireMock 3.13.2 standalone jar on Java, one stub with a bearer header matcher"
_COLD = "not warm in --quick"

# The one table of figures: the JSON line has exactly these keys, in this order. A new figure is
# one row here and one step in run() that fills it. Issue 7's keys come first, unchanged.
FIGURES: tuple[Figure, ...] = (
    # issue 7
    Figure("poll_rps", "plangrep-mock serve --polling off, GET /jobs/{jobId} of a processing job"),
    Figure("bare_aiohttp_rps", "minimal aiohttp app, same bearer check, same JSON"),
    Figure("poll_ratio_vs_bare", "poll_rps / bare_aiohttp_rps", Goal(">=", 0.8)),
    Figure("poll_p99_ms", "p99 latency of poll_rps, 32 connections"),
    Figure("pytest_httpserver_rps", "pytest-httpserver serving the same JSON"),
    Figure("poll_ratio_vs_pytest_httpserver", "poll_rps / pytest_httpserver_rps", Goal(">=", 3)),
    Figure("fixture_start_stop_ms", "plangrep_mock fixture: PlangrepMock().start() + stop()"),
    Figure("pytest_httpserver_start_stop_ms", "HTTPServer(port=0).start() + stop()"),
    Figure("fixture_speedup_vs_pytest_httpserver", "the two above", Goal(">=", 20)),
    Figure("transition_us_1k", "statemachine.fire_job_event, 1,000 live jobs"),
    Figure("transition_us_100k", "statemachine.fire_job_event, 100,000 live jobs"),
    Figure("transitions_trigger_us_1k", "transitions: shared Machine(model=None), trigger"),
    Figure("transitions_trigger_us_100k", "the same at 100,000 live objects"),
    Figure("transition_ratio_vs_transitions", "the worse of the two sizes", Goal("<=", 1.5)),
    Figure("simulate_jobs", "simulate(N, scenario='random', seed=1), child process on one core"),
    Figure("simulate_seconds", "wall time of that run, imports excluded"),
    Figure("simulate_jobs_per_s", "simulate_jobs / simulate_seconds", Goal(">=", 10_000), _100K),
    Figure("simulate_peak_rss_mb", "peak RSS of that child", Goal("<=", 300), _100K),
    Figure(
        "webhook_deliveries_per_s",
        "signed deliveries to a local aiohttp receiver",
        Goal(">=", 1_000),
    ),
    Figure(
        "contract_examples_per_s",
        "check_client(wait_for_job), whole call incl. server start",
        Goal(">=", 50),
    ),
    # issue 13
    Figure(
        "entity_list_ratio_vs_bare",
        "GET /projects/{id}/sheets?limit=100 of 10,000 sheets / a bare aiohttp app answering the "
        "same JSON (web.json_response), back to back",
        Goal(">=", 0.8),
    ),
    # issue 15
    Figure(
        "workflow_examples_per_s",
        "check_workflow(submit_workflow), faults on, incl. server start",
        Goal(">=", 20),
    ),
    # issue 17
    Figure(
        "check_cli_seconds_per_example",
        "plangrep-mock check, Node 15 s client, wall s per example, default time scale",
        Goal("<=", 1),
    ),
    # issues 14 and 16
    Figure(
        "source_search_p99_ms",
        "SourceIndex.search, 10k regions + 1k spec sections: CPU ms per query, 400 varied "
        "queries x 3, 16k chunks, 1 core",
        Goal("<=", 20),
    ),
    Figure(
        "receiver_probes_per_s",
        "check_receiver against a local aiohttp receiver (own process)",
        Goal(">=", 200),
    ),
    # issue 18
    Figure(
        "dashboard_first_render_ms",
        "/_mock/ui/ jobs view in headless Chromium, navigation to rows, 10,000 jobs",
    ),
    # issue 19: other mock servers, same GET, same load generator (benchmarks/baselines.py)
    Figure("wiremock_cold_rps", f"{_WM}, journal off, first 5 s of load after start"),
    Figure("wiremock_warm_rps", f"{_WM}, journal off, after 60 s of load", quick_note=_COLD),
    Figure("wiremock_warm_p99_ms", "p99 latency of wiremock_warm_rps", quick_note=_COLD),
    Figure("wiremock_journal_cold_rps", "WireMock, journal on (10,000 entries), first 5 s"),
    Figure("wiremock_journal_warm_rps", "WireMock, journal on (10,000 entries), warm"),
    Figure("wiremock_journal_warm_p99_ms", "p99 latency of wiremock_journal_warm_rps"),
    Figure("poll_ratio_vs_wiremock_cold", "the mock / cold WireMock (journal off), back to back"),
    Figure(
        "poll_ratio_vs_wiremock_warm",
        "the mock / warm WireMock, journal off (issue 19's goal)",
        Goal(">=", 1.0),
        _COLD,
    ),
    Figure(
        "poll_p99_ratio_vs_wiremock_warm",
        "poll p99 / warm WireMock p99 (journal off)",
        Goal("<=", 1.0),
        _COLD,
    ),
    Figure(
        "poll_cpu_ratio_vs_wiremock_warm",
        "requests per server CPU-second, the mock / warm WireMock (journal off): less moved by "
        "other work on the machine than the requests/s ratio",
        quick_note=_COLD,
    ),
    Figure("poll_ratio_vs_wiremock_journal_cold", "the mock / cold WireMock, journal on"),
    Figure(
        "poll_ratio_vs_wiremock_journal_warm",
        "the mock / warm WireMock, journal on: like for like (both keep a journal)",
    ),
    Figure("wiremock_like_for_like", "the key of the like-for-like WireMock comparison"),
    Figure("prism_rps", "Prism 5.16.0 mock mode, OpenAPI example + bearer scheme (any token)"),
    Figure("prism_p99_ms", "p99 latency of prism_rps"),
    Figure("poll_ratio_vs_prism", "the mock / Prism, back to back"),
    Figure("poll_cpu_ratio_vs_prism", "requests per server CPU-second, the mock / Prism"),
    # issue 19: simulate --workers (statemachine/simulation.py)
    Figure("simulate_workers", "worker processes: one per CPU"),
    Figure("simulate_workers_jobs", "simulate(N, scenario='random', seed=1, workers=...)"),
    Figure("simulate_workers_seconds", "wall time of that run, imports excluded"),
    Figure("simulate_workers_jobs_per_s", "simulate_workers_jobs / simulate_workers_seconds"),
    Figure("simulate_workers_speedup", "simulate_workers_jobs_per_s / simulate_jobs_per_s"),
    Figure(
        "simulate_workers_jobs_per_cpu_s",
        "jobs per CPU-second of every process of that run (vs simulate_jobs_per_s on an idle "
        "core: what sharding costs in work)",
    ),
    Figure(
        "simulate_workers_peak_rss_mb",
        "sum of the peak RSS of every process of the run",
        Goal("<=", 300),
        "goal is for 1,000,000 jobs",
    ),
)

KEYS: tuple[str, ...] = tuple(f.key for f in FIGURES)
GOALS: dict[str, Goal] = {f.key: f.goal for f in FIGURES if f.goal is not None}
BASELINES: dict[str, str] = {f.key: f.what for f in FIGURES}
_BY_KEY: dict[str, Figure] = {f.key: f for f in FIGURES}
FLAT_GOAL = Goal("<=", 1.5)  # transition_us_100k / transition_us_1k: "flat from 1k to 100k"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def run(
    *,
    quick: bool = False,
    loadgen: str = "auto",
    uvloop: bool = False,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr, flush=True),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure everything; return (figures keyed by KEYS, extra details and notes)."""
    fig: dict[str, Any] = dict.fromkeys(KEYS)
    extra: dict[str, Any] = {"notes": {}}
    notes: dict[str, str] = extra["notes"]

    def step(name: str, fn: Callable[[], None], *keys: str) -> None:
        log(f"== {name}")
        t0 = time.perf_counter()
        try:
            fn()
        except Exception as exc:  # a part not built yet, or broken: null with the reason
            reason = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]
            log(traceback.format_exc())
            for k in keys:
                notes.setdefault(k, reason)
        log(f"   {time.perf_counter() - t0:.1f} s")

    # -- the formal core --------------------------------------------------------------------
    def transitions() -> None:
        budget = 100_000 if quick else 1_000_000
        small = measure_transitions(1_000, min_transitions=budget)
        # a pass at 100k live jobs is ~500k transitions a side: in --quick one measured pass,
        # and no warm-up pass (the 1k measurement just ran the same code)
        large = measure_transitions(
            100_000, min_transitions=budget, min_passes=1 if quick else 3, warm_up=not quick
        )
        fig["transition_us_1k"] = small.transition_us
        fig["transitions_trigger_us_1k"] = small.transitions_trigger_us
        fig["transition_us_100k"] = large.transition_us
        fig["transitions_trigger_us_100k"] = large.transitions_trigger_us
        fig["transition_ratio_vs_transitions"] = max(small.ratio, large.ratio)
        extra["transition_ratio_1k"] = small.ratio
        extra["transition_ratio_100k"] = large.ratio
        extra["transition_flatness"] = large.transition_us / small.transition_us

    def simulation() -> None:
        n = 20_000 if quick else 100_000
        s = measure_simulate(n)
        fig["simulate_jobs"] = n
        fig["simulate_seconds"] = s.seconds
        fig["simulate_jobs_per_s"] = s.jobs_per_s
        fig["simulate_peak_rss_mb"] = s.peak_rss_mb
        extra["simulate_terminal"] = s.report["terminal"]

    step("transition microbenchmark", transitions, *[k for k in KEYS if "transition" in k])
    step("simulate", simulation, *[k for k in KEYS if k.startswith("simulate_") and
                                   not k.startswith("simulate_workers")])  # fmt: skip

    # -- HTTP -----------------------------------------------------------------------------------
    def polling() -> None:
        from benchmarks.bench_server import PollFigures, measure_polling

        p = measure_polling(
            seconds=1.5 if quick else 4,
            warmup=0.5 if quick else 1,
            rounds=1 if quick else 5,
            tool=loadgen,
            uvloop=uvloop,
            log=lambda s: log("   " + s),
        )
        fig["poll_rps"] = PollFigures.median_rps(p.mock)
        fig["bare_aiohttp_rps"] = PollFigures.median_rps(p.bare)
        fig["pytest_httpserver_rps"] = PollFigures.median_rps(p.httpserver)
        fig["poll_p99_ms"] = PollFigures.median_p99(p.mock)
        # per-round ratios (targets back to back), median over rounds
        fig["poll_ratio_vs_bare"] = PollFigures.median_ratio(p.mock, p.bare)
        fig["poll_ratio_vs_pytest_httpserver"] = PollFigures.median_ratio(p.mock, p.httpserver)
        extra["loadgen"] = p.tool
        extra["poll_rounds"] = p.rounds
        extra["bare_aiohttp_p99_ms"] = PollFigures.median_p99(p.bare)
        extra["pytest_httpserver_p99_ms"] = PollFigures.median_p99(p.httpserver)
        if p.mock_uvloop:
            # serve's default loop is uvloop: the comparison runs it on asyncio's
            extra["poll_rps_asyncio"] = PollFigures.median_rps(p.mock_uvloop)
            extra["poll_p99_ms_asyncio"] = PollFigures.median_p99(p.mock_uvloop)
            extra["uvloop_speedup"] = PollFigures.median_ratio(p.mock, p.mock_uvloop)
        if p.floor_uvloop:
            extra["aiohttp_floor_uvloop_rps"] = PollFigures.median_rps(p.floor_uvloop)
            extra["poll_ratio_vs_aiohttp_floor_uvloop"] = PollFigures.median_ratio(
                p.mock, p.floor_uvloop
            )

    def fixture() -> None:
        from benchmarks.bench_fixture import measure_start_stop

        d = measure_start_stop(4 if quick else 20)  # pytest-httpserver's takes ~0.5 s each
        fig["fixture_start_stop_ms"] = d["fixture_start_stop_ms"]
        fig["pytest_httpserver_start_stop_ms"] = d["pytest_httpserver_start_stop_ms"]
        fig["fixture_speedup_vs_pytest_httpserver"] = _ratio(
            fig["pytest_httpserver_start_stop_ms"], fig["fixture_start_stop_ms"]
        )
        extra["fixture_measured"] = d["fixture_measured"]

    def webhooks() -> None:
        try:
            from benchmarks.bench_webhooks import measure_webhook_deliveries_per_s
        except ImportError as exc:
            raise RuntimeError(f"benchmarks/bench_webhooks.py is not there yet ({exc})") from None
        fig["webhook_deliveries_per_s"] = measure_webhook_deliveries_per_s(500 if quick else 2000)

    def contract() -> None:
        from benchmarks.bench_contract import measure_contract

        d = measure_contract(30 if quick else 100)
        fig["contract_examples_per_s"] = d["examples_per_s"]
        extra["contract_examples"] = d["examples"]
        extra["contract_search_examples_per_s"] = d["search_examples_per_s"]

    def search() -> None:
        from benchmarks.bench_search import measure_search

        d = measure_search(quick=quick)
        fig["source_search_p99_ms"] = d["source_search_p99_ms"]
        extra["source_search_p50_ms"] = d["source_search_p50_ms"]
        extra["source_search_qps"] = d["source_search_qps"]
        extra["source_search_wall_p99_ms"] = d["wall_p99_ms"]
        extra["source_search_chunks"] = d["chunks"]
        # the server's own sources (content generator + indexing), and the same over HTTP
        c = measure_search(quick=quick, corpus="content", http=True)
        extra["source_search_content_p50_ms"] = c["source_search_p50_ms"]
        extra["source_search_content_p99_ms"] = c["source_search_p99_ms"]
        extra["source_search_content_qps"] = c["source_search_qps"]
        extra["source_search_http_p50_ms"] = c["http_p50_ms"]
        extra["source_search_http_p99_ms"] = c["http_p99_ms"]
        extra["source_search_http_rps"] = c["http_rps"]
        extra["source_search_http_cpu_ms"] = c["http_cpu_ms_per_request"]
        extra["source_search_load_average"] = c["load_average"]

    step("GET /jobs/{jobId} requests/s", polling, *[k for k in KEYS if k.startswith("poll") and
         "wiremock" not in k and "prism" not in k],
         "bare_aiohttp_rps", "pytest_httpserver_rps")  # fmt: skip
    step("fixture start + stop", fixture, "fixture_start_stop_ms",
         "pytest_httpserver_start_stop_ms", "fixture_speedup_vs_pytest_httpserver")  # fmt: skip

    def baselines() -> None:
        from benchmarks.baselines import measure_baselines

        values, why, details = measure_baselines(
            quick=quick, tool=loadgen, log=lambda s: log("   " + s)
        )
        fig.update(values)
        notes.update(why)
        fig["wiremock_like_for_like"] = "poll_ratio_vs_wiremock_journal_warm"
        extra["baselines"] = details
        floor = extra.get("poll_ratio_vs_aiohttp_floor_uvloop")
        warm = fig.get("poll_ratio_vs_wiremock_warm")
        if floor and warm:
            # what the goal asks of any aiohttp server: aiohttp's floor on uvloop / warm
            # WireMock, through the mock that both were measured back to back with
            extra["aiohttp_floor_uvloop_vs_wiremock_warm"] = warm / floor

    def simulate_workers() -> None:
        from benchmarks.bench_statemachine import measure_simulate_workers

        n = 100_000 if quick else 1_000_000
        # --quick: two shards of 50k (the report is the same for any number of workers, given
        # the shard size)
        s = measure_simulate_workers(n, shard_jobs=50_000 if quick else None)
        fig["simulate_workers"] = s.workers
        fig["simulate_workers_jobs"] = n
        fig["simulate_workers_seconds"] = s.seconds
        fig["simulate_workers_jobs_per_s"] = s.jobs_per_s
        fig["simulate_workers_speedup"] = _ratio(s.jobs_per_s, fig["simulate_jobs_per_s"])
        fig["simulate_workers_peak_rss_mb"] = s.peak_rss_mb
        fig["simulate_workers_jobs_per_cpu_s"] = s.jobs_per_cpu_s
        extra["simulate_workers_rss_mb_by_process"] = s.rss_mb_by_process
        log("   peak RSS by process (MB): " + ", ".join(
            f"{name} {mb:.1f}" for name, mb in s.rss_mb_by_process.items()))  # fmt: skip

    step("webhook deliveries", webhooks, "webhook_deliveries_per_s")

    def receiver() -> None:
        from benchmarks.bench_receiver import measure_receiver

        d = measure_receiver(30 if quick else 100)
        fig["receiver_probes_per_s"] = d["probes_per_s"]
        extra["receiver_probes"] = d["probes"]

    def dashboard() -> None:
        from benchmarks.bench_dashboard import measure_dashboard

        d = measure_dashboard(10_000, reps=2 if quick else 10)
        fig["dashboard_first_render_ms"] = d.pop("dashboard_first_render_ms")
        extra.update(d)

    def workflow() -> None:
        from benchmarks.bench_workflow import measure_workflow

        d = measure_workflow(30 if quick else 100)
        fig["workflow_examples_per_s"] = d["examples_per_s"]
        extra["workflow_examples"] = d["examples"]
        extra["workflow_examples_per_cpu_s"] = d["examples_per_cpu_s"]

    step("contract kit", contract, "contract_examples_per_s")
    step("workflow kit", workflow, "workflow_examples_per_s")

    def entities() -> None:
        from benchmarks.bench_entities import measure_entity_list
        from benchmarks.bench_server import PollFigures

        e = measure_entity_list(seconds=1.5 if quick else 4, warmup=0.5 if quick else 1,
                                rounds=1 if quick else 4,
                                tool=loadgen, log=lambda s: log("   " + s))  # fmt: skip
        fig["entity_list_ratio_vs_bare"] = e.ratio
        extra["entity_list_rps"] = PollFigures.median_rps(e.mock)
        extra["entity_list_p99_ms"] = PollFigures.median_p99(e.mock)
        extra["entity_list_bare_rps"] = PollFigures.median_rps(e.bare)
        extra["entity_list_ratio_vs_bare_encoded"] = e.ratio_encoded
        extra["entity_list_first_ms"] = e.first_ms

    step("project entity list", entities, "entity_list_ratio_vs_bare")

    def check_cli() -> None:
        from benchmarks.bench_cli import measure_check_cli

        d = measure_check_cli(0 if quick else 20)  # --quick: the 21 canonical examples
        fig["check_cli_seconds_per_example"] = d["seconds_per_example"]
        extra["check_cli_examples"] = d["examples"]
        extra["check_cli_median_seconds"] = d["median_seconds"]
        extra["check_cli_start_up_seconds"] = d["start_up_seconds"]

    step("plangrep-mock check (Node client)", check_cli, "check_cli_seconds_per_example")
    step("source search", search, "source_search_p99_ms")
    step("receiver checker", receiver, "receiver_probes_per_s")
    step("dashboard in headless Chromium", dashboard, "dashboard_first_render_ms")
    step("WireMock and Prism", baselines, *[k for k in KEYS if "wiremock" in k or "prism" in k])
    step("simulate --workers", simulate_workers, *[k for k in KEYS if "simulate_workers" in k])
    return fig, extra


# -- output -------------------------------------------------------------------------------------


def _fmt(x: Any) -> str:
    if x is None:
        return "null"
    if isinstance(x, str):
        return x
    if isinstance(x, int):
        return f"{x:,}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _verdict(key: str, fig: dict[str, Any], quick: bool) -> str:
    goal = GOALS.get(key)
    if goal is None:
        return ""
    met = goal.met(fig[key])
    if met is None:
        return f"goal {goal}: not measured"
    quick_note = _BY_KEY[key].quick_note
    note = f" ({quick_note})" if quick and quick_note else ""
    return f"goal {goal}: {'met' if met else 'NOT met'}{note}"


def render_table(fig: dict[str, Any], extra: dict[str, Any], quick: bool) -> str:
    rows = [f"{'figure':<38}{'value':>12}  what / goal"]
    for k in KEYS:
        what = "; ".join(filter(None, [BASELINES.get(k, ""), _verdict(k, fig, quick)]))
        rows.append(f"{k:<38}{_fmt(fig[k]):>12}  {what}")
        if k in extra["notes"] and fig[k] is None:
            rows.append(f"{'':<52}null because: {extra['notes'][k]}")
    rows.append("")
    for k in ("transition_ratio_1k", "transition_ratio_100k"):
        if k in extra:
            rows.append(f"{k:<38}{_fmt(extra[k]):>12}")
    if "transition_flatness" in extra:
        flat = extra["transition_flatness"]
        ok = FLAT_GOAL.met(flat)
        rows.append(
            f"{'transition_us_100k / transition_us_1k':<38}{_fmt(flat):>12}"
            f"  flat: goal {FLAT_GOAL}: {'met' if ok else 'NOT met'}"
        )
    more = ("bare_aiohttp_p99_ms", "pytest_httpserver_p99_ms", "poll_rps_asyncio",
            "poll_p99_ms_asyncio", "uvloop_speedup", "aiohttp_floor_uvloop_rps",
            "poll_ratio_vs_aiohttp_floor_uvloop", "aiohttp_floor_uvloop_vs_wiremock_warm",
            "contract_search_examples_per_s",
            "source_search_p50_ms", "source_search_qps", "source_search_wall_p99_ms",
            "source_search_content_p50_ms", "source_search_content_p99_ms",
            "source_search_content_qps", "source_search_http_p50_ms",
            "source_search_http_p99_ms", "source_search_http_rps",
            "source_search_http_cpu_ms",
            "dashboard_first_render_cold_ms", "dashboard_update_delay_ms",
            "dashboard_job_page_delay_ms", "dashboard_job_list_ms",
            "workflow_examples_per_cpu_s", "check_cli_examples", "check_cli_median_seconds",
            "check_cli_start_up_seconds",
            "entity_list_rps", "entity_list_p99_ms", "entity_list_bare_rps",
            "entity_list_ratio_vs_bare_encoded", "entity_list_first_ms")  # fmt: skip
    for k in more:
        if extra.get(k) is not None:
            rows.append(f"{k:<38}{_fmt(extra[k]):>12}")
    if "loadgen" in extra:
        rows.append(f"load generator: {extra['loadgen']}, {extra['poll_rounds']} round(s)")
    if "fixture_measured" in extra:
        rows.append(f"fixture measured as: {extra['fixture_measured']}")
    return "\n".join(rows)


def render_markdown(fig: dict[str, Any], extra: dict[str, Any], quick: bool) -> str:
    rows = ["| figure | value | baseline / goal | verdict |", "| --- | ---: | --- | --- |"]
    for k in KEYS:
        goal = GOALS.get(k)
        met = goal.met(fig[k]) if goal else None
        verdict = "" if goal is None else ("not measured" if met is None else
                                           ("met" if met else "**not met**"))  # fmt: skip
        what = f"goal {goal}" if goal else BASELINES.get(k, "")
        value = _fmt(fig[k])
        if fig[k] is None and k in extra["notes"]:
            value += f" ({extra['notes'][k]})"
        rows.append(f"| `{k}` | {value} | {what} | {verdict} |")
    return "\n".join(rows)


def machine() -> str:
    import os

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPU(s) {model}, "
        f"Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="< 2 minutes: shorter rounds, 20k jobs")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    ap.add_argument("--markdown", action="store_true", help="also print a markdown table")
    ap.add_argument(
        "--uvloop",
        action="store_true",
        help="also measure serve on asyncio's loop (--loop asyncio): its default is uvloop",
    )
    ap.add_argument("--loadgen", choices=["auto", "wrk", "aiohttp"], default="auto")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    fig, extra = run(quick=args.quick, loadgen=args.loadgen, uvloop=args.uvloop)
    print(
        f"plangrep-mock benchmarks, {time.strftime('%Y-%m-%d %H:%M')}, {machine()}, "
        f"{'quick' if args.quick else 'full'} run in {time.perf_counter() - started:.0f} s",
        file=sys.stderr if args.json else sys.stdout,
    )
    if args.markdown:
        print(
            render_markdown(fig, extra, args.quick), file=sys.stderr if args.json else sys.stdout
        )
    if args.json:
        print(render_table(fig, extra, args.quick), file=sys.stderr)
        print(json.dumps({k: fig[k] for k in KEYS}))
    else:
        print(render_table(fig, extra, args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
