"""check_receiver against receivers served over real HTTP (in-process aiohttp, port 0): the
conforming ones pass under several seeds, and each broken one is caught with its rule, and only
with it."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from mock_server.config import MockConfig
from mock_server.contract import (
    ContractViolation,
    ReceiverUnreachable,
    ReceiverViolation,
    check_receiver,
)
from mock_server.contract.rules import rules
from mock_server.testing import MockServerThread
from mock_server.webhooks import WebhookReceiver
from mock_server.webhooks.signing import new_secret

from . import receivers

RECEIVER_RULES = {r.id for r in rules("receiver")}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("verifier", ["standardwebhooks", "svix"])
def test_a_conforming_receiver_passes(secret: str, verifier: str, seed: int) -> None:
    app, store = receivers.conforming(secret, verifier=verifier)
    result = check_receiver(
        app, secret=secret, max_examples=15, seed=seed, state_probe=store.get, state_settle=0
    )
    assert result.passed
    assert {r.rule.id for r in result.rules} == RECEIVER_RULES
    # every rule was judged, many times
    assert all(r.checks > 0 for r in result.rules), [(r.rule.id, r.checks) for r in result.rules]
    by_category = result.stats["byCategory"]
    assert set(by_category) == {"valid", "duplicate", "late", "forged", "stale", "future"}


def test_the_kits_own_receiver_conforms(secret: str) -> None:
    receiver = WebhookReceiver(secret_lookup=lambda _job: secret)

    def recorded(job_id: str) -> str | None:
        events = receiver.events_for(job_id)
        return max(events, key=lambda e: e.sequence).status if events else None

    with receiver.running():
        check_receiver(
            receiver.url, secret=secret, max_examples=10, seed=4, state_probe=recorded,
            state_settle=0,
        )  # fmt: skip


def test_a_whsec_secret_works_too(secret: str) -> None:
    app, _ = receivers.conforming(secret)
    check_receiver(app, secret="whsec_" + secret.removeprefix("wss_"), max_examples=2, seed=5)


Make = Callable[[str], tuple[web.Application, Any]]

BROKEN: list[tuple[str, Make, dict[str, Any]]] = [
    ("valid_rejected", receivers.reserializes, {}),
    ("forged_accepted", receivers.zip_compare, {}),
    ("stale_accepted", lambda s: receivers.no_timestamp_check(s, allow="past"), {}),
    ("future_accepted", lambda s: receivers.no_timestamp_check(s, allow="future"), {}),
    ("crash_on_bad_input", receivers.catches_only_verification_error, {}),
    ("crash_on_bad_input", lambda s: receivers.hangs_on_empty_body(s, hang=2.5), {"timeout": 1.0}),
    ("crash_on_bad_input", receivers.drops_connection_without_signature, {}),
    ("duplicate_rejected", receivers.rejects_duplicates, {}),
    (
        "slow_ack",
        lambda s: receivers.slow_on_completion(s, delay=0.15),
        {"slow_ack": 0.1},
    ),
    ("state_regressed", receivers.last_write_wins, {"state": True}),
]


@pytest.mark.parametrize(
    ("rule_id", "make", "options"),
    BROKEN,
    ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(BROKEN)],
)
def test_a_broken_receiver_is_caught_with_its_rule(
    secret: str, rule_id: str, make: Make, options: dict[str, Any]
) -> None:
    app, store = make(secret)
    options = dict(options)
    if options.pop("state", False):
        options.update(state_probe=store.get, state_settle=0)
    with pytest.raises(ReceiverViolation) as info:
        check_receiver(app, secret=secret, max_examples=3, seed=11, **options)
    exc = info.value
    assert isinstance(exc, ContractViolation)
    broken = {r.rule.id for r in exc.result.failed_rules}
    assert broken == {rule_id}, exc.report  # caught with its rule, and no false alarm
    assert exc.rule == rule_id
    assert exc.seed == 11
    # the exact request and the answer travel with the exception
    assert exc.request["method"] == "POST"
    assert len(base64.b64decode(exc.request["bodyBase64"])) == exc.request["bodyLength"]
    assert any(name.lower() == "webhook-id" for name, _ in exc.request["headers"]) or (
        exc.violations[0]["mutation"] == "missing_webhook_id"
    )
    assert "status" in exc.answer
    assert f"[{rule_id}]" in exc.report and "request:" in exc.report


def test_the_report_names_the_mutation_and_the_fix(secret: str) -> None:
    app, _ = receivers.zip_compare(secret)
    with pytest.raises(ReceiverViolation) as info:
        check_receiver(app, secret=secret, max_examples=0, seed=1)
    findings = info.value.result.rule("forged_accepted").findings
    mutations = {f.details["mutation"] for f in findings}
    # zip stops at the shorter signature: an empty one and a truncated one get through
    assert mutations <= {"empty_signature", "signature_wrong_length"}
    assert "signature_wrong_length" in mutations
    text = findings[0].text
    assert "webhook-signature" in text and "answer: 200" in text


def test_a_state_probe_url_template(secret: str) -> None:
    app, store = receivers.last_write_wins(secret)

    async def state(request: web.Request) -> web.Response:
        status = store.get(request.match_info["job_id"])
        if status is None:
            return web.json_response({"error": "unknown job"}, status=404)
        return web.json_response({"status": status})

    app.router.add_get("/state/{job_id}", state)
    with MockServerThread(app=app) as server, pytest.raises(ReceiverViolation) as info:
        check_receiver(
            server.url + "/webhooks",
            secret=secret,
            max_examples=0,
            state_probe=server.url + "/state/{job_id}",
            state_settle=0,
        )
    assert {r.rule.id for r in info.value.result.failed_rules} == {"state_regressed"}


def test_state_regressed_is_skipped_without_a_probe(secret: str) -> None:
    app, _ = receivers.last_write_wins(secret)
    result = check_receiver(app, secret=secret, max_examples=0)
    state = result.rule("state_regressed")
    assert state.status == "skipped" and state.checks == 0


def test_nothing_listening_is_unreachable(secret: str) -> None:
    with MockServerThread(app=web.Application()) as server:
        url = server.url + "/webhooks"
    with pytest.raises(ReceiverUnreachable, match="cannot reach the webhook receiver"):
        check_receiver(url, secret=secret, max_examples=1)


def test_wait_for_a_receiver_that_is_still_starting(secret: str) -> None:
    server = MockServerThread(app=web.Application()).start()  # a free port, freed again
    url = server.url + "/webhooks"
    server.stop()
    late = MockServerThread(
        MockConfig(clock="manual", port=server.port), app=receivers.conforming(secret)[0]
    )
    timer = threading.Timer(0.3, late.start)
    timer.start()
    try:
        result = check_receiver(url, secret=secret, max_examples=0, wait=10)
    finally:
        timer.join()
        late.stop()
    assert result.passed


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"secret": "sk_live_nope"}, "invalid webhook secret"),
        ({"max_examples": -1}, "max_examples"),
        ({"timeout": 0}, "timeout"),
        ({"slow_ack": -1}, "slow_ack"),
        ({"state_probe": "http://127.0.0.1:1/state"}, "job_id"),
        ({"paths": ("nowhere",)}, "unknown path"),
        ({"wait": -1}, "wait"),
    ],
)
def test_bad_arguments_say_what_is_allowed(kwargs: dict[str, Any], match: str) -> None:
    options: dict[str, Any] = {"secret": new_secret(), **kwargs}
    with pytest.raises(ValueError, match=match):
        check_receiver("http://127.0.0.1:1/webhooks", **options)


def test_not_a_url_or_app() -> None:
    with pytest.raises(TypeError, match="URL"):
        check_receiver(42, secret=new_secret())  # type: ignore[arg-type]


def test_the_fixture_delegates(plangrep_mock: Any, secret: str) -> None:
    app, _ = receivers.conforming(secret)
    result = plangrep_mock.check_receiver(app, secret=secret, max_examples=2, seed=9)
    assert result.passed
    broken, _ = receivers.rejects_duplicates(secret)
    with pytest.raises(ContractViolation, match="duplicate_rejected"):
        plangrep_mock.check_receiver(broken, secret=secret, max_examples=0)
