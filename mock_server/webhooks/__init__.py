"""Signed webhooks (Standard Webhooks scheme), their delivery log, fault injection, a receiver.

The dispatcher is part of every server (`MockState.webhooks`, wired in `create_app`);
`WebhookReceiver` is the receiving end for users' tests. Plangrep documents that a
signed POST goes out on every status change, not how it is signed: the scheme is the mock's choice.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .signing import (
    InvalidSecret,
    new_message_id,
    new_secret,
    serialize_body,
    sign,
    signature_headers,
    to_standard_secret,
    verify,
)

if TYPE_CHECKING:
    from .dispatcher import (
        DEFAULT_RETRY_SCHEDULE,
        EVENT_TYPE,
        Attempt,
        Delivery,
        JobRenderer,
        WebhookDispatcher,
    )
    from .receiver import ReceivedEvent, RejectedDelivery, WebhookReceiver

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "EVENT_TYPE",
    "Attempt",
    "Delivery",
    "InvalidSecret",
    "JobRenderer",
    "ReceivedEvent",
    "RejectedDelivery",
    "WebhookDispatcher",
    "WebhookReceiver",
    "new_message_id",
    "new_secret",
    "serialize_body",
    "sign",
    "signature_headers",
    "to_standard_secret",
    "verify",
]

# The dispatcher and the receiver load on first use: the fault table (which the dispatcher uses)
# signs with `signing`, so importing this package must not import the dispatcher first.
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ("DEFAULT_RETRY_SCHEDULE", "EVENT_TYPE", "Attempt", "Delivery", "JobRenderer"),
        ".dispatcher",
    ),
    "WebhookDispatcher": ".dispatcher",
    **dict.fromkeys(("ReceivedEvent", "RejectedDelivery", "WebhookReceiver"), ".receiver"),
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
