from __future__ import annotations

import json
import subprocess
import sys

import pytest

from statemachine import simulate


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "simulate", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_random_reaches_every_terminal_status_and_is_deterministic() -> None:
    a = run_cli("--jobs", "3000", "--scenario", "random", "--seed", "1", "--json")
    b = run_cli("--jobs", "3000", "--scenario", "random", "--seed", "1", "--json")
    assert a.returncode == 0, a.stderr
    assert a.stdout == b.stdout
    report = json.loads(a.stdout)
    assert report["jobs"] == 3000
    assert set(report["terminal"]) == {
        "completed",
        "completed_with_errors",
        "failed",
        "cancelled",
        "expired",
    }
    assert all(n > 0 for n in report["terminal"].values()), report["terminal"]
    assert sum(report["terminal"].values()) == 3000
    assert set(report["time_to_terminal_s"]) == {"p50", "p90", "p99"}
    t = report["time_to_terminal_s"]
    assert 0 < t["p50"] <= t["p90"] <= t["p99"]
    assert report["transitions"]["provision"] == 3000
    assert report["successful_pages"] <= report["pages"]


def test_another_seed_gives_another_run() -> None:
    assert (
        simulate(500, scenario="random", seed=1).to_json()
        != simulate(500, scenario="random", seed=2).to_json()
    )


def test_table_output_and_errors() -> None:
    out = run_cli("--jobs", "50", "--scenario", "with_errors")
    assert out.returncode == 0
    assert "completed_with_errors" in out.stdout and "time to terminal" in out.stdout
    bad = run_cli("--jobs", "5", "--scenario", "nope")
    assert bad.returncode == 2 and "unknown scenario 'nope'; known scenarios:" in bad.stderr
    neg = run_cli("--jobs", "-1")
    assert neg.returncode == 2 and "--jobs must be >= 0" in neg.stderr


@pytest.mark.parametrize("scenario", ["happy", "expensive", "runs_dry", "preflight_fails"])
def test_each_builtin_simulates_to_terminal(scenario: str) -> None:
    report = simulate(200, scenario=scenario, seed=3)
    assert sum(report.terminal.values()) == 200


def test_the_run_collects_less_often_and_puts_the_thresholds_back() -> None:
    import gc

    seen: list[tuple[int, int, int]] = []
    old = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        simulate(
            50, scenario="random", seed=1, progress=lambda _n: seen.append(gc.get_threshold())
        )
        simulate(
            1000, scenario="random", seed=1, progress=lambda _n: seen.append(gc.get_threshold())
        )
        assert seen == [(100_000, 10, 10)]  # during the run (progress is called every 1000 jobs)
        assert gc.get_threshold() == (700, 10, 10)  # and restored after
        gc.disable()  # a caller that turned collection off keeps it off
        simulate(
            1000, scenario="random", seed=1, progress=lambda _n: seen.append(gc.get_threshold())
        )
        assert not gc.isenabled() and seen[-1] == (700, 10, 10)
    finally:
        gc.enable()
        gc.set_threshold(*old)


def test_the_docs_sample_is_what_simulate_prints() -> None:
    # the sample moved from README.md to docs/simulation.md: the command's block, then the
    # expected output that the docs' example runner also checks by running the CLI
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "simulation.md"
    shown = re.search(
        r"^plangrep-mock simulate --jobs 2000 --scenario random --seed 1 --json\n```\n\n"
        r"<!-- expected-output -->\n```text\n(.*)\n```$",
        page.read_text(encoding="utf-8"),
        re.M,
    )
    assert shown is not None, "docs/simulation.md lost the simulate sample"
    assert shown[1] == simulate(2000, scenario="random", seed=1).to_json()
