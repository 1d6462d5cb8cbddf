"""Benchmarks of the formal core: one transition, and `simulate` end to end.

- `measure_transitions(live_jobs)`: microseconds per transition through
  `statemachine.fire_job_event` against the baseline, `transitions`' own unbound trigger
  (`machine.events[name].trigger(obj)`) on one shared `Machine(model=None)` built from the same
  table. Both drive the same kind of plain slotted objects through the same lifecycle
  (provisioning -> ... -> completed), round robin over every live object, alternating the two
  sides so drift hits both alike.
- `measure_simulate(jobs)`: `simulate(jobs, scenario="random", seed=1)` in a child process
  pinned to one core; wall time of the run (imports excluded) and the child's peak RSS.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transitions import Machine

from statemachine import JOB_TRANSITIONS, JobStatus, fire_job_event
from statemachine.machine import build_machine

__all__ = [
    "LIFECYCLE",
    "SimulateResult",
    "TransitionResult",
    "measure_simulate",
    "measure_transitions",
]

REPO = Path(__file__).resolve().parent.parent

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


def measure_transitions(live_jobs: int, *, min_transitions: int = 300_000) -> TransitionResult:
    """Median microseconds per transition at `live_jobs` live objects, ours vs the baseline."""
    ours_objs = [_Obj(i) for i in range(live_jobs)]
    bare_objs = [_Obj(i) for i in range(live_jobs)]
    pass_bare = _make_pass_bare(_baseline_machine())
    per_pass = live_jobs * len(LIFECYCLE)
    passes = max(3, -(-min_transitions // per_pass))
    start = JobStatus.PROVISIONING.value
    ours: list[float] = []
    bare: list[float] = []
    for i in range(passes + 1):
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
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "rss_kb": rss_kb, "report": report.as_dict()}))
"""


def measure_simulate(jobs: int, *, python: str = sys.executable) -> SimulateResult:
    """Run `simulate(jobs, scenario="random", seed=1)` in a fresh child on one core."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    out = subprocess.run(
        [python, "-c", _CHILD, str(jobs)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return SimulateResult(
        jobs=jobs,
        seconds=data["seconds"],
        peak_rss_mb=data["rss_kb"] / 1024,
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
