"""How to grade your webhook receiver: `check_receiver` sends it valid and adversarial deliveries
of real job events, signed with the job's `wss_` secret, and judges every answer.

Hand it the receiver's URL, or (aiohttp) the application itself: it is then served in-process on
a free port. The code blocks of docs/receiver.md are these tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mock_server.contract import ContractViolation, check_receiver
from mock_server.webhooks.signing import new_secret

SECRET = new_secret()  # in your app: the job's webhookSigningSecret, from your settings


def make_app(secret: str) -> tuple[web.Application, dict[str, tuple[int, str]]]:
    hook = Webhook(secret.replace("wss_", "whsec_", 1))
    seen: set[str] = set()
    latest: dict[str, tuple[int, str]] = {}  # job id -> (sequence, status)

    async def webhooks(request: web.Request) -> web.Response:
        body = await request.read()  # the raw bytes: verification is byte-exact
        try:
            event = hook.verify(body, dict(request.headers))
        except Exception:  # not only WebhookVerificationError: ValueError, UnicodeDecodeError
            return web.json_response({"error": "invalid delivery"}, status=400)
        if request.headers["webhook-id"] not in seen:  # a retry is acknowledged, not redone
            seen.add(request.headers["webhook-id"])
            data = event["data"]
            job = data["job"]
            if data["sequence"] > latest.get(job["id"], (0, ""))[0]:  # older statuses lose
                latest[job["id"]] = (data["sequence"], job["status"])
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhooks", webhooks)
    return app, latest


def test_my_receiver_conforms() -> None:
    app, latest = make_app(SECRET)
    result = check_receiver(
        app,
        secret=SECRET,
        max_examples=20,
        seed=1,
        state_probe=lambda job_id: latest[job_id][1] if job_id in latest else None,
    )
    assert result.passed
    print(result.stats["summary"])


def test_what_a_violation_looks_like() -> None:
    hook = Webhook(SECRET.replace("wss_", "whsec_", 1))

    async def webhooks(request: web.Request) -> web.Response:
        try:
            hook.verify(await request.read(), dict(request.headers))
        except WebhookVerificationError:  # too narrow: a `v1=...` header raises ValueError
            return web.Response(status=400)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/webhooks", webhooks)
    with pytest.raises(ContractViolation) as info:
        check_receiver(app, secret=SECRET, max_examples=5, seed=1)
    assert info.value.rule == "crash_on_bad_input"
    assert info.value.answer["status"] == 500
    print(info.value.report)


def test_in_a_test_with_the_fixture(plangrep_mock: Any) -> None:
    app, _ = make_app(SECRET)
    plangrep_mock.check_receiver(app, secret=SECRET, max_examples=5, seed=2)
