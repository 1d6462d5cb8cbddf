"""`simulate` in shards and worker processes (`--workers N`, issue 19).

Shards are small here (`shard_jobs=`) so that a run of a few thousand jobs has several; the CLI
always uses `SHARD_JOBS`."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from statemachine import UnknownScenario, simulate
from statemachine.simulation import (
    SHARD_JOBS,
    _percentile,
    merge_shards,
    shard_plan,
    shard_seed,
    simulate_shard,
)

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "simulate", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def cpus() -> int:
    return (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


# -- the plan --------------------------------------------------------------------------------


def test_the_plan_cuts_jobs_into_shards_of_the_shard_size() -> None:
    plan = shard_plan(2500, seed=7, shard_jobs=1000)
    assert [s.jobs for s in plan] == [1000, 1000, 500]
    assert [s.index for s in plan] == [0, 1, 2]
    assert plan[0].seed == 7  # shard 0 is the unsharded run's seed
    assert len({s.seed for s in plan}) == 3
    assert [s.jobs for s in shard_plan(SHARD_JOBS, seed=1)] == [SHARD_JOBS]
    assert [s.jobs for s in shard_plan(0, seed=1)] == [0]
    with pytest.raises(ValueError, match="jobs must be >= 0"):
        shard_plan(-1, seed=1)


def test_shard_seeds_do_not_depend_on_the_process_hash_salt() -> None:
    code = (
        "from statemachine.simulation import shard_seed; print(shard_seed(5, 1), shard_seed(5, 9))"
    )
    outs = set()
    for salt in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": salt}
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO
        )
        assert out.returncode == 0, out.stderr
        outs.add(out.stdout)
    assert outs == {f"{shard_seed(5, 1)} {shard_seed(5, 9)}\n"}


# -- the report ------------------------------------------------------------------------------


def test_a_run_of_one_shard_is_the_unsharded_run() -> None:
    whole = simulate(800, scenario="random", seed=3)
    alone = simulate_shard(shard_plan(800, seed=3)[0], scenario="random").report
    assert whole.to_json() == alone.to_json()
    assert "shards" not in json.loads(whole.to_json())


def test_the_merged_report_adds_up_its_shards() -> None:
    plan = shard_plan(2500, seed=1, shard_jobs=1000)
    parts = [simulate_shard(s, scenario="random") for s in plan]
    merged = simulate(2500, scenario="random", seed=1, shard_jobs=1000)
    reports = [p.report for p in parts]
    assert merged.jobs == 2500 == sum(r.jobs for r in reports)
    assert merged.shards == 3 and json.loads(merged.to_json())["shards"] == 3
    assert sum(merged.terminal.values()) == 2500
    for status, n in merged.terminal.items():
        assert n == sum(r.terminal[status] for r in reports)
    events = {e for r in reports for e in r.transitions}
    assert merged.transitions == {e: sum(r.transitions.get(e, 0) for r in reports) for e in
                                  sorted(events)}  # fmt: skip
    for attr in ("pages", "successful_pages", "credits_debited", "top_ups"):
        assert getattr(merged, attr) == sum(getattr(r, attr) for r in reports), attr
    assert merged.virtual_seconds == max(r.virtual_seconds for r in reports)
    every = sorted(d for p in parts for d in p.durations)
    assert len(every) == 2500
    assert merged.time_to_terminal_s == {
        "p50": _percentile(every, 0.5),
        "p90": _percentile(every, 0.9),
        "p99": _percentile(every, 0.99),
    }
    # and the shards differ: each has its own seed
    assert len({r.to_json() for r in reports[:2]}) == 2


def test_workers_give_the_one_process_report_byte_for_byte() -> None:
    one = simulate(3500, scenario="random", seed=2, shard_jobs=1000)
    seen: list[int] = []
    two = simulate(
        3500, scenario="random", seed=2, shard_jobs=1000, workers=2, progress=seen.append
    )
    again = simulate(3500, scenario="random", seed=2, shard_jobs=1000, workers=2)
    assert two.to_json() == one.to_json() == again.to_json()
    assert two.to_table() == one.to_table()
    assert len(two.extra["peak_rss_kb"]) == 2  # two worker processes did the work
    assert os.getpid() not in two.extra["peak_rss_kb"]
    assert seen == sorted(seen) and seen[-1] == 3500
    # another seed is another run
    assert simulate(3500, scenario="random", seed=3, shard_jobs=1000, workers=2).to_json() != (
        two.to_json()
    )


def test_merge_of_one_result_is_that_result() -> None:
    part = simulate_shard(shard_plan(300, seed=4)[0], scenario="happy")
    assert merge_shards([part], jobs=300, scenario="happy", seed=4) is part.report


def test_bad_workers_and_unknown_scenarios_fail_in_the_caller() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        simulate(10, workers=0)
    with pytest.raises(UnknownScenario, match="unknown scenario 'nope'"):
        simulate(3000, scenario="nope", shard_jobs=1000, workers=2)


# -- the command -----------------------------------------------------------------------------


@pytest.mark.parametrize("workers", ["0", "-1", str(cpus() + 1)])
def test_cli_refuses_a_bad_worker_count(workers: str) -> None:
    out = run_cli("--jobs", "10", "--workers", workers)
    assert out.returncode == 2
    assert f"--workers must be between 1 and {cpus()}" in out.stderr
    assert f"got {workers}" in out.stderr
    assert out.stdout == ""


def test_cli_workers_do_not_change_the_report_and_print_nothing_else() -> None:
    one = run_cli("--jobs", "1500", "--scenario", "random", "--seed", "1", "--json")
    many = run_cli(
        "--jobs", "1500", "--scenario", "random", "--seed", "1", "--json", "--workers", str(cpus())
    )
    assert one.returncode == many.returncode == 0, one.stderr + many.stderr
    assert one.stdout == many.stdout == simulate(1500, scenario="random", seed=1).to_json() + "\n"
    # stderr is a pipe here, not a terminal: no progress bar, nothing at all
    assert one.stderr == many.stderr == ""


def _stderr_on_a_terminal(*args: str) -> str:
    """Run simulate with stderr on a pseudo-terminal; what it wrote there."""
    master, slave = pty.openpty()
    # a terminal 100 columns wide (a fresh pseudo-terminal has no size, as no window shows it)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "simulate", *args],
            stdout=subprocess.DEVNULL,
            stderr=slave,
            cwd=REPO,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        assert proc.wait(timeout=120) == 0
    finally:
        os.close(master)
    return b"".join(chunks).decode(errors="replace")


def test_cli_shows_a_progress_bar_on_a_terminal_unless_quiet() -> None:
    shown = _stderr_on_a_terminal("--jobs", "3000", "--scenario", "random")
    assert "3.00k/3.00k" in shown and "jobs" in shown
    assert _stderr_on_a_terminal("--jobs", "3000", "--scenario", "random", "--quiet") == ""
