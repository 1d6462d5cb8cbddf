"""The receiver helper for users' tests (issue 5, Build 4)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import aiohttp
import pytest
import requests

from mock_server.webhooks import (
    WebhookReceiver,
    new_message_id,
    new_secret,
    serialize_body,
    signature_headers,
)

from .support import arun


def _event(job_id: str, status: str = "processing", sequence: int = 4) -> bytes:
    return serialize_body(
        {
            "type": "job.status_changed",
            "timestamp": "2024-11-02T09:00:00.000Z",
            "data": {
                "job": {"id": job_id, "status": status},
                "previousStatus": "preflighting",
                "sequence": sequence,
            },
        }
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(url, data=body, headers=headers, timeout=10)


def _signed(secret: str, body: bytes, msg_id: str | None = None) -> dict[str, str]:
    return signature_headers(secret, msg_id or new_message_id(), int(time.time()), body)


def test_sync_use_from_a_background_thread() -> None:
    secret = new_secret()
    with WebhookReceiver({"job_a": secret}).running() as receiver:
        assert receiver.url.startswith("http://127.0.0.1:")
        body = _event("job_a")
        resp = _post(receiver.url, body, _signed(secret, body))
        assert resp.status_code == 200
        event = receiver.wait_for("job_a", "processing", timeout=5)
        assert (event.job_id, event.status, event.previous_status, event.sequence) == (
            "job_a",
            "processing",
            "preflighting",
            4,
        )
        assert event.job == {"id": "job_a", "status": "processing"}
        assert event.answered == 200
    with pytest.raises(RuntimeError, match="not running"):
        _ = receiver.url


def test_wait_for_wakes_up_on_a_later_delivery() -> None:
    secret = new_secret()
    with WebhookReceiver({"job_a": secret}).running() as receiver:
        body = _event("job_a", "completed", 5)

        def later() -> None:
            time.sleep(0.05)
            _post(receiver.url, body, _signed(secret, body))

        t = threading.Thread(target=later)
        t.start()
        assert receiver.wait_for("job_a", "completed", timeout=10).sequence == 5
        t.join()


def test_wait_for_times_out_with_what_it_saw() -> None:
    secret = new_secret()
    with WebhookReceiver({"job_a": secret}).running() as receiver:
        body = _event("job_a", "processing")
        _post(receiver.url, body, _signed(secret, body))
        bad = _event("job_a", "failed")
        _post(receiver.url, bad, _signed(new_secret(), bad))
        with pytest.raises(TimeoutError) as info:
            receiver.wait_for("job_a", "completed", timeout=0.1)
        message = str(info.value)
        assert "status 'completed'" in message
        assert "['processing']" in message
        assert "['bad_signature']" in message


def test_async_use_on_the_same_loop() -> None:
    async def main() -> None:
        secret = new_secret()
        async with WebhookReceiver({"job_a": secret}) as receiver:
            body = _event("job_a")
            async with aiohttp.ClientSession() as session:
                resp = await session.post(receiver.url, data=body, headers=_signed(secret, body))
                assert resp.status == 200
            event = await receiver.wait_for_async("job_a", "processing", timeout=5)
            assert event.sequence == 4
            with pytest.raises(RuntimeError, match="block the receiver's own event loop"):
                receiver.wait_for("job_a", timeout=1)
            with pytest.raises(TimeoutError, match="no verified webhook"):
                await receiver.wait_for_async("job_a", "completed", timeout=0.05)

    arun(main())


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b), "missing_header"),
        (lambda h, b: ({**h, "webhook-signature": "v1=abc"}, b), "malformed_signature"),
        (lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), "bad_signature"),
        (lambda h, b: ({**h, "webhook-timestamp": "1000"}, b), "timestamp_too_old"),
        (lambda h, b: ({**h, "webhook-timestamp": "9999999999"}, b), "timestamp_too_new"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "invalid_timestamp"),
        (lambda h, b: (h, b.replace(b"processing", b"completed!")), "bad_signature"),
        (lambda h, b: (h, b"not json"), "invalid_json"),
        (lambda h, b: (h, b'{"data": {}}'), "no_job_id"),
    ],
)
def test_rejections_name_the_reason(mutate, reason) -> None:  # type: ignore[no-untyped-def]
    secret = new_secret()
    with WebhookReceiver({"job_a": secret}).running() as receiver:
        body = _event("job_a")
        headers, sent = mutate(_signed(secret, body), body)
        resp = _post(receiver.url, sent, headers)
        assert resp.status_code == 400
        assert resp.json()["error"] == reason
        (rejected,) = receiver.rejected
        assert rejected.reason == reason
        assert rejected.body == sent
        assert receiver.events == []


def test_unknown_job_is_rejected_after_the_grace_period() -> None:
    with WebhookReceiver(secret_grace=0.05).running() as receiver:
        body = _event("job_zz")
        resp = _post(receiver.url, body, _signed(new_secret(), body))
        assert resp.status_code == 400
        assert receiver.rejected[0].reason == "unknown_job"
        assert "register(job_id, secret)" in receiver.rejected[0].detail


def test_a_delivery_racing_register_waits_for_the_secret() -> None:
    secret = new_secret()
    with WebhookReceiver(secret_grace=10).running() as receiver:
        body = _event("job_a")
        result: list[int] = []
        t = threading.Thread(
            target=lambda: result.append(
                _post(receiver.url, body, _signed(secret, body)).status_code
            )
        )
        t.start()
        time.sleep(0.05)  # let the request arrive first; correctness does not depend on it
        receiver.register("job_a", secret)
        t.join()
        assert result == [200]
        assert receiver.statuses("job_a") == ["processing"]


def test_secret_lookup_callback() -> None:
    secret = new_secret()
    asked: list[str] = []

    def lookup(job_id: str) -> str | None:
        asked.append(job_id)
        return secret if job_id == "job_a" else None

    with WebhookReceiver(secret_lookup=lookup, secret_grace=0).running() as receiver:
        body = _event("job_a")
        assert _post(receiver.url, body, _signed(secret, body)).status_code == 200
        assert asked == ["job_a"]


def test_whsec_secrets_work_too() -> None:
    secret = new_secret()
    with WebhookReceiver({"job_a": "whsec_" + secret[4:]}).running() as receiver:
        body = _event("job_a")
        assert _post(receiver.url, body, _signed(secret, body)).status_code == 200


def test_a_broken_registered_secret_is_reported() -> None:
    with WebhookReceiver({"job_a": "sk_live_x"}).running() as receiver:
        body = _event("job_a")
        assert _post(receiver.url, body, _signed(new_secret(), body)).status_code == 400
        assert receiver.rejected[0].reason == "bad_secret"


def test_respond_rules_status_count_job_and_headers() -> None:
    secret = new_secret()
    with WebhookReceiver({"job_a": secret, "job_b": secret}).running() as receiver:
        receiver.respond(500, count=2)
        receiver.respond(410, job_id="job_b", headers={"X-Why": "gone"})

        def send(job_id: str) -> requests.Response:
            body = _event(job_id)
            return _post(receiver.url, body, _signed(secret, body))

        b = send("job_b")
        assert (b.status_code, b.headers["X-Why"]) == (410, "gone")
        assert [send("job_a").status_code for _ in range(3)] == [500, 500, 200]
        assert send("job_b").status_code == 410
        receiver.reset_responses()
        assert send("job_b").status_code == 200
        assert [e.answered for e in receiver.events_for("job_a")] == [500, 500, 200]
        with pytest.raises(ValueError, match="status"):
            receiver.respond(99)
        with pytest.raises(ValueError, match="delay"):
            receiver.respond(200, delay=-1)
        with pytest.raises(ValueError, match="count"):
            receiver.respond(200, count=0)


def test_duplicates_are_flagged_and_clear_forgets() -> None:
    secret = new_secret()
    with WebhookReceiver({"job_a": secret}).running() as receiver:
        body = _event("job_a")
        msg = new_message_id()
        for _ in range(2):
            _post(receiver.url, body, _signed(secret, body, msg))
        assert [e.duplicate for e in receiver.events] == [False, True]
        receiver.clear()
        assert receiver.events == [] and receiver.rejected == []
        _post(receiver.url, body, _signed(secret, body, msg))
        assert [e.duplicate for e in receiver.events] == [False]


def test_payload_and_headers_are_kept() -> None:
    secret = new_secret()
    with WebhookReceiver({"job_a": secret}).running() as receiver:
        body = _event("job_a")
        headers = _signed(secret, body)
        _post(receiver.url, body, headers)
        (event,) = receiver.events
        assert event.payload == json.loads(body)
        assert event.headers["webhook-id"] == headers["webhook-id"]
        assert event.event_id == headers["webhook-id"]


def test_stop_does_not_wait_for_a_slow_answer() -> None:
    async def main() -> None:
        secret = new_secret()
        receiver = WebhookReceiver({"job_a": secret})
        await receiver.start()
        receiver.respond(200, delay=60)
        body = _event("job_a")
        async with aiohttp.ClientSession() as session:
            task = asyncio.ensure_future(
                session.post(receiver.url, data=body, headers=_signed(secret, body))
            )
            await receiver.wait_for_async("job_a", timeout=5)
            await asyncio.wait_for(receiver.stop(), 5)
            task.cancel()

    arun(main())
