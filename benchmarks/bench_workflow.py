"""`check_workflow` examples per second on the reference workflow (`submit_workflow`).

The figure is examples over the wall time of the whole `check_workflow` call, as a user waits for
it: the in-process server's start and stop included, canonical plans included, faults on (the
default), fixed seed. The CPU time of the process (both threads) is reported beside it: on a
loaded machine the wall figure falls, the CPU figure does not. Runs in a child process:
`python -m benchmarks.bench_workflow [MAX_EXAMPLES]` prints JSON.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.child import run_child

__all__ = ["measure_workflow", "time_workflow"]


def time_workflow(max_examples: int = 100, seed: int = 1) -> dict[str, float]:
    from mock_server.client import submit_workflow
    from mock_server.contract import check_workflow

    t0, c0 = time.perf_counter(), time.process_time()
    report = check_workflow(submit_workflow, max_examples=max_examples, seed=seed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "examples": report.examples,
        "seconds": wall,
        "cpu_seconds": cpu,
        "examples_per_s": report.examples / wall,
        "examples_per_cpu_s": report.examples / cpu,
        "search_examples_per_s": report.examples_per_second,
    }


def measure_workflow(max_examples: int = 100) -> dict[str, float]:
    data: dict[str, float] = run_child(
        [sys.executable, "-m", "benchmarks.bench_workflow", str(max_examples)]
    )
    return data


if __name__ == "__main__":
    print(json.dumps(time_workflow(int(sys.argv[1]) if len(sys.argv) > 1 else 100)))
