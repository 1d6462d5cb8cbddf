"""How to test your webhook handling.

`plangrep_webhook_receiver` is a receiver on 127.0.0.1 that verifies every delivery (Standard
Webhooks, with the job's `webhookSigningSecret`; used beside `plangrep_mock` it knows every job's
secret by itself) and records what it saw. Faults (`plangrep_mock.fault(...)`) make deliveries
go missing, arrive twice or carry a bad signature.
"""

from __future__ import annotations

from mock_server.client import wait_for_job
from mock_server.testing import PlangrepMock, PlangrepWebhookReceiver


def test_one_signed_event_per_status_change(
    plangrep_mock: PlangrepMock, plangrep_webhook_receiver: PlangrepWebhookReceiver
) -> None:
    job = plangrep_mock.create_job(webhook_url=plangrep_webhook_receiver.url)
    plangrep_mock.advance(60)

    event = plangrep_webhook_receiver.wait_for(job["id"], "completed", timeout=5)
    assert event.previous_status == "processing"
    assert plangrep_webhook_receiver.statuses(job["id"]) == [
        "awaiting_uploads",
        "uploading",
        "preflighting",
        "processing",
        "completed",
    ]
    assert plangrep_webhook_receiver.rejected == []


def test_webhook_first_with_polling_fallback(
    plangrep_mock: PlangrepMock, plangrep_webhook_receiver: PlangrepWebhookReceiver
) -> None:
    """The reference client polls when a webhook says the job moved (or every 60 s): here the
    completion webhook is dropped, and the fallback poll still finds the result."""
    job = plangrep_mock.create_job(webhook_url=plangrep_webhook_receiver.url)
    plangrep_mock.fault("drop", count=10, jobId=job["id"])  # every later delivery is lost

    final = wait_for_job(
        plangrep_mock.base_url,
        plangrep_mock.api_key,
        job["id"],
        plangrep_mock.sleep,
        events=plangrep_webhook_receiver,
    )
    assert final["status"] == "completed"
    polls = [r for r in plangrep_mock.requests if r["method"] == "GET"]
    assert len(polls) == 2  # at the start, and the fallback 60 s later


def test_a_forged_delivery_is_rejected(
    plangrep_mock: PlangrepMock, plangrep_webhook_receiver: PlangrepWebhookReceiver
) -> None:
    plangrep_mock.fault("tampered_body", count=1)
    job = plangrep_mock.create_job(webhook_url=plangrep_webhook_receiver.url)
    plangrep_mock.advance(60)
    plangrep_webhook_receiver.wait_for(job["id"], "completed", timeout=5)
    assert [r.reason for r in plangrep_webhook_receiver.rejected] == ["bad_signature"]
    outcomes = [d["state"] for d in plangrep_mock.deliveries]
    assert outcomes.count("failed") == 1  # the receiver answered the forgery 400
