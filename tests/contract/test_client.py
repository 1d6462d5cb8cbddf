"""The reference client against a scripted fake Plangrep: each behaviour, and each failure mode."""

from __future__ import annotations

import asyncio
import random
import socket
from typing import Any

import pytest

import statemachine
from mock_server.client import (
    TERMINAL_STATUSES,
    AsyncPlangrepClient,
    JobTimeout,
    PlangrepApiError,
    PlangrepClient,
    WaitPolicy,
    WebhookInbox,
    wait_for_job,
    wait_for_job_async,
)

from .conftest import ScriptedPlangrep, error, job

JOB = job("processing")["id"]
NON_TERMINAL = sorted(statemachine.ACTIVE_STATUSES)
STEADY = WaitPolicy(interval=15.0, jitter=0.0)


def client(fake: ScriptedPlangrep, policy: WaitPolicy = STEADY) -> PlangrepClient:
    return PlangrepClient(fake.base_url, "pgk_live_test", policy=policy, sleep=fake.sleep)


def test_terminal_statuses_match_the_machine() -> None:
    assert TERMINAL_STATUSES == statemachine.TERMINAL_STATUSES


@pytest.mark.parametrize("final", sorted(statemachine.TERMINAL_STATUSES))
def test_returns_the_first_terminal_job(scripted: ScriptedPlangrep, final: str) -> None:
    scripted.script = ["preflighting", "processing", final, "completed"]
    got = client(scripted).wait(JOB)
    assert got["status"] == final
    assert scripted.methods() == [f"GET /jobs/{JOB}"] * 3
    assert scripted.gaps() == [15.0, 15.0]


@pytest.mark.parametrize("status", NON_TERMINAL)
def test_keeps_polling_through_every_non_terminal_status(
    scripted: ScriptedPlangrep, status: str
) -> None:
    scripted.script = [status, status, "completed"]
    assert client(scripted).wait(JOB)["status"] == "completed"
    assert len(scripted.seen) == 3


def test_default_interval_is_15_s_with_jitter_never_below(scripted: ScriptedPlangrep) -> None:
    scripted.script = ["processing"] * 30 + ["completed"]
    c = PlangrepClient(scripted.base_url, "k", sleep=scripted.sleep, rng=random.Random(3))
    c.wait(JOB)
    gaps = scripted.gaps()
    assert all(15.0 <= g <= 18.0 for g in gaps), gaps
    assert len(set(gaps)) > 1  # jittered


def test_an_interval_below_5_s_is_refused_and_exactly_5_s_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"interval must be >= 5"):
        WaitPolicy(interval=4.9)
    assert WaitPolicy(interval=5.0).interval == 5.0


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(scripted: ScriptedPlangrep, status: int) -> None:
    scripted.script = [error(status, "slow_down", **{"Retry-After": "40"}), "completed"]
    assert client(scripted).wait(JOB)["status"] == "completed"
    assert scripted.gaps() == [40.0]


def test_5xx_backs_off_exponentially(scripted: ScriptedPlangrep) -> None:
    scripted.script = [error(500, "internal_error")] * 4 + ["completed"]
    assert client(scripted).wait(JOB)["status"] == "completed"
    assert scripted.gaps() == [15.0, 30.0, 60.0, 120.0]


def test_an_answer_without_a_job_is_transient(scripted: ScriptedPlangrep) -> None:
    scripted.script = [(200, "not a job", {}), (200, {"job": None}, {}), "completed"]
    assert client(scripted).wait(JOB)["status"] == "completed"
    assert scripted.gaps() == [15.0, 30.0]


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, "unauthorized"), (403, "insufficient_scope"), (404, "job_not_found")],
)
def test_permanent_errors_are_raised_at_once(
    scripted: ScriptedPlangrep, status: int, code: str
) -> None:
    scripted.script = [error(status, code), "completed"]
    with pytest.raises(PlangrepApiError) as info:
        client(scripted).wait(JOB)
    assert (info.value.status, info.value.code) == (status, code)
    assert not info.value.transient
    assert len(scripted.seen) == 1


