"""check_client: right clients pass, each broken client is caught by the rule it breaks, reports
carry what is needed to replay, and the generated plans reach the branch they aim at."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from mock_server.client import WaitPolicy, wait_for_job, wait_for_job_async
from mock_server.contract import (
    PATHS,
    RULES,
    ContractPlan,
    ContractRunner,
    ContractViolation,
    FaultPlan,
    canonical_plans,
    check_client,
    contract_plans,
    fault_plans,
    replay_plan,
    scenarios,
)
from statemachine import Scenario, job_edges

from .broken_clients import CATALOGUE, Broken, docs_style_loop, exactly_5s_loop, polls_every_2s


@pytest.fixture(scope="module")
def runner() -> Any:
    with ContractRunner() as r:
        yield r


# --------------------------------------------------------------------------- right clients


@pytest.mark.parametrize("faults", [False, True])
def test_reference_client_passes(faults: bool) -> None:
    report = check_client(wait_for_job, max_examples=60, seed=11, faults=faults)
    assert report.examples >= 60 + len(PATHS)
    assert sum(report.paths.values()) == report.examples
    missing = report.coverage.missing()
    assert missing["statuses"] == [] and missing["events"] == []
    assert missing["transitions"] == []  # every edge of the machine, thanks to canonical plans


def test_async_reference_client_passes() -> None:
    report = check_client(wait_for_job_async, max_examples=20, seed=3, faults=True)
    assert report.outcomes


def test_docs_style_15_s_loop_passes() -> None:
    check_client(docs_style_loop, max_examples=40, seed=5)


@pytest.mark.parametrize("faults", [False, True])
def test_an_interval_of_exactly_5_s_is_no_false_alarm(faults: bool) -> None:
    check_client(exactly_5s_loop, max_examples=20, seed=9, faults=faults)


def test_reference_client_at_the_5_s_floor_passes() -> None:
    def client(base_url: str, api_key: str, job_id: str, sleep: Any) -> dict[str, Any]:
        policy = WaitPolicy(interval=5.0, jitter=0.0)
        return wait_for_job(base_url, api_key, job_id, sleep, policy=policy)

    check_client(client, max_examples=20, seed=2, faults=True)


# --------------------------------------------------------------------------- broken clients


def test_the_catalogue_covers_every_rule() -> None:
    caught = {b.rule for b in CATALOGUE}
    assert caught == set(RULES) - {"job_create_on_unready_project"}


@pytest.mark.parametrize("broken", CATALOGUE, ids=lambda b: b.client.__name__)
def test_each_broken_client_is_caught_by_the_rule_it_breaks(broken: Broken) -> None:
    with pytest.raises(ContractViolation) as info:
        check_client(broken.client, max_examples=30, seed=7, faults=broken.faults)
    assert info.value.rule == broken.rule, info.value.report
    assert isinstance(info.value, AssertionError)


def test_report_names_rule_scenario_requests_and_replay_seed() -> None:
    with pytest.raises(ContractViolation) as info:
        check_client(polls_every_2s, max_examples=10, seed=1234)
    exc = info.value
    text = str(exc)
    assert "broke rule 'polling_too_fast'" in text
    assert "was polled twice within 2.0 s" in text
    assert "Plangrep asks for at least 5 s between polls" in text
    assert f"scenario: {exc.scenario}" in text
    assert "GET /api/open/v1/jobs/job_" in text
    assert "check_client(client, seed=1234)" in text
    assert exc.seed == 1234
    assert isinstance(exc.plan, ContractPlan)
    assert exc.requests and exc.job_id is not None
    with pytest.raises(ContractViolation) as again:
        replay_plan(polls_every_2s, exc.plan)
    assert again.value.rule == "polling_too_fast"


def test_the_same_seed_finds_the_same_example() -> None:
    found = []
    for _ in range(2):
        with pytest.raises(ContractViolation) as info:
            check_client(polls_every_2s, max_examples=10, seed=99)
        found.append(info.value.plan)
    assert found[0] == found[1]


def test_forgotten_sleep_gets_a_hint() -> None:
    from .broken_clients import forgets_to_sleep

    with pytest.raises(ContractViolation, match=r"does it call time\.sleep"):
        check_client(forgets_to_sleep, max_examples=5, seed=1)


def test_a_client_may_give_up_after_the_patience(runner: ContractRunner) -> None:
    plan = next(p for p in canonical_plans() if p.path == "blocked_at_preflight")

    def patient(base_url: str, api_key: str, job_id: str, sleep: Any) -> dict[str, Any]:
        for _ in range(41):
            sleep(15)
        raise TimeoutError("waited 615 s")

    assert runner.run(patient, plan)["outcome"] == "gave up"

    def impatient(base_url: str, api_key: str, job_id: str, sleep: Any) -> dict[str, Any]:
        sleep(599)
        raise TimeoutError("waited 599 s")

    with pytest.raises(ContractViolation, match="at least 600 s"):
        runner.run(impatient, plan)


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        ("completed", "must return the job"),
        ({"id": "job_other", "status": "completed"}, "the job the server reached is"),
    ],
)
def test_wrong_answers(runner: ContractRunner, answer: Any, match: str) -> None:
    plan = canonical_plans(("completed",))[0]

    def client(base_url: str, api_key: str, job_id: str, sleep: Any) -> Any:
        sleep(600)
        return answer

    with pytest.raises(ContractViolation, match=match) as info:
        runner.run(client, plan)
    assert info.value.rule == "wrong_result"


def test_the_api_shape_of_the_answer_is_accepted(runner: ContractRunner) -> None:
    plan = canonical_plans(("completed",))[0]

    def client(base_url: str, api_key: str, job_id: str, sleep: Any) -> Any:
        import requests

        sleep(600)
        return requests.get(
            f"{base_url}/jobs/{job_id}", headers={"Authorization": f"Bearer {api_key}"}
        ).json()  # {"job": {...}}

    assert runner.run(client, plan)["outcome"] == "returned completed"


def test_a_negative_sleep_is_the_clients_error(runner: ContractRunner) -> None:
    plan = canonical_plans(("completed",))[0]

    def client(base_url: str, api_key: str, job_id: str, sleep: Any) -> Any:
        sleep(-1)

    with pytest.raises(ContractViolation, match="ValueError: sleep length must be non-negative"):
        runner.run(client, plan)


def test_huge_sleep_is_unbounded(runner: ContractRunner) -> None:
    plan = canonical_plans(("completed",))[0]

    def client(base_url: str, api_key: str, job_id: str, sleep: Any) -> Any:
        sleep(7 * 24 * 3600)

    with pytest.raises(ContractViolation, match="still waiting after 3600 s") as info:
        runner.run(client, plan)
    assert info.value.rule == "unbounded"


def test_an_async_client_gets_an_async_sleep(runner: ContractRunner) -> None:
    plan = canonical_plans(("completed",))[0]

    async def client(base_url: str, api_key: str, job_id: str, sleep: Any) -> Any:
        pause = sleep(1)
        assert asyncio.iscoroutine(pause)
        await pause
        return await wait_for_job_async(base_url, api_key, job_id, sleep)

    assert runner.run(client, plan)["outcome"] == "returned completed"


# --------------------------------------------------------------------------- the plans


EXPECTED_EDGE: dict[str, tuple[str, str, str]] = {
    "completed": ("processing", "complete", "completed"),
    "completed_with_errors": ("processing", "complete_with_errors", "completed_with_errors"),
    "processing_fails": ("processing", "fail", "failed"),
    "preflight_fails": ("preflighting", "fail", "failed"),
    "blocked_at_preflight": ("preflighting", "block", "blocked_insufficient_credits"),
    "blocked_mid_processing": ("processing", "block", "blocked_insufficient_credits"),
    "cancel_immediate": ("processing", "cancel", "cancelled"),
    "cancel_deferred": ("processing", "cancel", "cancelled"),
    "cancel_race_lost": ("processing", "complete", "completed"),
    "cold_start": ("provisioning", "provision", "awaiting_uploads"),
}
for _status in ("provisioning", "awaiting_uploads", "uploading", "preflighting", "blocked"):
    full = "blocked_insufficient_credits" if _status == "blocked" else _status
    EXPECTED_EDGE[f"cancel_while_{_status}"] = (full, "cancel", "cancelled")
for _status in (
    "provisioning",
    "awaiting_uploads",
    "uploading",
    "preflighting",
    "blocked",
    "processing",
):
    full = "blocked_insufficient_credits" if _status == "blocked" else _status
    EXPECTED_EDGE[f"expires_while_{_status}"] = (full, "expire", "expired")


def _history(runner: ContractRunner, plan: ContractPlan) -> list[tuple[str, str, str]]:
    """Run a plan with no client at all: the owner acts, the clock runs for 3 hours."""

    def run() -> list[tuple[str, str, str]]:
        ex = runner._begin(plan)
        runner._advance_to(ex, ex.t0 + 3 * 3600)
        history = runner._end(ex)["history"]
        if plan.path == "cold_start":
            assert history[0].at > ex.t0
        return [(r.src, r.event, r.dst) for r in history]

    return runner.server.call(run)


def test_every_path_has_an_expected_edge() -> None:
    assert set(EXPECTED_EDGE) == set(PATHS)
    edges = {(src, event, dst) for src, dst, event in job_edges()}
    assert set(EXPECTED_EDGE.values()) <= edges


@pytest.mark.parametrize("plan", canonical_plans(), ids=lambda p: p.path)
def test_canonical_plans_reach_their_branch(runner: ContractRunner, plan: ContractPlan) -> None:
    assert EXPECTED_EDGE[plan.path] in _history(runner, plan)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=contract_plans())
def test_generated_plans_reach_their_branch(plan: ContractPlan) -> None:
    with ContractRunner() as r:
        assert EXPECTED_EDGE[plan.path] in _history(r, plan), plan.describe()


@settings(max_examples=30, deadline=None)
@given(scenario=scenarios(), faults=fault_plans())
def test_exported_strategies_are_valid(scenario: Scenario, faults: FaultPlan) -> None:
    assert Scenario.model_validate(scenario.model_dump()) == scenario
    requests = [f.request for f in faults.faults]
    assert requests == sorted(set(requests))
    for f in faults.faults:
        assert f.kind != "429" or f.retry_after is not None  # a 429 always says how long
        assert f.kind != "500" or f.retry_after is None
        assert (f.kind == "latency") == (f.seconds > 0)


def test_unknown_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown path"):
        contract_plans(paths=("completed", "exploded"))


def test_paths_can_be_narrowed() -> None:
    report = check_client(wait_for_job, max_examples=10, seed=4, paths=("cancel_deferred",))
    assert set(report.paths) == {"cancel_deferred"}
    assert "cancel_deferred" in report.table()
