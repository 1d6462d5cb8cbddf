"""`simulate`: many jobs end to end in virtual time, driven by a simulated integrator, no HTTP.

The integrator creates jobs in a few projects (arrivals ~50 per virtual second), uploads one to
three files, completes uploads, and then behaves as integrators do: most wait; some abandon a job
before uploading (it expires after its TTL); some cancel while the job runs; when a job blocks for
credits most top the organisation up and resume after a while, the rest never do (it expires).
The same seed gives the same report, byte for byte.

A run of more than `SHARD_JOBS` jobs is cut into shards of at most that many jobs, each an
independent world (its own engine, projects, four organisations with their own credits, and its
own virtual timeline from the same origin) with a seed derived from (seed, shard index); shard 0
uses the seed itself, so a run of up to `SHARD_JOBS` jobs is one shard and exactly the unsharded
run. The report merges the shards: counts add up, the time-to-terminal percentiles are those of
every job's duration, the virtual time is the longest shard's. The plan depends only on the job
count and the seed, never on how many processes run it: `workers` (the worker processes are at
the end of this module) only decides where the shards run, so any number of workers gives the
same report, byte for byte.
"""

from __future__ import annotations

import gc
import hashlib
import heapq
import json
import math
import multiprocessing
import random
from array import array
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .billing import DEFAULT_CREDITS
from .clock import Clock
from .engine import Engine, FileSpec, Job, Project, TransitionRecord
from .scenarios import DEFAULT_SCENARIO, ScenarioRegistry
from .statuses import TERMINAL_STATUSES, JobStatus

__all__ = [
    "SHARD_JOBS",
    "Shard",
    "ShardResult",
    "SimulationReport",
    "merge_shards",
    "run_shards",
    "shard_plan",
    "simulate",
    "simulate_shard",
]

SIM_ORIGIN = 1730538000.0  # 2024-11-02T09:00:00.000Z, the docs' example time
ARRIVALS_PER_SECOND = 50.0
JOBS_PER_PROJECT = 1000
ORGS = 4
RUN_STEP_SECONDS = 1.0
CLASSIFICATIONS = ("plans", "specifications", "documents", "addenda", "mixed", "other", None)
_FILE_NAMES = ("doc0.pdf", "doc1.pdf", "doc2.pdf")  # one to three files a job
# Jobs per shard. Large enough that a shard is a busy world (100 projects, the organisations'
# credits run dry and get topped up) and that every run the benchmarks and docs show (up to
# 100,000 jobs) is a single shard; small enough that a 1,000,000-job run is ten shards, which
# two to ten processes share evenly, and that memory is bounded by one shard per process.
SHARD_JOBS = 100_000


