from __future__ import annotations

from collections.abc import Callable

import pytest

from statemachine import Clock, Engine, FileSpec, Job, Project

ORIGIN = 1730538000.0  # 2024-11-02T09:00:00.000Z


@pytest.fixture
def engine() -> Engine:
    return Engine(Clock("manual", origin=ORIGIN), seed=7)


@pytest.fixture
def project(engine: Engine) -> Project:
    project, _ = engine.create_project("org_a", "site")
    engine.advance(engine.default_scenario.project_provisioning_delay)
    assert project.state == "ready"
    return project


@pytest.fixture
def submit(engine: Engine, project: Project) -> Callable[..., Job]:
    """A job with files uploaded and uploads completed (now preflighting)."""

    def make(
        scenario: str = "happy",
        sizes: tuple[int, ...] = (250_000,),
        classification: str | None = None,
    ) -> Job:
        job = engine.create_job(project, scenario=scenario)
        if job.state == "provisioning":
            engine.advance(job.scenario.job_provisioning_delay)
        engine.add_files(
            job,
            [FileSpec(f"f{i}.pdf", s, classification=classification) for i, s in enumerate(sizes)],
        )
        engine.complete_uploads(job)
        return job

    return make


def run_to_rest(engine: Engine, job: Job, limit: float = 30 * 24 * 3600) -> None:
    """Advance until the job is terminal or blocked (or `limit` virtual seconds pass)."""
    spent = 0.0
    while (
        job.state
        not in {
            "completed",
            "completed_with_errors",
            "failed",
            "cancelled",
            "expired",
            "blocked_insufficient_credits",
        }
        and spent < limit
    ):
        nxt = engine.next_due()
        assert nxt is not None, f"job {job.id} is {job.state} with nothing scheduled"
        step = max(nxt - engine.now, 0.0)
        engine.advance(step)
        spent += step
