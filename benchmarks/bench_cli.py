"""`plangrep-mock check -- CMD`: wall seconds per example, and false alarms of a right client.

    python -m benchmarks.bench_cli [EXAMPLES]                 # seconds per example (JSON)
    python -m benchmarks.bench_cli false-alarms [EXAMPLES]    # a 5 s client, --faults (JSON)

The program is the Node client of tests/cli/clients/wait_for_job.mjs (global fetch, sleeps
divided by PLANGREP_TIME_SCALE; polls every 15 s, honours Retry-After), in poll mode at the
default time scale, with a fixed seed. `plangrep-mock check` runs as a child process, as CI runs
it; the figure is its JSON report's mean wall seconds per example: the program's start-up,
its polls and its exit included, hypothesis's draws and the server's start not.

The false-alarm run has the same client poll every 5 s (Plangrep's floor, exactly), with
transient faults (429/503 with Retry-After, 500, slow answers): every example it fails is a
false alarm. Its rate is reported in docs/ci.md; it takes minutes, so it is not part of
benchmarks/run.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["CLIENT", "measure_check_cli", "measure_false_alarms"]

REPO = Path(__file__).resolve().parent.parent
CLIENT = REPO / "tests" / "cli" / "clients" / "wait_for_job.mjs"


def _check(
    examples: int, seed: int, *, faults: bool, poll_seconds: int | None
) -> tuple[int, dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH: the benchmark runs a Node client")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    if poll_seconds is not None:
        env["POLL_SECONDS"] = str(poll_seconds)
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        report = Path(tmp) / "check.json"
        argv = [sys.executable, "-m", "mock_server", "check", "-q", "--examples", str(examples),
                "--seed", str(seed), "--json", str(report)]  # fmt: skip
        if faults:
            argv.append("--faults")
        done = subprocess.run(
            [*argv, "--", node, str(CLIENT)], capture_output=True, text=True, env=env, cwd=REPO
        )
        if done.returncode == 2 or not report.exists():
            raise RuntimeError(f"plangrep-mock check could not run: {done.stderr.strip()[-500:]}")
        data: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return done.returncode, data


def measure_check_cli(examples: int = 20, seed: int = 1) -> dict[str, Any]:
    """Mean wall seconds per example of the 15 s Node client (the canonical examples, one per
    path of the job machine, and `examples` drawn ones)."""
    code, data = _check(examples, seed, faults=False, poll_seconds=None)
    if code != 0:
        raise RuntimeError("the benchmark's right client failed a check: " + json.dumps(
            [e["message"] for e in data["examples"] if e["status"] == "failed"][:3]))  # fmt: skip
    stats = data["stats"]
    # how long the program took to make its first request (Node's start-up, mostly)
    firsts = [e["details"]["requests"][0]["wall"] for e in data["examples"]]
    return {
        "seconds_per_example": stats["wallSecondsPerExample"],
        "start_up_seconds": round(sum(firsts) / len(firsts), 4),
        "median_seconds": stats["wallSecondsMedian"],
        "max_seconds": stats["wallSecondsMax"],
        "examples": stats["examples"],
        "time_scale": stats["timeScale"],
    }


def measure_false_alarms(examples: int = 200, seed: int = 2024) -> dict[str, Any]:
    """A right client polling every 5 s, with faults, over `examples` examples in all (the
    canonical ones included): how many it fails."""
    drawn = max(0, examples - 22)  # 21 canonical paths and the canonical plan with faults
    _, data = _check(drawn, seed, faults=True, poll_seconds=5)
    stats = data["stats"]
    failed = [e for e in data["examples"] if e["status"] == "failed"]
    return {
        "examples": stats["examples"],
        "false_alarms": len(failed),
        "false_alarm_rate": len(failed) / stats["examples"],
        "polls_judged": next(r["checks"] for r in data["rules"] if r["id"] == "polling_too_fast"),
        "closest_polls_seconds": stats["closestPollsSeconds"],
        "tolerance_seconds": stats["toleranceSeconds"],
        "time_scale": stats["timeScale"],
        "seconds_per_example": stats["wallSecondsPerExample"],
        "failures": [f"{e['name']}: [{e['rule']}] {e['message']}" for e in failed[:5]],
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "false-alarms":
        print(json.dumps(measure_false_alarms(*(int(a) for a in args[1:2]))))
    else:
        print(json.dumps(measure_check_cli(*(int(a) for a in args[:1]))))
