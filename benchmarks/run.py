"""Measure plangrep-mock against named baselines, side by side, in one run.

    python benchmarks/run.py [--quick] [--json] [--markdown] [--uvloop]
                             [--loadgen auto|wrk|aiohttp]

Figures (the keys of `--json`, whose last printed line is one JSON object with exactly these):

  poll_rps, bare_aiohttp_rps, poll_ratio_vs_bare, poll_p99_ms        GET /jobs/{jobId}, 32 conns
  pytest_httpserver_rps, poll_ratio_vs_pytest_httpserver             same JSON, pytest-httpserver
  fixture_start_stop_ms, pytest_httpserver_start_stop_ms,
  fixture_speedup_vs_pytest_httpserver                               median of 20
  transition_us_1k, transition_us_100k                               statemachine.fire_job_event
  transitions_trigger_us_1k, transitions_trigger_us_100k             bare transitions trigger
  transition_ratio_vs_transitions                                    the worse of the two sizes
  simulate_jobs, simulate_seconds, simulate_jobs_per_s, simulate_peak_rss_mb
  webhook_deliveries_per_s                                           benchmarks/bench_webhooks.py
  contract_examples_per_s                                            check_client, reference client
  source_search_p99_ms                 SourceIndex.search, 10k regions + 1k spec sections, one core
  receiver_probes_per_s                                              check_receiver, aiohttp app
  entity_list_ratio_vs_bare                                          sheets?limit=100 of 10,000

A figure that cannot be measured (a part not built yet) is null, and the table says why. Every
requests/s figure of one run comes from the same load generator (wrk if on PATH). `--quick`
(< 3 minutes on 2 cores) runs fewer rounds and 20k simulated jobs instead of 100k. Progress goes
to stderr. Speed is never asserted in tests; it is measured here.
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

__all__ = ["GOALS", "KEYS", "Goal", "main", "render_markdown", "render_table", "run"]

KEYS: tuple[str, ...] = (
    "poll_rps",
    "bare_aiohttp_rps",
    "poll_ratio_vs_bare",
    "poll_p99_ms",
    "pytest_httpserver_rps",
    "poll_ratio_vs_pytest_httpserver",
    "fixture_start_stop_ms",
    "pytest_httpserver_start_stop_ms",
    "fixture_speedup_vs_pytest_httpserver",
    "transition_us_1k",
    "transition_us_100k",
    "transitions_trigger_us_1k",
    "transitions_trigger_us_100k",
    "transition_ratio_vs_transitions",
    "simulate_jobs",
    "simulate_seconds",
    "simulate_jobs_per_s",
    "simulate_peak_rss_mb",
    "webhook_deliveries_per_s",
    "contract_examples_per_s",
    "source_search_p99_ms",
    "receiver_probes_per_s",
    "entity_list_ratio_vs_bare",
)


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


# Issue 7's goals. The 10,000 jobs/s and 300 MB goals are for 100k jobs (a full run).
GOALS: dict[str, Goal] = {
    "poll_ratio_vs_bare": Goal(">=", 0.8),
    "poll_ratio_vs_pytest_httpserver": Goal(">=", 3),
    "fixture_speedup_vs_pytest_httpserver": Goal(">=", 20),
    "transition_ratio_vs_transitions": Goal("<=", 1.5),
    "simulate_jobs_per_s": Goal(">=", 10_000),
    "simulate_peak_rss_mb": Goal("<=", 300),
    "webhook_deliveries_per_s": Goal(">=", 1_000),
    "contract_examples_per_s": Goal(">=", 50),
    "source_search_p99_ms": Goal("<=", 20),  # issue 14, on one core
    "receiver_probes_per_s": Goal(">=", 200),
    "entity_list_ratio_vs_bare": Goal(">=", 0.8),  # issue 13
}
FLAT_GOAL = Goal("<=", 1.5)  # transition_us_100k / transition_us_1k: "flat from 1k to 100k"

BASELINES: dict[str, str] = {
    "poll_rps": "plangrep-mock serve --polling off, GET /jobs/{jobId} of a processing job",
    "bare_aiohttp_rps": "minimal aiohttp app, same bearer check, same JSON",
    "pytest_httpserver_rps": "pytest-httpserver serving the same JSON",
    "fixture_start_stop_ms": "plangrep_mock fixture: PlangrepMock().start() + stop()",
    "pytest_httpserver_start_stop_ms": "HTTPServer(port=0).start() + stop()",
    "transition_us_1k": "statemachine.fire_job_event, 1,000 live jobs",
    "transition_us_100k": "statemachine.fire_job_event, 100,000 live jobs",
    "transitions_trigger_us_1k": "transitions: shared Machine(model=None), events[e].trigger",
    "transitions_trigger_us_100k": "the same at 100,000 live objects",
    "simulate_jobs": "simulate(N, scenario='random', seed=1), child process on one core",
    "webhook_deliveries_per_s": "signed deliveries to a local aiohttp receiver",
    "contract_examples_per_s": "check_client(wait_for_job), whole call incl. server start",
    "source_search_p99_ms": "CPU ms per query, 400 varied queries x 3, 16k chunks, 1 core",
    "receiver_probes_per_s": "check_receiver against a local aiohttp receiver (own process)",
    "entity_list_ratio_vs_bare": "sheets?limit=100 of 10,000 vs aiohttp answering the same JSON",
}


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
        budget = 200_000 if quick else 1_000_000
        small = measure_transitions(1_000, min_transitions=budget)
        large = measure_transitions(100_000, min_transitions=budget)
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
    step("simulate", simulation, *[k for k in KEYS if k.startswith("simulate")])

    # -- HTTP -----------------------------------------------------------------------------------
    def polling() -> None:
        from benchmarks.bench_server import PollFigures, measure_polling

        p = measure_polling(
            seconds=3 if quick else 4,
            warmup=1,
            rounds=2 if quick else 5,
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
            extra["poll_rps_uvloop"] = PollFigures.median_rps(p.mock_uvloop)
            extra["poll_p99_ms_uvloop"] = PollFigures.median_p99(p.mock_uvloop)
            extra["uvloop_speedup"] = PollFigures.median_ratio(p.mock_uvloop, p.mock)

    def fixture() -> None:
        from benchmarks.bench_fixture import measure_start_stop

        d = measure_start_stop(20)
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

    step("GET /jobs/{jobId} requests/s", polling, *[k for k in KEYS if k.startswith("poll")],
         "bare_aiohttp_rps", "pytest_httpserver_rps")  # fmt: skip
    step("fixture start + stop", fixture, "fixture_start_stop_ms",
         "pytest_httpserver_start_stop_ms", "fixture_speedup_vs_pytest_httpserver")  # fmt: skip
    step("webhook deliveries", webhooks, "webhook_deliveries_per_s")

    def receiver() -> None:
        from benchmarks.bench_receiver import measure_receiver

        d = measure_receiver(30 if quick else 100)
        fig["receiver_probes_per_s"] = d["probes_per_s"]
        extra["receiver_probes"] = d["probes"]

    step("contract kit", contract, "contract_examples_per_s")
    step("source search", search, "source_search_p99_ms")
    step("receiver checker", receiver, "receiver_probes_per_s")

    def entities() -> None:
        from benchmarks.bench_entities import measure_entity_list
        from benchmarks.bench_server import PollFigures

        e = measure_entity_list(seconds=3 if quick else 4, rounds=2 if quick else 4,
                                tool=loadgen, log=lambda s: log("   " + s))  # fmt: skip
        fig["entity_list_ratio_vs_bare"] = e.ratio
        extra["entity_list_rps"] = PollFigures.median_rps(e.mock)
        extra["entity_list_p99_ms"] = PollFigures.median_p99(e.mock)
        extra["entity_list_bare_rps"] = PollFigures.median_rps(e.bare)
        extra["entity_list_ratio_vs_bare_encoded"] = e.ratio_encoded
        extra["entity_list_first_ms"] = e.first_ms

    step("project entity list", entities, "entity_list_ratio_vs_bare")
    return fig, extra


# -- output -------------------------------------------------------------------------------------


def _fmt(x: Any) -> str:
    if x is None:
        return "null"
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
    note = " (goal is for 100k jobs)" if quick and key.startswith("simulate") else ""
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
    more = ("bare_aiohttp_p99_ms", "pytest_httpserver_p99_ms", "poll_rps_uvloop",
            "poll_p99_ms_uvloop", "uvloop_speedup", "contract_search_examples_per_s",
            "source_search_p50_ms", "source_search_qps", "source_search_wall_p99_ms",
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
    ap.add_argument("--quick", action="store_true", help="< 3 minutes: fewer rounds, 20k jobs")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    ap.add_argument("--markdown", action="store_true", help="also print a markdown table")
    ap.add_argument("--uvloop", action="store_true", help="also measure serve on uvloop")
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
