"""Run a simulation's shards in worker processes (`simulate(..., workers=N)`).

The shards are planned before any process starts (statemachine/simulation.py: by job count and
seed only) and each shard's result depends only on the shard, so where a shard runs and in which
order the shards finish change nothing: the results are put back in shard order and merged.
Workers take shards from one queue as they become free, so unequal shards still share the cores.

Processes come from a fork server where there is one (Linux, macOS; Python 3.14's default on
Linux), else are spawned (Windows): either way a worker inherits nothing from the caller (its
threads, its collector settings, a half-built engine), and starting one is cheap after the
first. As with any multiprocessing start method but "fork", a script that calls
`simulate(..., workers=N)` at import time needs the `if __name__ == "__main__":` guard.

A shared counter carries progress: each worker adds its jobs done every 1,000 or so, and the
calling process reads it four times a second.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from .scenarios import ScenarioRegistry
from .simulation import Shard, ShardResult, simulate_shard

__all__ = ["run_shards"]

_POLL_SECONDS = 0.25

# the worker's handle on the shared progress counter, set once per process by _init
_counter: Any = None


def _init(counter: Any) -> None:
    global _counter
    _counter = counter


def _run(shard: Shard, scenario: str, scenarios: ScenarioRegistry | None) -> ShardResult:
    reported = 0

    def progress(done: int) -> None:
        nonlocal reported
        with _counter.get_lock():
            _counter.value += done - reported
        reported = done

    result = simulate_shard(shard, scenario=scenario, scenarios=scenarios, progress=progress)
    progress(shard.jobs)
    return result


def run_shards(
    plan: Sequence[Shard],
    *,
    workers: int,
    scenario: str,
    scenarios: ScenarioRegistry | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[ShardResult]:
    """Each shard's result, in shard order, computed in up to `workers` processes."""
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    counter = ctx.Value("q", 0)
    results: dict[int, ShardResult] = {}
    with ProcessPoolExecutor(
        max_workers=min(workers, len(plan)), mp_context=ctx, initializer=_init, initargs=(counter,)
    ) as pool:
        pending: dict[Future[ShardResult], int] = {
            pool.submit(_run, shard, scenario, scenarios): shard.index for shard in plan
        }
        try:
            while pending:
                done, _ = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
                for fut in done:
                    results[pending.pop(fut)] = fut.result()
                if progress is not None:
                    progress(int(counter.value))
        except BaseException:  # Ctrl-C or a failed shard: start no more shards
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [results[shard.index] for shard in plan]
