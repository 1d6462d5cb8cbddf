"""Webhook receivers for the receiver checker's tests: aiohttp applications an integrator could
write, conforming ones built on real verifiers and broken ones, one per rule.

Each `make_*` returns `(app, store)`: the application (deliveries at /webhooks) and the dict
of `job_id -> status` it recorded, which the tests hand to check_receiver as its state probe.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from standardwebhooks.webhooks import Webhook

from mock_server.webhooks.signing import to_standard_secret

Store = dict[str, Any]
Verify = Callable[[bytes, dict[str, str]], Any]


def _std(secret: str) -> Verify:
    """The standardwebhooks library's verifier (`wss_` swapped for `whsec_`)."""
    hook = Webhook(to_standard_secret(secret))

    def verify(body: bytes, headers: dict[str, str]) -> Any:
        return hook.verify(body, headers)

    return verify


def _svix(secret: str) -> Verify:
    """svix's verifier (it returns nothing: the body is parsed after it verified)."""
    from svix.webhooks import Webhook as SvixWebhook

    hook = SvixWebhook(to_standard_secret(secret))

    def verify(body: bytes, headers: dict[str, str]) -> Any:
        hook.verify(body, headers)
        return json.loads(body)

    return verify


def _app(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/webhooks", handler)
    return app


def conforming(
    secret: str, *, verifier: str = "standardwebhooks"
) -> tuple[web.Application, Store]:
    """Verify first (any error: 400), then dedupe by webhook-id and keep the newest status by
    data.sequence; 2xx to every verified delivery."""
    verify = _std(secret) if verifier == "standardwebhooks" else _svix(secret)
    store: Store = {}
    seen: set[str] = set()
    sequences: dict[str, int] = {}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        headers = dict(request.headers)
        try:
            payload = verify(body, headers)
        except Exception as exc:  # every failure to verify is a rejection
            return web.json_response({"error": type(exc).__name__}, status=400)
        msg_id = request.headers["webhook-id"]
        if msg_id in seen:
            return web.json_response({"duplicate": True})
        seen.add(msg_id)
        data = payload["data"]
        job_id, seq = data["job"]["id"], int(data["sequence"])
        if seq > sequences.get(job_id, 0):
            sequences[job_id] = seq
            store[job_id] = data["job"]["status"]
        return web.json_response({"ok": True})

    return _app(handle), store


# --------------------------------------------------------------------------- broken, one per rule


def reserializes(secret: str) -> tuple[web.Application, Store]:
    """valid_rejected: verifies `json.dumps(json.loads(body))` instead of the raw bytes."""
    verify = _std(secret)
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.dumps(json.loads(raw), separators=(",", ":")).encode()
            verify(body, dict(request.headers))
        except Exception:
            return web.Response(status=401)
        return web.Response(status=204)

    return _app(handle), store


def _hmac_checker(secret: str) -> Callable[[bytes, str, str], bytes]:
    key = base64.b64decode(to_standard_secret(secret).removeprefix("whsec_"))

    def mac(body: bytes, msg_id: str, timestamp: str) -> bytes:
        return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()

    return mac


def zip_compare(secret: str) -> tuple[web.Application, Store]:
    """forged_accepted: a hand-written verifier that compares the signature byte by byte with
    `zip`, which stops at the shorter one: a truncated (or empty) signature matches."""
    mac = _hmac_checker(secret)
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            msg_id = request.headers["webhook-id"]
            ts = request.headers["webhook-timestamp"]
            if abs(time.time() - int(ts)) > 300:
                return web.Response(status=400)
            expected = mac(raw, msg_id, ts)
            given = [
                base64.b64decode(s.split(",", 1)[1], validate=True)
                for s in request.headers["webhook-signature"].split(" ")
                if s.startswith("v1,")
            ]
        except (KeyError, ValueError):
            return web.Response(status=400)
        for sig in given:
            # the bug: zip stops at the shorter signature, and nothing checks the length
            if all(a == b for a, b in zip(expected, sig, strict=False)):
                return web.Response(status=200)
        return web.Response(status=401)

    return _app(handle), store


def no_timestamp_check(secret: str, *, allow: str) -> tuple[web.Application, Store]:
    """stale_accepted (`allow="past"`) or future_accepted (`allow="future"`): verifies the
    signature over the raw header timestamp but bounds the timestamp on one side only."""
    mac = _hmac_checker(secret)
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            msg_id = request.headers["webhook-id"]
            ts_text = request.headers["webhook-timestamp"]
            ts = int(ts_text)
            expected = mac(raw, msg_id, ts_text)
            sigs = [
                base64.b64decode(s.split(",", 1)[1], validate=True)
                for s in request.headers["webhook-signature"].split(" ")
                if s.startswith("v1,")
            ]
        except (KeyError, ValueError, IndexError):
            return web.Response(status=400)
        if not any(hmac.compare_digest(expected, s) for s in sigs):
            return web.Response(status=401)
        now = time.time()
        if allow == "past" and ts > now + 300:
            return web.Response(status=400)
        if allow == "future" and ts < now - 300:
            return web.Response(status=400)
        return web.Response(status=200)

    return _app(handle), store


def catches_only_verification_error(secret: str) -> tuple[web.Application, Store]:
    """crash_on_bad_input: catches the library's WebhookVerificationError only; the ValueError
    it raises for a `v1=` header (or a body that is not UTF-8) escapes: aiohttp answers 500."""
    from standardwebhooks.webhooks import WebhookVerificationError

    hook = Webhook(to_standard_secret(secret))
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            hook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return web.Response(status=400)
        return web.Response(status=200)

    return _app(handle), store


def rejects_duplicates(secret: str) -> tuple[web.Application, Store]:
    """duplicate_rejected: answers 409 to a webhook-id it has processed."""
    verify = _std(secret)
    store: Store = {}
    seen: set[str] = set()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            verify(body, dict(request.headers))
        except Exception:
            return web.Response(status=400)
        msg_id = request.headers["webhook-id"]
        if msg_id in seen:
            return web.Response(status=409, text="already processed")
        seen.add(msg_id)
        return web.Response(status=200)

    return _app(handle), store


def slow_on_completion(secret: str, *, delay: float) -> tuple[web.Application, Store]:
    """slow_ack: fetches the result before answering when a job completes (`delay` seconds)."""
    verify = _std(secret)
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            payload = verify(body, dict(request.headers))
        except Exception:
            return web.Response(status=400)
        if payload["data"]["job"]["status"] == "completed":
            await asyncio.sleep(delay)  # the bug: slow work before the acknowledgement
        return web.Response(status=200)

    return _app(handle), store


def last_write_wins(secret: str) -> tuple[web.Application, Store]:
    """state_regressed: verifies and dedupes correctly, but stores whatever status came last."""
    verify = _std(secret)
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            payload = verify(body, dict(request.headers))
        except Exception:
            return web.Response(status=400)
        job = payload["data"]["job"]
        store[job["id"]] = job["status"]
        return web.Response(status=200)

    return _app(handle), store


def hangs_on_empty_body(secret: str, *, hang: float) -> tuple[web.Application, Store]:
    """crash_on_bad_input (a timeout): waits for a body that is not coming when it is empty."""
    verify = _std(secret)
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if not body:
            await asyncio.sleep(hang)  # e.g. a parser waiting for more input
        try:
            verify(body, dict(request.headers))
        except Exception:
            return web.Response(status=400)
        return web.Response(status=200)

    return _app(handle), store


def drops_connection_without_signature(secret: str) -> tuple[web.Application, Store]:
    """crash_on_bad_input (a reset): closes the connection on a delivery with no signature."""
    verify = _std(secret)
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        if "webhook-signature" not in request.headers:
            assert request.transport is not None
            request.transport.close()
            return web.Response(status=400)
        try:
            verify(body, dict(request.headers))
        except Exception:
            return web.Response(status=400)
        return web.Response(status=200)

    return _app(handle), store


def verification_off(secret: str) -> tuple[web.Application, Store]:
    """forged_accepted, stale_accepted, future_accepted: verification switched off to test."""
    store: Store = {}

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    return _app(handle), store
