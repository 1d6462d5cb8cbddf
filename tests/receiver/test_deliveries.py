"""The campaign's probes are what they claim to be: every body style is the same JSON value,
the real events walk the job machine, every valid kind verifies with the reference verifiers
(standardwebhooks, svix) and every mutation is refused by them. A receiver built on those
libraries can therefore never be flagged by construction of the probes."""

from __future__ import annotations

import itertools
import json
import random
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook
from svix.webhooks import Webhook as SvixWebhook

from mock_server.contract.deliveries import (
    ACCEPTED,
    MUTATIONS,
    REJECTED,
    BodyStyle,
    Knobs,
    build_request,
    secret_key,
    signature,
)
from mock_server.contract.receiver_strategies import (
    NASTY_TEXT,
    EventSource,
    JobPlan,
    Step,
    body_styles,
    canonical_campaign,
    draw_steps,
    job_plans,
    mutation_knobs,
    valid_knobs,
)
from mock_server.contract.strategies import PATHS, canonical_plans
from mock_server.webhooks.signing import new_message_id, new_secret, to_standard_secret
from statemachine import JOB_TRANSITIONS, TERMINAL_STATUSES

EDGES = {(src, str(dst)) for _event, sources, dst in JOB_TRANSITIONS for src in sources}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.sampled_from(NASTY_TEXT),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.dictionaries(st.text(), json_values, max_size=5), style=body_styles())
def test_every_body_style_is_the_same_json_value(value: dict[str, Any], style: BodyStyle) -> None:
    body = style.render(value)
    assert json.loads(body) == value
    if style.escape == "ascii":
        assert body.isascii()


def test_body_styles_differ_in_bytes() -> None:
    payload = {"a": "図面 / 👷", "b": [1, {"c": "\u2028"}]}
    styles = [
        BodyStyle(),
        BodyStyle(escape="utf8"),
        BodyStyle(escape="mixed"),
        BodyStyle(indent=2),
        BodyStyle(spaced=True),
        BodyStyle(key_order="reversed"),
        BodyStyle(escape_slashes=True),
        BodyStyle(upper_hex=True),
        BodyStyle(lead=" ", trail="\n"),
    ]
    bodies = [s.render(payload) for s in styles]
    assert len(set(bodies)) == len(bodies)
    assert b"\\/" in BodyStyle(escape_slashes=True).render(payload)
    assert b"\\u2028" in BodyStyle(escape="mixed").render(payload)
    assert "図".encode() in BodyStyle(escape="mixed").render(payload)
    with pytest.raises(ValueError, match="whitespace"):
        BodyStyle(lead="x")


def test_the_signature_is_the_standard_webhooks_one() -> None:
    secret = new_secret()
    body = '{"type":"job.status_changed","x":"図面"}'
    expected = Webhook(to_standard_secret(secret)).sign(
        "msg_1", datetime.fromtimestamp(1_700_000_000, UTC), body
    )
    assert signature(secret_key(secret), "msg_1", "1700000000", body.encode()) == expected


@pytest.mark.parametrize("plan", canonical_plans(PATHS), ids=lambda p: p.path)
def test_events_walk_the_job_machine(plan: Any) -> None:
    source = EventSource()
    events = source.events(JobPlan(plan, BodyStyle(), "ext", ("a.pdf",)))
    assert events, plan.path
    assert events[-1].status in TERMINAL_STATUSES
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    for before, after in itertools.pairwise(events):
        assert after.previous_status == before.status
    for e in events:
        assert (e.previous_status, e.status) in EDGES
        body = e.payload
        assert body["type"] == "job.status_changed"
        assert body["data"]["job"]["status"] == e.status
        assert body["data"]["previousStatus"] == e.previous_status
        assert body["data"]["sequence"] == e.sequence


def _verifies(secret: str, headers: tuple[tuple[str, str], ...], body: bytes) -> bool:
    """Both reference verifiers agree (any exception is a refusal)."""
    verdicts = []
    for hook in (Webhook(to_standard_secret(secret)), SvixWebhook(to_standard_secret(secret))):
        try:
            hook.verify(body, dict(headers))
            verdicts.append(True)
        except Exception:
            verdicts.append(False)
    assert verdicts[0] == verdicts[1], (headers, body[:100])
    return verdicts[0]


_SOURCE = EventSource()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(plan=job_plans(), rng=st.randoms(use_true_random=False))
def test_valid_kinds_verify_and_mutations_do_not(plan: JobPlan, rng: random.Random) -> None:
    secret = new_secret()
    key = secret_key(secret)
    events = _SOURCE.events(plan)
    steps = draw_steps(rng, len(events))
    for kind in (*ACCEPTED, *REJECTED):  # every kind, whatever draw_steps chose
        knobs = valid_knobs(rng) if MUTATIONS[kind].expect_accept else mutation_knobs(rng)
        steps.append(Step(kind, rng.randrange(len(events)), knobs))
    for step in steps:
        request, _ = build_request(
            step.kind,
            events[step.event],
            url="http://127.0.0.1/webhooks",
            key=key,
            msg_id=new_message_id(),
            now=int(time.time()),
            style=plan.style,
            knobs=step.knobs,
        )
        assert (
            _verifies(secret, request.headers, request.body) == MUTATIONS[step.kind].expect_accept
        ), step


@pytest.mark.parametrize("kind", REJECTED)
def test_every_variant_of_every_mutation_is_refused(kind: str) -> None:
    secret = new_secret()
    plan, _ = canonical_campaign()[0]
    event = EventSource().events(plan)[0]
    for variant in range(12):
        for position in (0.0, 0.5, 1.0):
            request, note = build_request(
                kind,
                event,
                url="http://127.0.0.1/webhooks",
                key=secret_key(secret),
                msg_id=new_message_id(),
                now=int(time.time()),
                style=plan.style,
                knobs=Knobs(variant=variant, position=position, byte=0x7B, offset=variant * 999),
            )
            assert not _verifies(secret, request.headers, request.body), (kind, note)


def test_the_canonical_campaign_sends_every_kind() -> None:
    kinds = {step.kind for _plan, steps in canonical_campaign() for step in steps}
    assert kinds == set(MUTATIONS)
    layouts = {step.knobs.layout for _plan, steps in canonical_campaign() for step in steps}
    assert layouts == {
        "single",
        "rotated_first",
        "rotated_last",
        "rotated_middle",
        "unknown_versions",
    }
    large = max(
        len(p.style.render(e.payload))
        for p, _ in canonical_campaign()
        for e in EventSource().events(p)
    )
    assert large > 100_000
