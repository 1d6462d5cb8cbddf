"""The one table of fault modes: each mode declared once, with the one function that applies it.

A row names the mode, its target (`webhooks`: one event of a job; `api`: one public API request),
when it acts, the request model `POST /_mock/faults` validates it with (and the OpenAPI document
shows), the default of its `seconds`, and its effect:

- webhook modes acting when an event is queued (`stage="queue"`) get a `Queueing` (drop it, hold
  it back, send it after the next one, send it twice);
- webhook modes acting on one attempt change a `Frame`, stage by stage (`FRAME_STAGES`): before
  it is signed (`"sign"`: the timestamp or the key), then its signature header (`"signature"`),
  its body (`"body"`) and its headers (`"headers"`);
- API modes (`stage="api"`) get the `ApiCall` and answer for it (an error, a late answer, an
  answer lost after the server committed, ...).

Everything here is defined by the mock; Plangrep documents none of it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from ..errors import ERROR_CODE_KEY, ServerError
from ..http.body import JsonInt
from ..webhooks.signing import new_secret, serialize_body, sign

__all__ = [
    "API_FAULT_REQUESTS",
    "FAULT_MODES",
    "FRAME_STAGES",
    "LOST_RESPONSE",
    "MAX_API_LATENCY",
    "MAX_COUNT",
    "ApiCall",
    "ApiErrorFaultRequest",
    "ApiLatencyFaultRequest",
    "ApiLostResponseFaultRequest",
    "ApiRateLimitFaultRequest",
    "FaultHit",
    "FaultMode",
    "Frame",
    "Queueing",
    "WebhookFaultRequest",
    "WebhookTimedFaultRequest",
    "modes",
]

MAX_COUNT = 1_000_000
MAX_API_LATENCY = 60.0
MAX_RETRY_AFTER = 3600
# the error code of an answer that never reached the client (the journal shows status 0)
LOST_RESPONSE = "lost_response"
Target = Literal["webhooks", "api"]
Stage = Literal["queue", "sign", "signature", "body", "headers", "api"]
# the order in which the stages of one webhook attempt are applied, after queueing
FRAME_STAGES: tuple[Stage, ...] = ("sign", "signature", "body", "headers")


# --------------------------------------------------------------------------- what effects act on


@dataclass(frozen=True, slots=True)
class FaultHit:
    """One fault taken for one event or request."""

    mode: str
    seconds: float | None
    fault_id: str
    status: int | None = None
    retry_after: int | None = None  # error, rate_limited: the Retry-After header

    @property
    def row(self) -> FaultMode:
        return FAULT_MODES[self.mode]


class Queueing(Protocol):
    """What a queue-stage webhook fault may do to the event being queued."""

    def drop(self) -> None: ...
    def hold_until(self, seconds: float) -> None: ...
    def send_after_next(self) -> None: ...
    def send_twice(self) -> None: ...


@dataclass(slots=True)
class Frame:
    """One webhook attempt as it is built: `timestamp` and `key` are used to sign; `signature`,
    `body` and `headers` are what goes out."""

    event_id: str
    body: bytes
    timestamp: int
    key: str
    signature: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ApiCall:
    """One public API request a fault answers for: `proceed()` runs the real handler, `wait(s)`
    lets `s` seconds pass (the wall clock on a server; the virtual clock in the contract kit)."""

    request: web.Request
    proceed: Callable[[], Awaitable[web.StreamResponse]]
    wait: Callable[[float], Awaitable[None]] = asyncio.sleep


# --------------------------------------------------------------------------- effects


def _drop(q: Queueing, hit: FaultHit) -> None:
    q.drop()


def _duplicate(q: Queueing, hit: FaultHit) -> None:
    q.send_twice()


def _delay(q: Queueing, hit: FaultHit) -> None:
    q.hold_until(hit.seconds or 0.0)


def _reorder(q: Queueing, hit: FaultHit) -> None:
    q.send_after_next()


def _wrong_secret(f: Frame, hit: FaultHit) -> None:
    f.key = new_secret()


def _stale_timestamp(f: Frame, hit: FaultHit) -> None:
    f.timestamp -= int(hit.seconds or 0)


def _future_timestamp(f: Frame, hit: FaultHit) -> None:
    f.timestamp += int(hit.seconds or 0)


def _rotated_secret(f: Frame, hit: FaultHit) -> None:
    # an old key's signature first, then the valid one
    f.signature = f"{sign(new_secret(), f.event_id, f.timestamp, f.body)} {f.signature}"


def _malformed_signature(f: Frame, hit: FaultHit) -> None:
    f.signature = f.signature.replace("v1,", "v1=")  # `v1=...`: not a Standard Webhooks header


def _tampered_body(f: Frame, hit: FaultHit) -> None:
    """The body an attacker would like to send: same event, the job claims another status."""
    payload = json.loads(f.body)
    job = payload.get("data", {}).get("job")
    if isinstance(job, dict):
        job["status"] = "completed" if job.get("status") != "completed" else "failed"
    else:  # a renderer without a job object: still change the bytes
        payload["tampered"] = True
    f.body = serialize_body(payload)


def _missing_header(f: Frame, hit: FaultHit) -> None:
    f.headers.pop("webhook-signature", None)


async def _api_error(call: ApiCall, hit: FaultHit) -> web.StreamResponse:
    status = hit.status or 500
    return ServerError(
        status=status,
        code="injected_fault",
        message=f"an API fault injected through /_mock/faults answered {status}",
        retry_after=hit.retry_after,
    ).response()


async def _api_latency(call: ApiCall, hit: FaultHit) -> web.StreamResponse:
    if hit.seconds:
        await call.wait(hit.seconds)
    return await call.proceed()


async def _api_rate_limited(call: ApiCall, hit: FaultHit) -> web.StreamResponse:
    retry_after = hit.retry_after or 10
    return ServerError(
        status=429,
        code="rate_limited",
        message=f"too many requests (a rate_limited fault injected through /_mock/faults); "
        f"retry after {retry_after} s",
        retry_after=retry_after,
    ).response()


_GATEWAY = {502: ("bad_gateway", "Bad Gateway"), 504: ("gateway_timeout", "Gateway Timeout")}


async def _lost_response(call: ApiCall, hit: FaultHit) -> web.StreamResponse:
    """The server does the work and commits, then its answer is lost on the way back: the
    client sees a 502/504 from a gateway, or the connection closed without an answer. A GET or
    HEAD commits nothing, so it is not run (a poll the client never saw is no poll)."""
    request = call.request
    committed: web.StreamResponse | None = None
    if request.method not in ("GET", "HEAD"):
        committed = await call.proceed()
    if hit.status in _GATEWAY:
        code, reason = _GATEWAY[hit.status]
        return ServerError(
            status=hit.status,
            code=code,
            message=f"{reason}: the answer from upstream was lost (a lost_response fault "
            "injected through /_mock/faults); the request may or may not have been processed",
        ).response()
    transport = request.transport
    if transport is not None:  # close the socket before a byte of the answer is written
        transport.abort()
    answer = committed if committed is not None else web.Response(status=204)
    answer[ERROR_CODE_KEY] = LOST_RESPONSE
    return answer


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True, slots=True)
class FaultMode:
    """One fault mode: what it targets, when it acts, how it is asked for, what it does."""

    name: str
    target: Target
    stage: Stage
    apply: Callable[..., Any]
    summary: str
    seconds_default: float | None = None

    @property
    def request(self) -> type[BaseModel]:
        """The body model `POST /_mock/faults` validates this mode with."""
        if self.target == "api":
            return API_FAULT_REQUESTS[self.name]
        return WebhookFaultRequest if self.seconds_default is None else WebhookTimedFaultRequest


def _row(
    name: str,
    target: Target,
    stage: Stage,
    apply: Callable[..., Any],
    summary: str,
    *,
    seconds: float | None = None,
) -> FaultMode:
    return FaultMode(name, target, stage, apply, summary, seconds)


_ROWS: tuple[FaultMode, ...] = (
    _row("drop", "webhooks", "queue", _drop, "the event is never sent"),
    _row("duplicate", "webhooks", "queue", _duplicate, "the event is sent twice (same id)"),
    _row(
        "delay", "webhooks", "queue", _delay, "held back `seconds` of virtual time",
        seconds=30.0,
    ),
    _row("reorder", "webhooks", "queue", _reorder, "sent after the job's next event"),
    _row("wrong_secret", "webhooks", "sign", _wrong_secret, "signed with another key"),
    _row("tampered_body", "webhooks", "body", _tampered_body, "body changed after signing"),
    _row(
        "stale_timestamp", "webhooks", "sign", _stale_timestamp,
        "webhook-timestamp `seconds` in the past (tolerance is 300 s)", seconds=600.0,
    ),
    _row(
        "future_timestamp", "webhooks", "sign", _future_timestamp,
        "webhook-timestamp `seconds` in the future", seconds=600.0,
    ),
    _row(
        "malformed_signature", "webhooks", "signature", _malformed_signature,
        "`v1=` instead of `v1,` in webhook-signature",
    ),
    _row("missing_header", "webhooks", "headers", _missing_header, "no webhook-signature header"),
    _row(
        "rotated_secret", "webhooks", "signature", _rotated_secret,
        "an old key's signature listed before the valid one",
    ),
    _row(
        "error", "api", "api", _api_error,
        "the request is answered 500 or 503 (with Retry-After when `retryAfter` is set)",
    ),
    _row("latency", "api", "api", _api_latency, "the answer waits `seconds` (wall clock)"),
    _row(
        "rate_limited", "api", "api", _api_rate_limited,
        "the request is answered 429 rate_limited with Retry-After `retryAfter`",
    ),
    _row(
        "lost_response", "api", "api", _lost_response,
        "the server commits the request, then its answer is lost: a 502 or 504 (`status`), or "
        "the connection closed without an answer (no `status`)",
    ),
)  # fmt: skip

# --------------------------------------------------------------------------- request models


_untimed = tuple(r.name for r in _ROWS if r.target == "webhooks" and r.seconds_default is None)
_timed = tuple(r.name for r in _ROWS if r.target == "webhooks" and r.seconds_default is not None)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class WebhookFaultRequest(_Strict):
    """Break the next `count` webhook events (of one job, with `jobId`)."""

    target: Literal["webhooks"]
    mode: str = Field(json_schema_extra={"enum": list(_untimed)})
    count: JsonInt = Field(1, ge=1, le=MAX_COUNT, description="events affected (default 1)")
    jobId: str | None = Field(None, description="only events of this job")
    probability: float = Field(
        1.0, ge=0.0, le=1.0, allow_inf_nan=False, description="chance per candidate event"
    )
    seed: JsonInt | None = Field(None, description="seed for `probability` draws (reproducible)")


class WebhookTimedFaultRequest(WebhookFaultRequest):
    """Hold back the next `count` webhook events, or send them with a timestamp off by
    `seconds`."""

    mode: str = Field(json_schema_extra={"enum": list(_timed)})
    seconds: float | None = Field(
        None,
        ge=0.0,
        le=10 * 365 * 86400,
        allow_inf_nan=False,
        description="delay: virtual seconds held back (default 30); stale_timestamp / "
        "future_timestamp: how far the webhook-timestamp is off (default 600)",
    )


_OPERATION = Field(
    None,
    min_length=1,
    max_length=100,
    description="only requests to this public operation (an operationId of /openapi.json, "
    "e.g. createJob, uploadFiles, completeUploads, getJob)",
)


class ApiErrorFaultRequest(_Strict):
    """Answer the next `count` public API requests with a JSON 500 or 503 (`injected_fault`),
    with a Retry-After header when `retryAfter` is given."""

    target: Literal["api"]
    mode: Literal["error"]
    status: Literal[500, 503] = 503
    count: JsonInt = Field(1, ge=1, le=MAX_COUNT)
    retryAfter: JsonInt | None = Field(
        None, ge=0, le=MAX_RETRY_AFTER, description="seconds, sent as the Retry-After header"
    )
    operation: str | None = _OPERATION


class ApiLatencyFaultRequest(_Strict):
    """Hold the next `count` public API requests for `seconds` (wall clock) before answering."""

    target: Literal["api"]
    mode: Literal["latency"]
    seconds: float = Field(gt=0.0, le=MAX_API_LATENCY, allow_inf_nan=False)
    count: JsonInt = Field(1, ge=1, le=MAX_COUNT)
    operation: str | None = _OPERATION


class ApiRateLimitFaultRequest(_Strict):
    """Answer the next `count` public API requests 429 `rate_limited` with `Retry-After`."""

    target: Literal["api"]
    mode: Literal["rate_limited"]
    retryAfter: JsonInt = Field(10, ge=1, le=MAX_RETRY_AFTER, description="seconds")
    count: JsonInt = Field(1, ge=1, le=MAX_COUNT)
    operation: str | None = _OPERATION


class ApiLostResponseFaultRequest(_Strict):
    """Run the next `count` public API requests (the server commits them), then lose their
    answers: a 502 or 504 from a gateway (`status`), or, without `status`, the connection
    closed before any answer. A GET commits nothing and is not run."""

    target: Literal["api"]
    mode: Literal["lost_response"]
    status: Literal[502, 504] | None = Field(
        None, description="502 or 504; none: the connection is closed without an answer"
    )
    count: JsonInt = Field(1, ge=1, le=MAX_COUNT)
    operation: str | None = _OPERATION


API_FAULT_REQUESTS: dict[str, type[BaseModel]] = {
    "error": ApiErrorFaultRequest,
    "latency": ApiLatencyFaultRequest,
    "rate_limited": ApiRateLimitFaultRequest,
    "lost_response": ApiLostResponseFaultRequest,
}


FAULT_MODES: dict[str, FaultMode] = {row.name: row for row in _ROWS}


def modes(target: Target | None = None, stage: Stage | None = None) -> tuple[str, ...]:
    """Mode names in table order, optionally of one target and stage."""
    return tuple(
        r.name
        for r in _ROWS
        if (target is None or r.target == target) and (stage is None or r.stage == stage)
    )
