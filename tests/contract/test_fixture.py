"""The `plangrep_mock` and `plangrep_webhook_receiver` fixtures, used directly."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from mock_server.client import (
    AsyncPlangrepClient,
    PlangrepApiError,
    PlangrepClient,
    WaitPolicy,
    wait_for_job,
)
from mock_server.testing import (
    MockControlError,
    MockOptions,
    MockServerThread,
    PlangrepMock,
    PlangrepWebhookReceiver,
    ServerError,
)
from statemachine import ScenarioError, UnknownScenario


def test_addresses_key_and_a_ready_project(plangrep_mock: PlangrepMock) -> None:
    assert plangrep_mock.base_url.endswith("/api/open/v1")
    assert plangrep_mock.base_url.startswith(plangrep_mock.url)
    assert plangrep_mock.url.startswith("http://127.0.0.1:")
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    project = client.request("GET", f"/projects/{plangrep_mock.project_id}")["project"]
    assert project["status"] == "ready"


def test_create_job_uploads_and_completes(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job(external_id="order-7")
    assert job["status"] == "preflighting"
    assert job["externalId"] == "order-7"
    assert len(job["files"]) == 1
    secret = plangrep_mock.webhook_secret(job["id"])
    assert secret is not None and secret.startswith("wss_")
    assert plangrep_mock.requests == []  # the fixture's own requests are left out
    open_job = plangrep_mock.create_job(complete=False)
    assert open_job["status"] == "uploading"


def test_advance_fires_transitions_and_now_moves(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    before = plangrep_mock.now()
    fired = plangrep_mock.advance(3)
    assert plangrep_mock.now() == pytest.approx(before + 3)
    assert [(f["from"], f["to"]) for f in fired] == [("preflighting", "processing")]
    plangrep_mock.sleep(60)
    assert plangrep_mock.job(job["id"])["job"]["status"] == "completed"


def test_reference_client_with_the_injected_sleep(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    final = wait_for_job(
        plangrep_mock.base_url, plangrep_mock.api_key, job["id"], plangrep_mock.sleep
    )
    assert final["status"] == "completed"
    polls = [r for r in plangrep_mock.requests if r["method"] == "GET"]
    assert len(polls) == 2
    assert plangrep_mock.violations == []


@pytest.mark.plangrep_mock(scenario="with_errors")
def test_marker_scenario(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    plangrep_mock.advance(600)
    assert plangrep_mock.job(job["id"])["job"]["status"] == "completed_with_errors"


@pytest.mark.plangrep_mock(scenario={"name": "quick_fail", "preflight_outcome": "fail"})
def test_marker_scenario_object(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    plangrep_mock.advance(60)
    assert plangrep_mock.job(job["id"])["job"]["status"] == "failed"


@pytest.mark.plangrep_mock(credits=0)
def test_marker_credits_block_then_set_credits_and_resume(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    plangrep_mock.advance(10)
    assert plangrep_mock.job(job["id"])["job"]["status"] == "blocked_insufficient_credits"
    plangrep_mock.set_credits(1000)
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    assert client.resume(job["id"])["status"] == "preflighting"
    plangrep_mock.advance(60)
    assert plangrep_mock.job(job["id"])["job"]["status"] == "completed"


def test_use_scenario_applies_to_later_jobs(plangrep_mock: PlangrepMock) -> None:
    first = plangrep_mock.create_job()
    plangrep_mock.use_scenario("processing_fails")
    second = plangrep_mock.create_job()
    plangrep_mock.use_scenario({"name": "cancel_late", "cancel_while_processing": "deferred"})
    third = plangrep_mock.create_job(scenario="happy")
    plangrep_mock.advance(120)
    scenarios = [plangrep_mock.job(j["id"])["scenario"] for j in (first, second, third)]
    assert scenarios == ["happy", "processing_fails", "happy"]
    with pytest.raises(UnknownScenario, match="known scenarios"):
        plangrep_mock.use_scenario("no_such_scenario")
    with pytest.raises(ScenarioError, match="outcome"):
        plangrep_mock.use_scenario({"name": "bad", "outcome": "exploded"})


def test_force_and_forbidden_force(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    assert plangrep_mock.force(job["id"], "fail")["job"]["status"] == "failed"
    with pytest.raises(MockControlError, match="invalid_transition"):
        plangrep_mock.force(job["id"], "resume")
    history = plangrep_mock.job(job["id"])["history"]
    assert history[-1]["forced"] is True


def test_api_fault_is_survived_by_the_reference_client(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    plangrep_mock.fault("error", target="api", status=503, count=2)
    final = wait_for_job(
        plangrep_mock.base_url, plangrep_mock.api_key, job["id"], plangrep_mock.sleep
    )
    assert final["status"] == "completed"
    statuses = [r["status"] for r in plangrep_mock.requests]
    assert statuses == [503, 503, 200]
    with pytest.raises(MockControlError, match="valid modes"):
        plangrep_mock.fault("explode")


@pytest.mark.plangrep_mock(polling="record", strict=False)
def test_check_raises_the_report_on_demand(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    client.get_job(job["id"])
    plangrep_mock.advance(60)
    client.get_job(job["id"])  # terminal now
    plangrep_mock.advance(60)
    client.get_job(job["id"])  # polled after terminal
    with pytest.raises(AssertionError, match=r"poll_after_terminal") as info:
        plangrep_mock.check()
    assert getattr(info.value, "rule", None) == "poll_after_terminal"


@pytest.mark.plangrep_mock(strict=False)
def test_check_reports_server_errors_first(plangrep_mock: PlangrepMock) -> None:
    plangrep_mock.server.call(plangrep_mock.state.server_errors.append, KeyError("lost"))
    with pytest.raises(ServerError, match="KeyError"):
        plangrep_mock.check()


def test_webhooks_reach_the_receiver_verified(
    plangrep_mock: PlangrepMock, plangrep_webhook_receiver: PlangrepWebhookReceiver
) -> None:
    job = plangrep_mock.create_job(webhook_url=plangrep_webhook_receiver.url)
    plangrep_mock.advance(60)
    event = plangrep_webhook_receiver.wait_for(job["id"], "completed", timeout=10)
    assert event.previous_status == "processing"
    assert plangrep_webhook_receiver.statuses(job["id"]) == [
        "awaiting_uploads",
        "uploading",
        "preflighting",
        "processing",
        "completed",
    ]
    latest = plangrep_webhook_receiver.latest(job["id"])
    assert latest is not None and latest["job"]["status"] == "completed"
    assert [d["state"] for d in plangrep_mock.deliveries] == ["delivered"] * 5
    assert len(plangrep_mock.job(job["id"])["deliveries"]) == 5


def test_receiver_rejects_a_wrongly_signed_delivery(
    plangrep_mock: PlangrepMock, plangrep_webhook_receiver: PlangrepWebhookReceiver
) -> None:
    plangrep_mock.fault("wrong_secret", count=1)
    job = plangrep_mock.create_job(webhook_url=plangrep_webhook_receiver.url)
    plangrep_mock.advance(60)
    plangrep_webhook_receiver.wait_for(job["id"], "completed", timeout=10)
    assert [r.reason for r in plangrep_webhook_receiver.rejected] == ["bad_signature"]
    assert plangrep_webhook_receiver.statuses(job["id"])[0] != "awaiting_uploads"


def test_reference_client_webhook_first(
    plangrep_mock: PlangrepMock, plangrep_webhook_receiver: PlangrepWebhookReceiver
) -> None:
    job = plangrep_mock.create_job(webhook_url=plangrep_webhook_receiver.url)
    final = wait_for_job(
        plangrep_mock.base_url,
        plangrep_mock.api_key,
        job["id"],
        plangrep_mock.sleep,
        events=plangrep_webhook_receiver,
    )
    assert final["status"] == "completed"
    # one poll at the start, one when the completion webhook arrived
    assert len(plangrep_mock.requests) == 2


def test_async_use_with_asleep(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()

    async def main() -> dict[str, Any]:
        async with AsyncPlangrepClient(
            plangrep_mock.base_url,
            plangrep_mock.api_key,
            policy=WaitPolicy(interval=5.0),
            sleep=plangrep_mock.asleep,
        ) as client:
            return await client.wait(job["id"])

    assert asyncio.run(main())["status"] == "completed"


@pytest.mark.plangrep_mock(clock="realtime", speed=1000.0)
def test_realtime_clock_moves_by_itself(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()
    client = PlangrepClient(
        plangrep_mock.base_url,
        plangrep_mock.api_key,
        policy=WaitPolicy(interval=5.0),
        sleep=lambda s: time.sleep(s / 1000),  # at 1000x, 5 virtual seconds are 5 ms
    )
    assert client.wait(job["id"])["status"] == "completed"


def test_options_reject_unknown_names() -> None:
    with pytest.raises(TypeError, match="allowed: scenario, credits"):
        MockOptions.from_kwargs({"credit": 5})
    with pytest.raises(ValueError, match="polling must be one of"):
        MockOptions(polling="sometimes").config()


def test_server_thread_start_stop_and_errors() -> None:
    server = MockServerThread()
    with pytest.raises(RuntimeError, match="not running"):
        server.call(lambda: 1)
    with server:
        with urllib.request.urlopen(server.url + "/_mock/health") as resp:
            assert json.loads(resp.read())["status"] == "ok"
        assert server.call(lambda: 41 + 1) == 42
        with pytest.raises(ZeroDivisionError):
            server.call(lambda: 1 / 0)
        server.check()
    server.stop()  # stopping twice is harmless
    with pytest.raises(RuntimeError, match="already started"):
        server.start()


def test_server_thread_reports_a_port_in_use() -> None:
    with MockServerThread() as first:
        taken = MockOptions().config()
        from dataclasses import replace

        with pytest.raises(OSError):
            MockServerThread(replace(taken, port=first.port)).start()


def test_client_errors_name_the_call(plangrep_mock: PlangrepMock) -> None:
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    with pytest.raises(PlangrepApiError, match=r"GET /jobs/job_nope answered 404 job_not_found"):
        client.get_job("job_nope")


EXAMPLE_PACK = str(Path(__file__).resolve().parents[2] / "fixtures" / "content" / "example.json")


@pytest.mark.plangrep_mock(content_packs=[EXAMPLE_PACK])
def test_content_packs_fix_the_content_of_files_by_name(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job(file_name="tower-a.pdf", content=b"x" * 300_000)
    plangrep_mock.advance(600)
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    assert client.get_job(job["id"])["status"] == "completed"
    sheets = client.request("GET", f"/projects/{plangrep_mock.project_id}/sheets")["sheets"]
    assert [s["sheetNumber"] for s in sheets] == ["A-101", "A-201", "S-101"]
    regions = client.request("GET", f"/projects/{plangrep_mock.project_id}/regions")["regions"]
    assert "Provide R-19 batt insulation at all exterior stud walls." in [
        r["text"] for r in regions
    ]


def test_without_a_pack_the_same_file_gets_generated_content(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job(file_name="tower-a.pdf", content=b"x" * 300_000)
    plangrep_mock.advance(600)
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    assert client.get_job(job["id"])["status"] == "completed"
    sheets = client.request("GET", f"/projects/{plangrep_mock.project_id}/sheets")["sheets"]
    assert len(sheets) == 3 and [s["sheetNumber"] for s in sheets] != ["A-101", "A-201", "S-101"]


def test_a_bad_content_pack_fails_the_fixture_naming_file_and_field(tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"files": [{"match": "a.pdf", "sheets": [{"sheetName": "x"}]}]}))
    with pytest.raises(ValueError, match=r"bad\.json: files\.0\.sheets\.0\.sheetNumber"):
        PlangrepMock(MockOptions(content_packs=(bad,))).start()