def test_gives_up_with_job_timeout(scripted: ScriptedPlangrep) -> None:
    scripted.script = ["processing"]
    with pytest.raises(JobTimeout) as info:
        client(scripted, WaitPolicy(interval=15.0, jitter=0.0, timeout=600.0)).wait(JOB)
    assert info.value.waited >= 600.0
    assert info.value.last_status == "processing"
    assert isinstance(info.value, TimeoutError)
    assert len(scripted.seen) == 41  # t = 0, 15, ..., 600


def test_unreachable_server_is_transient_then_times_out() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    c = PlangrepClient(
        f"http://127.0.0.1:{port}/api/open/v1",
        "k",
        policy=WaitPolicy(interval=5.0, jitter=0.0, timeout=60.0),
        sleep=sleep,
    )
    with pytest.raises(JobTimeout) as info:
        c.wait(JOB)
    assert info.value.last_error is not None and "no answer" in info.value.last_error
    assert now[0] >= 60.0


def test_blocked_hook_tops_up_then_resumes_at_once(scripted: ScriptedPlangrep) -> None:
    scripted.script = [
        "blocked_insufficient_credits",
        (200, {"job": job("preflighting")}, {}),  # the resume answer
        "processing",
        "completed",
    ]
    seen: list[str] = []

    def top_up(j: dict[str, Any]) -> bool:
        seen.append(j["status"])
        return True

    assert client(scripted).wait(JOB, on_blocked=top_up)["status"] == "completed"
    assert seen == ["blocked_insufficient_credits"]
    assert scripted.methods()[:2] == [f"GET /jobs/{JOB}", f"POST /jobs/{JOB}/resume"]
    assert scripted.seen[1].at == scripted.seen[0].at  # no sleep between seeing and resuming


def test_blocked_hook_declining_means_no_resume(scripted: ScriptedPlangrep) -> None:
    scripted.script = ["blocked_insufficient_credits", "blocked_insufficient_credits", "expired"]
    assert client(scripted).wait(JOB, on_blocked=lambda j: False)["status"] == "expired"
    assert all(s.method == "GET" for s in scripted.seen)


def test_resume_race_lost_to_someone_else_is_fine(scripted: ScriptedPlangrep) -> None:
    scripted.script = [
        "blocked_insufficient_credits",
        error(409, "job_not_blocked"),
        "completed",
    ]
    assert client(scripted).wait(JOB, on_blocked=lambda j: True)["status"] == "completed"


def test_cancel_and_confirm_polls_until_cancelled(scripted: ScriptedPlangrep) -> None:
    scripted.script = [
        (200, {"job": job("cancelled")}, {}),  # acknowledged
        "processing",  # deferred: GET still says processing
        "cancelled",
    ]
    assert client(scripted).cancel_and_confirm(JOB)["status"] == "cancelled"
    assert scripted.methods() == [f"POST /jobs/{JOB}/cancel"] + [f"GET /jobs/{JOB}"] * 2


def test_cancel_that_lost_the_race_returns_the_completed_job(scripted: ScriptedPlangrep) -> None:
    scripted.script = [(200, {"job": job("cancelled")}, {}), "completed"]
    assert client(scripted).cancel_and_confirm(JOB)["status"] == "completed"


def test_cancel_of_a_terminal_job_reads_it_back(scripted: ScriptedPlangrep) -> None:
    scripted.script = [error(409, "job_not_cancellable"), "failed"]
    assert client(scripted).cancel_and_confirm(JOB)["status"] == "failed"


def test_cancel_retries_transient_errors_and_times_out(scripted: ScriptedPlangrep) -> None:
    scripted.script = [error(503, "unavailable")]
    c = client(scripted, WaitPolicy(interval=5.0, jitter=0.0, timeout=100.0))
    with pytest.raises(JobTimeout):
        c.cancel_and_confirm(JOB)
    assert {s.method for s in scripted.seen} == {"POST"}


def test_polls_of_one_job_stay_5_s_apart_across_calls(scripted: ScriptedPlangrep) -> None:
    scripted.script = ["completed", error(409, "job_not_cancellable"), "completed"]
    c = client(scripted)
    c.wait(JOB)
    c.cancel_and_confirm(JOB)  # its confirming GET must wait for the 5 s to pass
    assert scripted.gaps("GET") == [5.0]


