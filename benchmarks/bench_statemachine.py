"""Benchmarks of the formal core: one transition, and `simulate` end to end.

- `measure_transitions(live_jobs)`: microseconds per transition through
  `statemachine.fire_job_event` against the baseline, `transitions`' own unbound trigger
  (`machine.events[name].trigger(obj)`) on one shared `Machine(model=None)` built from the same
  table. Both drive the same kind of plain slotted objects through the same lifecycle
  (provisioning -> ... -> completed), round robin over every live object, alternating the two
  sides so drift hits both alike.
- `measure_simulate(jobs)`: `simulate(jobs, scenario="random", seed=1)` in a child process
  pinned to one core; wall time of the run (imports excluded) and the child's peak RSS.
- `measure_simulate_workers(jobs)`: the same with `workers=` one per CPU (issue 19), unpinned;
  wall time, and the sum of the peak RSS of every process of the run (the parent, its fork
  server and the workers), each sampled with psutil every 50 ms and raised to the process's own
  peak (VmHWM) where the workers report it. Never `ru_maxrss`: Linux keeps it across exec, so
  a child reports the peak of the process that started it.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from benchmarks.child import run_child
from statemachine import JOB_TRANSITIONS, JobStatus, fire_job_event
from statemachine.machine import build_machine
from statemachine.simulation import SHARD_JOBS

__all__ = [
    "LIFECYCLE",
    "SimulateResult",
    "SimulateWorkersResult",
    "TransitionResult",
    "measure_simulate",
    "measure_simulate_workers",
    "measure_transitions",
]


# The happy path: five transitions per object per pass.
LIFECYCLE: tuple[str, ...] = (
    "provision",
    "start_upload",
    "complete_uploads",
    "pass_preflight",
    "complete",
)


class _Obj:
    """A plain object holding `state`, as the shared-machine pattern needs."""

    __slots__ = ("id", "state")

    def __init__(self, i: int) -> None:
        self.id = f"job_{i:026d}"
        self.state = JobStatus.PROVISIONING.value


def _baseline_machine() -> Machine:
    """The same table on a fresh shared machine of transitions' stock class: what `transitions`
    alone costs."""
    return build_machine(JOB_TRANSITIONS, [s.value for s in JobStatus], Machine)


@dataclass(frozen=True, slots=True)
class TransitionResult:
    live_jobs: int
    transition_us: float  # through statemachine.fire_job_event
    transitions_trigger_us: float  # bare transitions, shared machine, unbound trigger

    @property
    def ratio(self) -> float:
        return self.transition_us / self.transitions_trigger_us


def _pass_ours(objs: list[_Obj]) -> float:
    fire = fire_job_event
    t0 = time.perf_counter()
    for event in LIFECYCLE:
        for obj in objs:
            fire(obj, event)
    return time.perf_counter() - t0


def _make_pass_bare(machine: Machine) -> Callable[[list[_Obj]], float]:
    triggers = [machine.events[e].trigger for e in LIFECYCLE]

    def run(objs: list[_Obj]) -> float:
        t0 = time.perf_counter()
        for trigger in triggers:
            for obj in objs:
                trigger(obj)
        return time.perf_counter() - t0

    return run


def measure_transitions(
    live_jobs: int, *, min_transitions: int = 300_000, min_passes: int = 3, warm_up: bool = True
) -> TransitionResult:
    """Median microseconds per transition at `live_jobs` live objects, ours vs the baseline,
    over at least `min_passes` measured passes (after one warm-up pass, unless not `warm_up`)."""
    ours_objs = [_Obj(i) for i in range(live_jobs)]
    bare_objs = [_Obj(i) for i in range(live_jobs)]
    pass_bare = _make_pass_bare(_baseline_machine())
    per_pass = live_jobs * len(LIFECYCLE)
    passes = max(min_passes, -(-min_transitions // per_pass))
    start = JobStatus.PROVISIONING.value
    ours: list[float] = []
    bare: list[float] = []
    first = 0 if warm_up else 1
    for i in range(first, passes + 1):
        for o in ours_objs:
            o.state = start
        for o in bare_objs:
            o.state = start
        a = _pass_ours(ours_objs)
        b = pass_bare(bare_objs)
        if i:  # the first pass warms up both sides
            ours.append(a)
            bare.append(b)
    for o in ours_objs:
        assert o.state == JobStatus.COMPLETED
    return TransitionResult(
        live_jobs=live_jobs,
        transition_us=statistics.median(ours) / per_pass * 1e6,
        transitions_trigger_us=statistics.median(bare) / per_pass * 1e6,
    )


@dataclass(frozen=True, slots=True)
class SimulateResult:
    jobs: int
    seconds: float
    peak_rss_mb: float
    report: dict[str, Any]

    @property
    def jobs_per_s(self) -> float:
        return self.jobs / self.seconds


_CHILD = """
import json, os, resource, sys, time
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
from statemachine import simulate
jobs = int(sys.argv[1])
t0 = time.perf_counter()
report = simulate(jobs, scenario="random", seed=1)
seconds = time.perf_counter() - t0
from statemachine.simulation import _peak_rss_kb
rss_kb = _peak_rss_kb()  # VmHWM: ru_maxrss would include the peak of the process that started us
print(json.dumps({"seconds": seconds, "rss_kb": rss_kb, "report": report.as_dict()}))
"""


def measure_simulate(jobs: int, *, python: str = sys.executable) -> SimulateResult:
    """Run `simulate(jobs, scenario="random", seed=1)` in a fresh child on one core."""
    data = run_child([python, "-c", _CHILD, str(jobs)])
    return SimulateResult(
        jobs=jobs,
        seconds=data["seconds"],
        peak_rss_mb=data["rss_kb"] / 1024,
        report=data["report"],
    )


@dataclass(frozen=True, slots=True)
class SimulateWorkersResult:
    jobs: int
    workers: int
    seconds: float
    peak_rss_mb: float  # the sum over every process of the run of its own peak
    rss_mb_by_process: dict[str, float]
    cpu_seconds: float  # of every process of the run (the workers' as last sampled, +-50 ms)
    report: dict[str, Any]

    @property
    def jobs_per_s(self) -> float:
        return self.jobs / self.seconds

    @property
    def jobs_per_cpu_s(self) -> float:
        """Jobs per CPU-second of all the run's processes: what sharding costs in work, which
        other load on the machine moves much less than jobs/s."""
        return self.jobs / self.cpu_seconds if self.cpu_seconds else 0.0


_WORKERS_CHILD = """
import json, os, sys, threading, time
import psutil
from statemachine import simulate
jobs, workers, shard_jobs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
me = psutil.Process()
peaks = {}  # pid -> (name, peak RSS in bytes), sampled: the parent, the fork server, the workers
cpu = {}  # pid -> CPU seconds (user + system) at the last sample
done = threading.Event()
def sample():
    while not done.wait(0.05):
        for p in [me, *me.children(recursive=True)]:
            try:
                rss = p.memory_info().rss
                cmd = " ".join(p.cmdline())
            except psutil.Error:
                continue
            if p.pid == me.pid:
                name = "parent"
            elif "resource_tracker" in cmd:
                name = "resource tracker"
            elif p.pid in [c.pid for c in me.children()]:
                name = "fork server"
            else:
                name = "worker"
            old = peaks.get(p.pid, (name, 0))
            peaks[p.pid] = (name, max(old[1], rss))
            try:
                t = p.cpu_times()
                cpu[p.pid] = max(cpu.get(p.pid, 0.0), t.user + t.system)
            except psutil.Error:
                pass
