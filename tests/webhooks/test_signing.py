"""Secrets, ids, the body's serialization and signatures (issue 5, Build 1)."""

from __future__ import annotations

import base64
import re
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from mock_server.webhooks import (
    InvalidSecret,
    new_message_id,
    new_secret,
    serialize_body,
    sign,
    signature_headers,
    to_standard_secret,
    verify,
)


def test_standard_webhooks_test_vector_reproduces() -> None:
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_vector_also_reproduces_through_a_wss_secret() -> None:
    # the same key bytes under Plangrep's prefix
    signature = sign(
        "wss_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_wrong_key_does_not_reproduce_the_vector() -> None:
    signature = sign(
        "whsec_" + base64.b64encode(b"another key of some length").decode(),
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_secret_is_wss_plus_base64_of_24_random_bytes() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for s in secrets:
        assert s.startswith("wss_")
        assert len(base64.b64decode(s[4:], validate=True)) == 24


def test_prefix_swap_gives_a_secret_the_stock_library_accepts() -> None:
    secret = new_secret()
    standard = to_standard_secret(secret)
    assert standard == "whsec_" + secret[4:]
    body = serialize_body({"hello": "world"})
    ts = int(time.time())
    headers = signature_headers(secret, "msg_abc", ts, body)
    # the library, unchanged, with nothing of ours in between
    assert Webhook(standard).verify(body, headers) == {"hello": "world"}


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("sk_abc", "starts with neither"),
        ("wss_", "is empty"),
        ("wss_!!!not-base64", "not base64"),
        ("", "starts with neither"),
    ],
)
def test_invalid_secrets_are_refused_with_the_reason(secret: str, reason: str) -> None:
    with pytest.raises(InvalidSecret, match=reason) as info:
        to_standard_secret(secret)
    assert "expected 'wss_'" in str(info.value)


def test_message_ids_are_msg_plus_26_lowercase_alphanumerics() -> None:
    ids = {new_message_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"msg_[a-z0-9]{26}", i) for i in ids)


def test_body_is_compact_ascii_json_serialized_once() -> None:
    body = serialize_body({"b": "Zürich ✓", "a": [1, 2]})
    assert body == b'{"b":"Z\\u00fcrich \\u2713","a":[1,2]}'
    body.decode("ascii")  # pure ASCII: str and bytes sign the same


def test_body_refuses_nan() -> None:
    with pytest.raises(ValueError):
        serialize_body({"x": float("nan")})


def test_signature_covers_id_timestamp_and_body() -> None:
    secret = new_secret()
    base = sign(secret, "msg_a", 1000, b"{}")
    assert sign(secret, "msg_b", 1000, b"{}") != base
    assert sign(secret, "msg_a", 1001, b"{}") != base
    assert sign(secret, "msg_a", 1000, b"{ }") != base
    assert sign(secret, "msg_a", 1000, b"{}") == base


def test_verify_rejects_a_tampered_body_and_an_old_timestamp() -> None:
    secret = new_secret()
    body = serialize_body({"x": 1})
    now = int(time.time())
    good = signature_headers(secret, "msg_a", now, body)
    assert verify(secret, body, good) == {"x": 1}
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verify(secret, serialize_body({"x": 2}), good)
    old = signature_headers(secret, "msg_a", now - 3600, body)
    with pytest.raises(WebhookVerificationError, match="too old"):
        verify(secret, body, old)


def test_the_library_raises_valueerror_not_its_own_error_on_a_malformed_header() -> None:
    # why receivers must treat any exception as a rejection
    secret = new_secret()
    body = b"{}"
    headers = signature_headers(secret, "msg_a", int(time.time()), body)
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1=")
    with pytest.raises(ValueError) as info:
        verify(secret, body, headers)
    assert not isinstance(info.value, WebhookVerificationError)


def test_sign_uses_the_whole_second_of_the_timestamp() -> None:
    secret = new_secret()
    when = datetime(2024, 11, 2, 9, 0, 0, tzinfo=UTC)
    assert sign(secret, "msg_a", int(when.timestamp()), b"{}") == Webhook(
        to_standard_secret(secret)
    ).sign("msg_a", when, "{}")
