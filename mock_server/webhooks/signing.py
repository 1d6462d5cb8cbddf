"""Webhook secrets, message ids, the body's one serialization, and Standard Webhooks signatures.

The signature itself is computed by the `standardwebhooks` library (never a hand-written HMAC):
Plangrep hands out `wss_` + base64(24 random bytes); the HMAC key is those bytes, so the same
string with the prefix swapped for `whsec_` is a Standard Webhooks secret.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from standardwebhooks.webhooks import Webhook

__all__ = [
    "MESSAGE_ID_PREFIX",
    "SECRET_PREFIX",
    "STANDARD_SECRET_PREFIX",
    "InvalidSecret",
    "new_message_id",
    "new_secret",
    "serialize_body",
    "sign",
    "signature_headers",
    "to_standard_secret",
    "verify",
]

SECRET_PREFIX = "wss_"
STANDARD_SECRET_PREFIX = "whsec_"
MESSAGE_ID_PREFIX = "msg_"
SECRET_BYTES = 24


class InvalidSecret(ValueError):
    """A webhook secret that is not `wss_` (or `whsec_`) + base64 of at least one byte."""

    def __init__(self, secret: str, reason: str) -> None:
        shown = secret[:8] + "..." if len(secret) > 8 else secret
        super().__init__(
            f"invalid webhook secret {shown!r}: {reason}; expected {SECRET_PREFIX!r} followed by "
            f"base64 of {SECRET_BYTES} random bytes"
        )
        self.reason = reason


def new_secret() -> str:
    """A fresh per-job signing secret: `wss_` + base64 of 24 bytes from the OS's CSPRNG."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def new_message_id() -> str:
    """A `webhook-id`: `msg_` + 26 lowercase alphanumerics (130 random bits, base32: fast)."""
    return (
        MESSAGE_ID_PREFIX + base64.b32encode(secrets.token_bytes(17)).decode("ascii")[:26].lower()
    )


def to_standard_secret(secret: str) -> str:
    """`wss_X` -> `whsec_X`, the form every Standard Webhooks library accepts.

    A `whsec_` secret is returned unchanged; anything else raises `InvalidSecret`.
    """
    if secret.startswith(SECRET_PREFIX):
        raw = secret[len(SECRET_PREFIX) :]
    elif secret.startswith(STANDARD_SECRET_PREFIX):
        raw = secret[len(STANDARD_SECRET_PREFIX) :]
    else:
        raise InvalidSecret(
            secret, f"it starts with neither {SECRET_PREFIX!r} nor {STANDARD_SECRET_PREFIX!r}"
        )
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSecret(secret, "the part after the prefix is not base64") from None
    if not key:
        raise InvalidSecret(secret, "the key is empty")
    return STANDARD_SECRET_PREFIX + raw


@lru_cache(maxsize=4096)
def _webhook(secret: str) -> Webhook:
    return Webhook(to_standard_secret(secret))


def serialize_body(payload: Mapping[str, Any]) -> bytes:
    """The one serialization of an event: compact JSON, ASCII only. These bytes are signed and
    sent as they are; nothing re-serializes the payload afterwards."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode(
        "ascii"
    )


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, computed by `standardwebhooks`."""
    when = datetime.fromtimestamp(timestamp, UTC)
    result: str = _webhook(secret).sign(msg_id, when, body.decode("ascii"))
    return result


def signature_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> Any:
    """Verify with the library's own verifier and return the parsed payload.

    Raises whatever the library raises: `WebhookVerificationError` for a missing header, a stale
    or future timestamp or no matching signature, but `ValueError` for a malformed signature
    header; callers must treat any exception as a rejection.
    """
    return _webhook(secret).verify(body, dict(headers))
