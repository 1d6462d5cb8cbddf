"""check_workflow: the reference workflow and an independent one pass under every fault, each
broken workflow is caught by the rule it breaks, reports name the rule, the fault that exposed
it and a replay, and the kit's environment (virtual time, the webhook inbox) behaves."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from mock_server.client import (
    WebhookVerificationFailed,
    submit_workflow,
    submit_workflow_async,
    verify_webhook,
)
from mock_server.contract import (
    WORKFLOW_PATHS,
    ContractViolation,
    WorkflowEnv,
    WorkflowPlan,
    WorkflowRunner,
    canonical_workflow_plans,
    check_workflow,
    replay_workflow,
    workflow_plans,
)
from mock_server.contract.rules import RULES, rules
from mock_server.contract.workflow import WORKFLOW_RULES
from mock_server.contract.workflow_strategies import ApiFault, ForgedDelivery, WebhookFault

from .test_check_client import EXPECTED_EDGE
from .workflows import CATALOGUE, BrokenWorkflow, WebhooksOnly, webhook_first

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled", "expired"}


@pytest.fixture(scope="module")
def runner() -> Any:
    with WorkflowRunner() as r:
        yield r


def _plan(note: str) -> WorkflowPlan:
    return next(p for p in canonical_workflow_plans() if note in p.notes)


def _path(path: str) -> WorkflowPlan:
    return next(p for p in canonical_workflow_plans(faults=False) if p.path == path)


# --------------------------------------------------------------------------- right workflows


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_reference_workflow_passes_under_faults(seed: int) -> None:
    report = check_workflow(submit_workflow, max_examples=12, seed=seed)
    assert report.examples >= len(canonical_workflow_plans()) + 12
    assert sum(report.paths.values()) == report.examples
    missing = report.coverage.missing()
    assert missing["statuses"] == [] and missing["transitions"] == []  # every edge
    assert {"lost_response", "error", "rate_limited", "latency"} <= set(report.faults)
    assert {"webhook drop", "webhook duplicate", "webhook delay", "forged delivery"} <= set(
        report.faults
    )
    assert report.outcomes["gave up (outage)"] >= 1  # giving up on an outage is fine


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_independent_webhook_first_workflow_passes_under_faults(seed: int) -> None:
    check_workflow(webhook_first, max_examples=12, seed=seed)


def test_the_async_reference_workflow_passes_under_faults() -> None:
    report = check_workflow(submit_workflow_async, max_examples=8, seed=5)
    assert report.outcomes["returned completed"] > 0


def test_without_faults_only_the_paths_run() -> None:
    report = check_workflow(submit_workflow, max_examples=5, seed=4, faults=False)
    # nothing but the slow upload / complete that lets a job expire in its upload window
    assert set(report.faults) == {"latency"}
    assert report.outcomes["returned expired"] >= 2


# --------------------------------------------------------------------------- broken workflows


def test_the_catalogue_covers_every_rule_check_workflow_judges() -> None:
    assert {b.rule for b in CATALOGUE} == set(WORKFLOW_RULES)
    # the client rules apply unchanged; of the workflow family only the source search rule is
    # left to the server
    assert {r.id for r in rules("client")} - {"job_create_on_unready_project"} <= set(
        WORKFLOW_RULES
    )


@pytest.mark.parametrize("broken", CATALOGUE, ids=lambda b: b.name)
def test_each_broken_workflow_is_caught_by_the_rule_it_breaks(broken: BrokenWorkflow) -> None:
    with pytest.raises(ContractViolation) as info:
        check_workflow(broken, max_examples=10, seed=7)
    exc = info.value
    assert exc.rule == broken.rule, exc.report
    assert exc.fault and f"exposed by: {exc.fault}" in exc.report


def test_report_names_rule_fault_plan_logs_and_replay() -> None:
    broken = next(b for b in CATALOGUE if b.rule == "duplicate_job")
    with pytest.raises(ContractViolation) as info:
        check_workflow(broken, max_examples=5, seed=1234)
    exc = info.value
    text = str(exc)
    assert "broke rule 'duplicate_job'" in text and RULES["duplicate_job"].text in text
    assert exc.fault == "create #0: lost_response (committed, then the connection closed)"
    assert "API faults: create #0: lost_response" in text
    assert "-> no answer  [injected: lost_response" in text  # the request log
    assert "(the server answered 202)" in text
    assert "the webhooks (" in text and exc.webhooks
    assert "check_workflow(workflow, seed=1234)" in text
    assert "replay_workflow(workflow, exc.plan)" in text
    assert exc.seed == 1234 and isinstance(exc.plan, WorkflowPlan) and exc.job_id
    with pytest.raises(ContractViolation) as again:
        replay_workflow(broken, exc.plan)
    assert again.value.rule == "duplicate_job"


def test_the_same_seed_finds_the_same_example() -> None:
    broken = next(b for b in CATALOGUE if b.rule == "retry_after_ignored")
    found = []
    for _ in range(2):
        with pytest.raises(ContractViolation) as info:
            check_workflow(broken, max_examples=5, seed=99)
        found.append(info.value.plan)
    assert found[0] == found[1]


def test_a_dropped_terminal_webhook_is_named_as_the_fault(runner: WorkflowRunner) -> None:
    with pytest.raises(ContractViolation) as info:
        runner.run(BrokenWorkflow(WebhooksOnly, ""), _plan("the terminal webhook dropped"))
    exc = info.value
    assert exc.rule == "no_polling_fallback"
    assert exc.fault == "webhook event #4 (completed): drop"
    assert any("processing -> completed: dropped" in line for line in exc.webhooks)


def test_giving_up_early_is_a_wrong_result(runner: WorkflowRunner) -> None:
    def impatient(env: WorkflowEnv) -> Any:
        env.sleep(120)
        raise TimeoutError("two minutes is enough")

    with pytest.raises(ContractViolation, match="at least 600 s") as info:
        runner.run(impatient, _path("completed"))
    assert info.value.rule == "wrong_result"

    def patient(env: WorkflowEnv) -> Any:
        env.sleep(600)
        raise TimeoutError("ten minutes")

    assert runner.run(patient, _path("completed"))["outcome"] == "gave up"


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (None, "without creating a job"),
        ({"job": {"id": "job_x", "status": "completed"}}, "without creating a job"),
    ],
)
def test_returning_without_a_job_is_a_wrong_result(
    runner: WorkflowRunner, answer: Any, match: str
) -> None:
    with pytest.raises(ContractViolation, match=match) as info:
        runner.run(lambda env: answer, _path("completed"))
    assert info.value.rule == "wrong_result"


def test_an_unbounded_sleep_and_a_spinning_inbox_are_caught(runner: WorkflowRunner) -> None:
    with pytest.raises(ContractViolation, match="still waiting after 3600 s") as info:
        runner.run(lambda env: env.sleep(7 * 86400), _path("completed"))
    assert info.value.rule == "unbounded"

    def spins(env: WorkflowEnv) -> Any:
        while True:
            env.next_webhook(0)

    with pytest.raises(ContractViolation, match="next_webhook 101 times") as info:
        runner.run(spins, _path("completed"))
    assert info.value.rule == "unbounded"


def test_a_negative_sleep_is_the_workflows_error(runner: WorkflowRunner) -> None:
    with pytest.raises(ContractViolation, match="ValueError: sleep length must be"):
        runner.run(lambda env: env.sleep(-1), _path("completed"))


# --------------------------------------------------------------------------- the environment


def _create(env: WorkflowEnv) -> dict[str, Any]:
    import requests

    answer = requests.post(
        f"{env.base_url}/projects/{env.project_id}/jobs",
        json={"webhookUrl": env.webhook_url},
        headers={"Authorization": f"Bearer {env.api_key}"},
        timeout=10,
    )
    body: dict[str, Any] = answer.json()
    return body


def test_deliveries_arrive_on_virtual_time_and_verify(runner: WorkflowRunner) -> None:
    seen: list[tuple[float, str]] = []

    def listener(env: WorkflowEnv) -> Any:
        created = _create(env)
        secret = created["webhookSigningSecret"]
        assert env.files and all(isinstance(data, bytes) for _, data, _ in env.files)
        first = env.next_webhook(10)  # provisioned at creation: already there
        assert first is not None and env.monotonic() == 0.0
        payload = verify_webhook(secret, first.headers, first.body)
        seen.append((env.monotonic(), payload["data"]["job"]["status"]))
        assert env.next_webhook(30) is None  # nothing happens until the workflow uploads
        assert env.monotonic() == pytest.approx(30.0)
        raise TimeoutError("done looking")

    with pytest.raises(ContractViolation):  # it gave up after 30 s: a wrong result
        runner.run(listener, _path("completed"))
    assert seen == [(0.0, "awaiting_uploads")]


def test_a_forged_delivery_claims_a_status_and_does_not_verify(runner: WorkflowRunner) -> None:
    plan = _path("cold_start")  # the job provisions for 30 s: time for a forgery
    forged = WorkflowPlan(
        plan.path, plan.scenario, plan.owner, plan.files, forged=ForgedDelivery(5.0, "completed")
    )
    got: list[Any] = []

    def listener(env: WorkflowEnv) -> Any:
        secret = _create(env)["webhookSigningSecret"]
        delivery = env.next_webhook(20)
        assert delivery is not None and env.monotonic() == pytest.approx(5.0)
        got.append(json.loads(delivery.body)["data"]["job"]["status"])
        with pytest.raises(WebhookVerificationFailed, match="no signature matches"):
            verify_webhook(secret, delivery.headers, delivery.body)
        env.sleep(600)
        raise TimeoutError("enough")

    assert runner.run(listener, forged)["outcome"] == "gave up"
    assert got == ["completed"]


def test_async_workflows_get_async_sleep_and_inbox(runner: WorkflowRunner) -> None:
    async def workflow(env: WorkflowEnv) -> Any:
        await env.asleep(1)
        assert await env.anext_webhook(1) is None
        assert env.monotonic() == pytest.approx(2.0)
        return await submit_workflow_async(env)

    assert runner.run(workflow, _path("completed"))["outcome"] == "returned completed"


# --------------------------------------------------------------------------- the plans


@pytest.mark.parametrize("plan", canonical_workflow_plans(faults=False), ids=lambda p: p.path)
def test_canonical_plans_reach_their_branch_with_the_reference(
    runner: WorkflowRunner, plan: WorkflowPlan
) -> None:
    summary = runner.run(submit_workflow, plan)
    edges = [(r.src, r.event, r.dst) for r in summary["history"]]
    assert EXPECTED_EDGE[plan.path] in edges, plan.describe()


def test_workflow_paths_are_every_branch() -> None:
    assert set(WORKFLOW_PATHS) == set(EXPECTED_EDGE)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=workflow_plans(faults=True))
def test_generated_plans_are_valid(plan: WorkflowPlan) -> None:
    assert 1 <= len(plan.files) <= 5
    assert [len(data) for _, data, _ in plan.file_data()] == [size for _, size, _ in plan.files]
    for f in plan.api_faults:
        assert f.call in ("create", "upload", "complete", "poll", "result") and f.repeat >= 1
        assert f.mode != "rate_limited" or f.retry_after is not None
        assert f.mode != "latency" or (f.seconds or 0) > 0
    assert len({w.event for w in plan.webhook_faults}) == len(plan.webhook_faults)
    assert plan.describe().startswith(f"path {plan.path}")


def test_a_fault_covers_the_attempts_it_names() -> None:
    burst = ApiFault("create", 1, "error", status=500, repeat=3)
    assert [burst.covers("create", n) for n in range(5)] == [False, True, True, True, False]
    assert not burst.covers("upload", 1)
    assert burst.describe() == "create #1-#3: 500 error"
    assert WebhookFault(2, "delay", 30.0).describe() == "event #2: delay 30 s"


def test_unknown_paths_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown path"):
        workflow_plans(paths=("completed", "exploded"))
