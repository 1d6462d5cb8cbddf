"""`check_client` examples per second on the reference client (`mock_server.client.wait_for_job`).

The figure is examples over the wall time of the whole `check_client` call, as a user waits for it:
the in-process server's start and stop included, canonical plans included, no faults, fixed seed.
Runs in a child process: `python -m benchmarks.bench_contract [MAX_EXAMPLES]` prints JSON.
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks.child import run_child

__all__ = ["measure_contract", "time_contract"]


def time_contract(max_examples: int = 100, seed: int = 1) -> dict[str, float]:
    from mock_server.client import wait_for_job
    from mock_server.contract import check_client

    t0 = time.perf_counter()
    report = check_client(wait_for_job, max_examples=max_examples, seed=seed)
    wall = time.perf_counter() - t0
    return {
        "examples": report.examples,
        "seconds": wall,
        "examples_per_s": report.examples / wall,
        "search_examples_per_s": report.examples_per_second,
    }


def measure_contract(max_examples: int = 100) -> dict[str, float]:
    data: dict[str, float] = run_child(
        [sys.executable, "-m", "benchmarks.bench_contract", str(max_examples)]
    )
    return data


if __name__ == "__main__":
    print(json.dumps(time_contract(int(sys.argv[1]) if len(sys.argv) > 1 else 100)))
