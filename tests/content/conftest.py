"""Finished jobs on a bare engine (no HTTP): the content model's inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from statemachine import Clock, Engine, FileSpec, Job, Project
from statemachine.scenarios import Scenario

ORIGIN = 1730538000.0  # 2024-11-02T09:00:00.000Z
TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled", "expired"}

# (file name, size in bytes, classification); 100 kB is one estimated page
Upload = tuple[str, int, str | None]


@dataclass
class Finished:
    engine: Engine
    project: Project
    jobs: list[Job]

    @property
    def job(self) -> Job:
        return self.jobs[-1]


def run_to_end(engine: Engine, job: Job) -> None:
    """Advance until the job is terminal, topping up and resuming a blocked job."""
    for _ in range(10_000):
        if job.state in TERMINAL:
            return
        if job.state == "blocked_insufficient_credits":
            engine.set_balance(job.org, 10**9)
            engine.resume(job)
            continue
        nxt = engine.next_due()
        assert nxt is not None, f"{job.id} is {job.state} with nothing scheduled"
        engine.advance(max(nxt - engine.now, 0.0))
    raise AssertionError(f"{job.id} is still {job.state}")


def finish(
    uploads_per_job: Sequence[Sequence[Upload]],
    *,
    seed: int = 1,
    scenario: Scenario | str = "happy",
    project_name: str = "Harbor Point Tower",
) -> Finished:
    """A project with one finished job per entry of `uploads_per_job`."""
    engine = Engine(Clock("manual", origin=ORIGIN), seed=seed)
    engine.set_balance("org", 10**9)
    project, _ = engine.create_project("org", project_name)
    engine.advance(engine.default_scenario.project_provisioning_delay)
    jobs = []
    for uploads in uploads_per_job:
        job = engine.create_job(project, scenario=scenario)
        run_until_open(engine, job)
        engine.add_files(job, [FileSpec(n, s, classification=c) for n, s, c in uploads])
        engine.complete_uploads(job)
        run_to_end(engine, job)
        jobs.append(job)
    return Finished(engine, project, jobs)


def run_until_open(engine: Engine, job: Job) -> None:
    while job.state == "provisioning":
        engine.advance(max((engine.next_due() or engine.now) - engine.now, 0.0))


def with_errors(fraction: float = 0.3, **kw: object) -> Scenario:
    return Scenario(
        name="errors",
        outcome="completed_with_errors",
        failed_page_fraction=fraction,
        pages_per_second=50.0,
        **kw,  # type: ignore[arg-type]
    )
