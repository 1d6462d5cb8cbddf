"""The reference submission in `mock_server.client`: webhook verification without a library,
the webhook queues, the retry policy, and `submit_and_wait` against the fixture under faults."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from mock_server.client import (
    AsyncWebhookQueue,
    JobTimeout,
    PlangrepApiError,
    WaitPolicy,
    WebhookQueue,
    WebhookVerificationFailed,
    submit_and_wait,
    submit_and_wait_async,
    verify_webhook,
)
from mock_server.testing import MockOptions, PlangrepMock
from mock_server.webhooks import new_secret, serialize_body, sign, signature_headers

BODY = serialize_body({"type": "job.status_changed", "data": {"sequence": 3}})
FILES = [
    ("01-plans.pdf", b"%PDF-1.4 plans", "application/pdf"),
    ("02-specifications.pdf", b"%PDF-1.4 specs" * 100, "application/pdf"),
]


def _headers(secret: str, body: bytes = BODY, at: int | None = None) -> dict[str, str]:
    return signature_headers(secret, "msg_1", int(time.time()) if at is None else at, body)


# --------------------------------------------------------------------------- verify_webhook


def test_a_delivery_signed_with_the_secret_verifies() -> None:
    secret = new_secret()
    assert verify_webhook(secret, _headers(secret), BODY)["data"]["sequence"] == 3
    upper = {k.upper(): v for k, v in _headers(secret).items()}  # header names any case
    assert verify_webhook(secret, upper, BODY)["type"] == "job.status_changed"


def test_one_valid_signature_among_several_is_enough() -> None:
    secret, old = new_secret(), new_secret()
    headers = _headers(secret)
    stamp = int(headers["webhook-timestamp"])
    headers["webhook-signature"] = (
        f"{sign(old, 'msg_1', stamp, BODY)} {headers['webhook-signature']}"
    )
    assert verify_webhook(secret, headers, BODY)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda h, b: (h, b + b" "), "no signature matches"),
        (lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), "no signature matches"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "no integer"),
        (lambda h, b: ({**h, "webhook-timestamp": str(int(time.time()) - 400)}, b), "off"),
        (lambda h, b: ({**h, "webhook-timestamp": str(int(time.time()) + 400)}, b), "off"),
    ],
)
def test_anything_else_is_refused(change: Any, match: str) -> None:
    secret = new_secret()
    headers, body = change(_headers(secret), BODY)
    with pytest.raises(WebhookVerificationFailed, match=match):
        verify_webhook(secret, headers, body)


def test_another_key_or_a_bad_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationFailed, match="no signature"):
        verify_webhook(new_secret(), _headers(new_secret()), BODY)
    for bad in ("sk_abc", "wss_***", "wss_"):
        with pytest.raises(WebhookVerificationFailed, match="not wss_"):
            verify_webhook(bad, _headers(new_secret()), BODY)


# --------------------------------------------------------------------------- queues, policy


def test_webhook_queue_hands_deliveries_in_order_then_times_out() -> None:
    queue = WebhookQueue()
    queue.put({"webhook-id": "msg_1"}, b"one")
    queue.put({"webhook-id": "msg_2"}, b"two")
    first, second = queue.next(0), queue.next(0)
    assert first is not None and second is not None
    assert (first.body, second.body) == (b"one", b"two")
    assert queue.next(0.01) is None


def test_async_webhook_queue_waits_for_a_delivery() -> None:
    async def run() -> tuple[bytes | None, Any]:
        queue = AsyncWebhookQueue()
        asyncio.get_running_loop().call_later(0.01, queue.put, {}, b"late")
        got = await queue.next(5)
        return (got.body if got is not None else None), await queue.next(0.01)

    assert asyncio.run(run()) == (b"late", None)


@pytest.mark.parametrize(
    "kwargs", [{"max_attempts": 0}, {"retry_backoff": 0.0}, {"retry_backoff": 1000.0}]
)
def test_the_retry_policy_is_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        WaitPolicy(**kwargs)


# --------------------------------------------------------------------------- against the fixture


class _Clock:
    def __init__(self, mock: PlangrepMock) -> None:
        self.mock, self.t = mock, 0.0

    def sleep(self, seconds: float) -> None:
        self.t += seconds
        self.mock.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def _run(mock: PlangrepMock, **kwargs: Any) -> dict[str, Any]:
    clock = _Clock(mock)
    return submit_and_wait(
        mock.base_url, mock.api_key, mock.project_id, FILES,
        sleep=clock.sleep, monotonic=lambda: clock.t, **kwargs,
    )  # fmt: skip


def test_it_survives_lost_answers_and_retry_after_and_breaks_no_rule() -> None:
    mock = PlangrepMock(MockOptions()).start()  # strict: any violation fails check()
    try:
        mock.fault("lost_response", target="api", operation="createJob")
        mock.fault("lost_response", target="api", status=502, operation="uploadFiles")
        mock.fault("rate_limited", target="api", retryAfter=20, operation="completeUploads")
        mock.fault("error", target="api", status=503, retryAfter=12, operation="getJobResult")
        result = _run(mock)
        assert result["schemaVersion"] == "v1" and result["job"]["status"] == "completed"
        (job,) = mock.state.engine.jobs.values()  # one job, each file stored once
        assert [f.file_name for f in job.files] == [name for name, _, _ in FILES]
        mock.check()
    finally:
        mock.stop()


def test_a_failed_job_is_returned_and_its_result_never_asked_for() -> None:
    mock = PlangrepMock(MockOptions(scenario="processing_fails")).start()
    try:
        job = _run(mock)
        assert job["status"] == "failed" and "schemaVersion" not in job
        assert not any(r["path"].endswith("/result") for r in mock.requests)
        mock.check()
    finally:
        mock.stop()


def test_a_call_that_keeps_failing_is_given_up_after_max_attempts() -> None:
    mock = PlangrepMock(MockOptions()).start()
    try:
        mock.fault("error", target="api", status=500, count=10, operation="createJob")
        with pytest.raises(PlangrepApiError, match="500"):
            _run(mock, policy=WaitPolicy(max_attempts=3))
        creates = [r for r in mock.requests if r["method"] == "POST"]
        assert len(creates) == 3
    finally:
        mock.stop()


def test_a_job_nobody_tops_up_times_out() -> None:
    mock = PlangrepMock(MockOptions(credits=0)).start()
    try:
        with pytest.raises(JobTimeout, match="blocked_insufficient_credits"):
            _run(mock, policy=WaitPolicy(timeout=120))
        mock.check()
    finally:
        mock.stop()


def test_the_async_twin_does_the_same() -> None:
    mock = PlangrepMock(MockOptions()).start()
    try:
        mock.fault("lost_response", target="api", status=504, operation="completeUploads")
        clock = _Clock(mock)
        result = asyncio.run(
            submit_and_wait_async(
                mock.base_url, mock.api_key, mock.project_id, FILES,
                sleep=clock.asleep, monotonic=lambda: clock.t,
            )
        )  # fmt: skip
        assert result["job"]["status"] == "completed"
        mock.check()
    finally:
        mock.stop()