def test_webhook_first_polls_when_an_event_arrives(scripted: ScriptedPlangrep) -> None:
    inbox = WebhookInbox()
    scripted.script = ["processing", "completed"]
    policy = WaitPolicy(interval=15.0, jitter=0.0, fallback_interval=60.0)
    c = client(scripted, policy)

    def sleep(seconds: float) -> None:
        scripted.sleep(seconds)
        if scripted.now >= 20:  # the completion webhook arrives at t = 20
            inbox.feed({"data": {"job": job("completed"), "sequence": 7}})

    c._sleep = sleep
    assert c.wait(JOB, events=inbox)["status"] == "completed"
    assert [s.at for s in scripted.seen] == [0.0, 20.0]


def test_webhook_first_falls_back_to_polling_when_no_event_comes(
    scripted: ScriptedPlangrep,
) -> None:
    scripted.script = ["processing", "processing", "completed"]
    policy = WaitPolicy(interval=15.0, jitter=0.0, fallback_interval=60.0)
    assert client(scripted, policy).wait(JOB, events=WebhookInbox())["status"] == "completed"
    assert [s.at for s in scripted.seen] == [0.0, 60.0, 120.0]


def test_inbox_keeps_the_newest_event_per_job() -> None:
    inbox = WebhookInbox()
    inbox.feed({"data": {"job": job("processing"), "sequence": 5}})
    inbox.feed({"data": {"job": job("preflighting"), "sequence": 4}})  # late, reordered
    inbox.feed({"not": "an event"})
    latest = inbox.latest(JOB)
    assert latest is not None and latest["job"]["status"] == "processing"
    assert inbox.latest("job_other") is None


def test_wait_for_job_has_check_clients_shape(scripted: ScriptedPlangrep) -> None:
    scripted.script = ["processing", "completed_with_errors"]
    got = wait_for_job(scripted.base_url, "k", JOB, scripted.sleep)
    assert got["status"] == "completed_with_errors"
    assert 15.0 <= scripted.gaps()[0] <= 18.0


def test_async_client_waits_backs_off_and_resumes(scripted: ScriptedPlangrep) -> None:
    scripted.script = [
        error(503, "unavailable", **{"Retry-After": "20"}),
        "blocked_insufficient_credits",
        (200, {"job": job("preflighting")}, {}),
        "processing",
        "completed",
    ]

    async def top_up(j: dict[str, Any]) -> bool:
        return True

    async def main() -> dict[str, Any]:
        async with AsyncPlangrepClient(
            scripted.base_url, "k", policy=STEADY, sleep=scripted.asleep
        ) as c:
            return await c.wait(JOB, on_blocked=top_up)

    assert asyncio.run(main())["status"] == "completed"
    assert scripted.methods()[2] == f"POST /jobs/{JOB}/resume"
    assert [s.at for s in scripted.seen] == [0.0, 20.0, 20.0, 35.0, 50.0]


def test_async_client_raises_permanent_errors_and_times_out(scripted: ScriptedPlangrep) -> None:
    scripted.script = [error(404, "job_not_found")]
    with pytest.raises(PlangrepApiError, match="job_not_found"):
        asyncio.run(wait_for_job_async(scripted.base_url, "k", JOB, scripted.asleep))
    scripted.script = ["processing"]
    with pytest.raises(JobTimeout):
        asyncio.run(
            wait_for_job_async(
                scripted.base_url,
                "k",
                JOB,
                scripted.asleep,
                policy=WaitPolicy(interval=5.0, timeout=30.0),
            )
        )


def test_async_cancel_and_confirm(scripted: ScriptedPlangrep) -> None:
    scripted.script = [error(500, "boom"), (200, {"job": job("cancelled")}, {}), "cancelled"]

    async def main() -> dict[str, Any]:
        async with AsyncPlangrepClient(
            scripted.base_url, "k", policy=STEADY, sleep=scripted.asleep
        ) as c:
            return await c.cancel_and_confirm(JOB)

    assert asyncio.run(main())["status"] == "cancelled"