sampler = threading.Thread(target=sample, daemon=True)
if __name__ == "__main__":
    sampler.start()
    t0 = time.perf_counter()
    report = simulate(jobs, scenario="random", seed=1, workers=workers, shard_jobs=shard_jobs)
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    # each worker's own peak (VmHWM, exact) wins over the samples where both are known
    for pid, kb in report.extra["peak_rss_kb"].items():
        name = peaks.get(pid, ("worker", 0))[0]
        peaks[pid] = (name, max(peaks.get(pid, (name, 0))[1], kb * 1024))
    import resource
    from statemachine.simulation import _peak_rss_kb
    mine = _peak_rss_kb() * 1024  # VmHWM: ru_maxrss would include our starter's peak
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu[me.pid] = own.ru_utime + own.ru_stime
    peaks[me.pid] = ("parent", max(peaks.get(me.pid, ("parent", 0))[1], mine))
    named = {f"{n} ({pid})": b for pid, (n, b) in peaks.items()}
    out = {"seconds": seconds, "peaks": named, "cpu_seconds": sum(cpu.values()),
           "report": report.as_dict()}
    print(json.dumps(out))
"""


def measure_simulate_workers(
    jobs: int,
    workers: int | None = None,
    *,
    shard_jobs: int | None = None,
    python: str = sys.executable,
) -> SimulateWorkersResult:
    """Run `simulate(jobs, scenario="random", seed=1, workers=...)` in a fresh child (one worker
    per CPU by default; shards of `SHARD_JOBS` unless `shard_jobs`) and sum the peak resident
    memory of every process of the run."""
    workers = workers or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                          else os.cpu_count() or 1)  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(_WORKERS_CHILD)  # a file, not -c: worker processes re-import the main module
    try:
        shard = shard_jobs or SHARD_JOBS
        data = run_child([python, f.name, str(jobs), str(workers), str(shard)])
    finally:
        os.unlink(f.name)
    by_process = {k: v / 2**20 for k, v in data["peaks"].items()}
    return SimulateWorkersResult(
        jobs=jobs,
        workers=workers,
        seconds=data["seconds"],
        peak_rss_mb=sum(by_process.values()),
        rss_mb_by_process=by_process,
        cpu_seconds=data["cpu_seconds"],
        report=data["report"],
    )


if __name__ == "__main__":
    for n in (1_000, 100_000):
        r = measure_transitions(n)
        print(
            f"{n:>7} live jobs: statemachine {r.transition_us:.2f} us, "
            f"transitions {r.transitions_trigger_us:.2f} us, ratio {r.ratio:.2f}"
        )
    s = measure_simulate(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
    print(
        f"simulate {s.jobs} jobs: {s.seconds:.2f} s, {s.jobs_per_s:,.0f} jobs/s, "
        f"peak RSS {s.peak_rss_mb:.0f} MB"
    )