@dataclass
class SimulationReport:
    jobs: int
    scenario: str
    seed: int
    terminal: dict[str, int]
    time_to_terminal_s: dict[str, float]
    transitions: dict[str, int]
    pages: int
    successful_pages: int
    credits_debited: int
    top_ups: int
    virtual_seconds: float
    shards: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        # "shards" appears only for a sharded run, so a one-shard report reads as it always has
        shards = {"shards": self.shards} if self.shards > 1 else {}
        return {
            "jobs": self.jobs,
            "scenario": self.scenario,
            "seed": self.seed,
            "terminal": self.terminal,
            "time_to_terminal_s": self.time_to_terminal_s,
            "transitions": self.transitions,
            "pages": self.pages,
            "successful_pages": self.successful_pages,
            "credits_debited": self.credits_debited,
            "top_ups": self.top_ups,
            "virtual_seconds": self.virtual_seconds,
            **shards,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    def to_table(self) -> str:
        head = f"simulated {self.jobs} jobs, scenario {self.scenario}, seed {self.seed}"
        if self.shards > 1:
            head += f", in {self.shards} shards"
        lines = [head, ""]
        lines.append(f"{'terminal status':<24}{'jobs':>10}{'share':>9}")
        for status, n in self.terminal.items():
            lines.append(f"{status:<24}{n:>10}{n / max(self.jobs, 1):>9.1%}")
        lines.append("")
        lines.append(
            "time to terminal (virtual s): "
            + "  ".join(f"{k} {v:.1f}" for k, v in self.time_to_terminal_s.items())
        )
        lines.append("")
        lines.append(f"{'event':<24}{'transitions':>12}")
        for event, n in self.transitions.items():
            lines.append(f"{event:<24}{n:>12}")
        lines.append("")
        lines.append(
            f"pages {self.pages}, successful pages {self.successful_pages}, "
            f"credits debited {self.credits_debited}, top-ups {self.top_ups}, "
            f"virtual time {self.virtual_seconds:.1f} s"
        )
        return "\n".join(lines)


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return round(sorted_values[k], 3)


_BLOCKED = JobStatus.BLOCKED_INSUFFICIENT_CREDITS
_UPLOAD_WINDOW = (JobStatus.AWAITING_UPLOADS, JobStatus.UPLOADING)
_UPLOADING = JobStatus.UPLOADING


class _Integrator:
    def __init__(
        self,
        engine: Engine,
        rng: random.Random,
        n_jobs: int,
        scenario: str,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.engine = engine
        self.rng = rng
        self.n_jobs = n_jobs
        self.scenario = engine.scenarios.get(scenario)
        self.progress = progress
        self.created = 0
        self.done = 0
        self.projects: list[Project] = []
        self.durations: list[float] = []
        self.terminal: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.pages = 0
        self.successful = 0
        self.debited = 0
        self.top_ups = 0
        self.gives_up: set[str] = set()
        self.last_at = engine.now  # virtual time of the latest terminal transition
        engine.subscribe(self.on_transition)
        for i in range(-(-n_jobs // JOBS_PER_PROJECT)):
            project, _ = engine.create_project(f"org_sim_{i % ORGS}", f"sim-{i}")
            self.projects.append(project)

    # events scheduled on the engine's heap call these as fn(obj, arg)

    # One rng.random() per decision: uniform(a, b) is a + (b - a) * random() written out, and
    # integers and choices index by int(n * random()); the simulation draws a dozen per job.

    def arrive(self, _obj: Any, _arg: int) -> None:
        random = self.rng.random
        engine = self.engine
        project = self.projects[self.created // JOBS_PER_PROJECT]
        job = engine.create_job(project, scenario=self.scenario, external_id=f"sim-{self.created}")
        self.created += 1
        now = engine.now
        roll = random()
        if roll < 0.03:
            pass  # abandoned before upload: expires after its TTL
        else:
            if roll < 0.08:
                engine.schedule(now + 2.0 + 118.0 * random(), self.cancel, job)
            if random() < 0.3:
                self.gives_up.add(job.id)
            engine.schedule(now + 0.05 + 1.95 * random(), self.upload, job)
        if self.created < self.n_jobs:
            gap = self.rng.expovariate(ARRIVALS_PER_SECOND)
            engine.schedule(now + gap, self.arrive, None)

    def upload(self, job: Job, _arg: int) -> None:
        if job.state not in _UPLOAD_WINDOW:
            return
        random = self.rng.random
        specs = [
            FileSpec(
                _FILE_NAMES[i],
                20_000 + int(1_480_001 * random()),
                classification=CLASSIFICATIONS[int(len(CLASSIFICATIONS) * random())],
            )
            for i in range(1 + int(3 * random()))
        ]
        engine = self.engine
        engine.add_files(job, specs)
        engine.schedule(engine.now + 0.05 + 0.95 * random(), self.complete, job)

    def complete(self, job: Job, _arg: int) -> None:
        if job.state == _UPLOADING:
            self.engine.complete_uploads(job)

    def cancel(self, job: Job, _arg: int) -> None:
        if job.state not in TERMINAL_STATUSES and not job.cancel_pending:
            self.engine.cancel(job)

    def top_up_and_resume(self, job: Job, _arg: int) -> None:
        if job.state != _BLOCKED:
            return
        acct = self.engine.account(job.org)
        self.engine.set_balance(job.org, acct.balance + DEFAULT_CREDITS)
        self.top_ups += 1
        self.engine.resume(job)

    def on_transition(self, rec: TransitionRecord, obj: Job | Project) -> None:
        if rec.kind != "job":
            return
        self.events[rec.event] += 1
        job = obj
        assert isinstance(job, Job)
        dst = rec.dst
        if dst == _BLOCKED:
            if job.id not in self.gives_up:
                self.engine.schedule(
                    self.engine.now + self.rng.uniform(10, 600), self.top_up_and_resume, job
                )
        elif dst in TERMINAL_STATUSES:
            self.terminal[dst] += 1
            self.last_at = rec.at
            self.durations.append(rec.at - job.created_at)
            self.pages += job.page_count
            self.successful += job.successful_pages
            self.debited += job.credits_debited
            self.gives_up.discard(job.id)
            self.done += 1
            if self.progress is not None and self.done % 1000 == 0:
                self.progress(self.done)
            self.engine.forget(job)


@contextmanager
def _fewer_collections(threshold0: int = 100_000) -> Iterator[None]:
    """Collect the youngest generation every `threshold0` allocations instead of every 700 (the
    default), for the run only. A run allocates millions of short-lived objects (events, records,
    transitions' EventData) and almost no reference cycles: a 100k-job run frees under a thousand
    objects through the collector, yet collecting every 700 allocations took ~8% of it. Left as
    is when the caller has turned collection off or set a higher threshold."""
    old = gc.get_threshold()
    if not gc.isenabled() or old[0] == 0 or old[0] >= threshold0:
        yield
        return
    gc.set_threshold(threshold0, old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


@dataclass(frozen=True, slots=True)
class Shard:
    """One independent part of a run: its index, its number of jobs and its own seed."""

    index: int
    jobs: int
    seed: int


def shard_seed(seed: int, index: int) -> int:
    """Shard 0 runs on the seed itself; the others on a 63-bit hash of (seed, index), the same
    in every process and Python version (no `hash()`, which is salted per process)."""
    if index == 0:
        return seed
    digest = hashlib.sha256(f"plangrep-mock simulate {seed} {index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def shard_plan(jobs: int, seed: int, shard_jobs: int = SHARD_JOBS) -> list[Shard]:
    """Shards of `shard_jobs` jobs, the last one smaller; one shard (maybe empty) at least."""
    if jobs < 0:
        raise ValueError(f"jobs must be >= 0, got {jobs}")
    if shard_jobs < 1:
        raise ValueError(f"shard_jobs must be >= 1, got {shard_jobs}")
    count = max(1, -(-jobs // shard_jobs))
    return [
        Shard(i, min(shard_jobs, jobs - i * shard_jobs), shard_seed(seed, i)) for i in range(count)
    ]


@dataclass(frozen=True, slots=True)
class ShardResult:
    """A shard's report and its jobs' times to terminal, sorted (for exact merged percentiles),
    with the peak resident memory of the process that ran it (KiB, 0 where unknown)."""

    report: SimulationReport
    durations: array[float]
    pid: int
    peak_rss_kb: int


def _peak_rss_kb() -> int:
    """This process's peak resident memory in KiB: Linux's VmHWM, the peak of this process's
    own memory. `ru_maxrss` is the fallback elsewhere: Linux carries it across exec, so a child
    started by a large process reports that process's peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        import resource
    except ImportError:  # not on Windows
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def simulate_shard(
    shard: Shard,
    *,
    scenario: str = DEFAULT_SCENARIO,
    scenarios: ScenarioRegistry | None = None,
    progress: Callable[[int], None] | None = None,
) -> ShardResult:
    """Run one shard: `shard.jobs` jobs to a terminal status in virtual time."""
    import os

    jobs, seed = shard.jobs, shard.seed
    clock = Clock("manual", origin=SIM_ORIGIN)
    engine = Engine(clock, scenarios=scenarios, default_scenario=DEFAULT_SCENARIO, seed=seed)
    integrator = _Integrator(engine, random.Random(seed ^ 0x5EED), jobs, scenario, progress)
    if jobs:
        # the first job arrives once the projects are ready
        ready_at = clock.now() + engine.default_scenario.project_provisioning_delay
        engine.schedule(ready_at, integrator.arrive, None)
    # Fire events a virtual second at a time rather than one due time at a time (the loop costs
    # as much as an event). Once the last job is terminal, what is left of that second only
    # finds terminal jobs and does nothing; the clock figure is the last terminal transition's.
    with _fewer_collections():
        while integrator.done < jobs:
            nxt = engine.next_due()
            if nxt is None:
                break
            engine.run_until(nxt + RUN_STEP_SECONDS)
    integrator.durations.sort()
    d = integrator.durations
    report = SimulationReport(
        jobs=jobs,
        scenario=scenario,
        seed=seed,
        terminal={s: integrator.terminal.get(s, 0) for s in _TERMINAL_ORDER},
        time_to_terminal_s={
            "p50": _percentile(d, 0.5),
            "p90": _percentile(d, 0.9),
            "p99": _percentile(d, 0.99),
        },
        transitions=dict(sorted(integrator.events.items())),
        pages=integrator.pages,
        successful_pages=integrator.successful,
        credits_debited=integrator.debited,
        top_ups=integrator.top_ups,
        virtual_seconds=round(integrator.last_at - SIM_ORIGIN, 3),
    )
    return ShardResult(report, array("d", d), os.getpid(), _peak_rss_kb())


def _merged_percentiles(durations: Sequence[array[float]], qs: Sequence[float]) -> list[float]:
    """`_percentile` of all durations together, read off a merge of the sorted shards (no
    million-element list: the merge streams)."""
    n = sum(len(d) for d in durations)
    if not n:
        return [0.0 for _ in qs]
    ranks = [max(0, min(n - 1, math.ceil(q * n) - 1)) for q in qs]
    found: dict[int, float] = {}
    merged = heapq.merge(*durations)
    at, value = -1, 0.0
    for rank in sorted(set(ranks)):
        while at < rank:
            value = next(merged)
            at += 1
        found[rank] = value
    return [round(found[r], 3) for r in ranks]


def merge_shards(
    results: Sequence[ShardResult], *, jobs: int, scenario: str, seed: int
) -> SimulationReport:
    """One report for a run from its shards' results (in shard order)."""
    if len(results) == 1:
        return results[0].report
    reports = [r.report for r in results]
    terminal: Counter[str] = Counter()
    transitions: Counter[str] = Counter()
    for rep in reports:
        terminal.update(rep.terminal)
        transitions.update(rep.transitions)
    p50, p90, p99 = _merged_percentiles([r.durations for r in results], (0.5, 0.9, 0.99))
    return SimulationReport(
        jobs=jobs,
        scenario=scenario,
        seed=seed,
        terminal={s: terminal.get(s, 0) for s in _TERMINAL_ORDER},
        time_to_terminal_s={"p50": p50, "p90": p90, "p99": p99},
        transitions=dict(sorted(transitions.items())),
        pages=sum(r.pages for r in reports),
        successful_pages=sum(r.successful_pages for r in reports),
        credits_debited=sum(r.credits_debited for r in reports),
        top_ups=sum(r.top_ups for r in reports),
        # the shards run side by side in virtual time, all from SIM_ORIGIN
        virtual_seconds=max(r.virtual_seconds for r in reports),
        shards=len(results),
    )


def simulate(
    jobs: int,
    *,
    scenario: str = DEFAULT_SCENARIO,
    seed: int = 0,
    scenarios: ScenarioRegistry | None = None,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
    shard_jobs: int = SHARD_JOBS,
) -> SimulationReport:
    """Run `jobs` jobs to a terminal status in virtual time and report the figures.

    `workers` > 1 runs the shards (see the module docstring) in that many processes; the report
    is the same for any number of workers. `shard_jobs` is the shard size (the CLI always uses
    `SHARD_JOBS`; tests use small shards to exercise sharding quickly). `progress(done)` is
    called with the number of jobs done so far, every 1,000 jobs or so, in the calling process.
    `report.extra["peak_rss_kb"]` holds the peak resident memory of each process that ran a
    shard, by process id (not in the JSON)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    plan = shard_plan(jobs, seed, shard_jobs)
    if workers > 1 and len(plan) > 1:
        (scenarios or ScenarioRegistry()).get(
            scenario
        )  # an unknown name fails here, not in a worker
        results = run_shards(
            plan, workers=workers, scenario=scenario, scenarios=scenarios, progress=progress
        )
    else:
        results = []
        for shard in plan:
            base = shard.index * shard_jobs

            def report(done: int, base: int = base) -> None:
                assert progress is not None
                progress(base + done)

            results.append(
                simulate_shard(
                    shard,
                    scenario=scenario,
                    scenarios=scenarios,
                    progress=None if progress is None else report,
                )
            )
    merged = merge_shards(results, jobs=jobs, scenario=scenario, seed=seed)
    peaks: dict[int, int] = {}
    for r in results:
        peaks[r.pid] = max(peaks.get(r.pid, 0), r.peak_rss_kb)
    merged.extra["peak_rss_kb"] = peaks
    return merged


_TERMINAL_ORDER = [
    JobStatus.COMPLETED.value,
    JobStatus.COMPLETED_WITH_ERRORS.value,
    JobStatus.FAILED.value,
    JobStatus.CANCELLED.value,
    JobStatus.EXPIRED.value,
]


# -- worker processes (`simulate(..., workers=N)`) --------------------
#
# The shards are planned before any process starts (by job count and
# seed only) and each shard's result depends only on the shard, so where a shard runs and in which
# order the shards finish change nothing: the results are put back in shard order and merged.
# Workers take shards from one queue as they become free, so unequal shards still share the cores.
#
# Processes come from a fork server where there is one (Linux, macOS; Python 3.14's default on
# Linux), else are spawned (Windows): either way a worker inherits nothing from the caller (its
# threads, its collector settings, a half-built engine), and starting one is cheap after the
# first. As with any multiprocessing start method but "fork", a script that calls
# `simulate(..., workers=N)` at import time needs the `if __name__ == "__main__":` guard.
#
# A shared counter carries progress: each worker adds its jobs done every 1,000 or so, and the
# calling process reads it four times a second.

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
