"""The faults of one server (`POST /_mock/faults`): registered, counted down and taken.

Webhook faults are taken when an event is queued (one count per affected event) and act on that
event as their row in `table.py` says; API faults are taken by the public API, one count per
request. Everything here is defined by the mock; Plangrep documents none of it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel, RootModel, ValidationError

from statemachine import format_time

from .table import (
    FAULT_MODES,
    FRAME_STAGES,
    ApiErrorFaultRequest,
    ApiLatencyFaultRequest,
    ApiLostResponseFaultRequest,
    ApiRateLimitFaultRequest,
    FaultHit,
    WebhookFaultRequest,
    WebhookTimedFaultRequest,
    modes,
)

__all__ = [
    "API_FAULT_MODES",
    "FAULT_REQUEST_MODELS",
    "FAULT_TARGETS",
    "SIGNATURE_FAULT_MODES",
    "WEBHOOK_FAULT_MODES",
    "ApiErrorFaultRequest",
    "ApiLatencyFaultRequest",
    "ApiLostResponseFaultRequest",
    "ApiRateLimitFaultRequest",
    "Fault",
    "FaultCreatedResponse",
    "FaultHit",
    "FaultRegistry",
    "FaultRequest",
    "FaultSpecError",
    "FaultView",
    "FaultsDeletedResponse",
    "FaultsResponse",
    "WebhookFaultRequest",
    "WebhookTimedFaultRequest",
]

API_FAULT_MODES: tuple[str, ...] = modes("api")
WEBHOOK_FAULT_MODES: tuple[str, ...] = modes("webhooks")
FAULT_TARGETS: dict[str, tuple[str, ...]] = {
    "webhooks": WEBHOOK_FAULT_MODES,
    "api": API_FAULT_MODES,
}
# modes that change how one attempt is signed or framed
SIGNATURE_FAULT_MODES: frozenset[str] = frozenset(
    r.name for r in FAULT_MODES.values() if r.stage in FRAME_STAGES
)


class FaultRequest(
    RootModel[
        WebhookFaultRequest
        | WebhookTimedFaultRequest
        | ApiErrorFaultRequest
        | ApiLatencyFaultRequest
        | ApiRateLimitFaultRequest
        | ApiLostResponseFaultRequest
    ]
):
    """A `POST /_mock/faults` body: a webhook fault, or an API fault (error, latency,
    rate_limited, lost_response)."""


FAULT_REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    WebhookFaultRequest,
    WebhookTimedFaultRequest,
    ApiErrorFaultRequest,
    ApiLatencyFaultRequest,
    ApiRateLimitFaultRequest,
    ApiLostResponseFaultRequest,
)


class FaultView(BaseModel):
    """A fault as `GET /_mock/faults` shows it."""

    id: str
    target: str
    mode: str
    count: int
    remaining: int
    applied: int
    jobId: str | None = None
    probability: float | None = None
    seed: int | None = None
    seconds: float | None = None
    status: int | None = None
    createdAt: str
    retryAfter: int | None = None
    operation: str | None = None


class FaultsResponse(BaseModel):
    faults: list[FaultView]


class FaultCreatedResponse(BaseModel):
    fault: FaultView


class FaultsDeletedResponse(BaseModel):
    deleted: int


class FaultSpecError(ValueError):
    """A `POST /_mock/faults` body that is not a valid fault.

    `details` lists `{field, message}`; `valid` names what would have been accepted.
    """

    def __init__(
        self, message: str, details: list[dict[str, str]], valid: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.valid = valid or {}


class Fault:
    """A registered fault and how much of it is left."""

    __slots__ = (
        "applied",
        "count",
        "created_wall",
        "id",
        "job_id",
        "mode",
        "operation",
        "probability",
        "remaining",
        "retry_after",
        "rng",
        "seconds",
        "seed",
        "status",
        "target",
    )

    def __init__(
        self,
        fault_id: str,
        target: str,
        mode: str,
        count: int,
        *,
        job_id: str | None = None,
        probability: float | None = None,
        seed: int | None = None,
        seconds: float | None = None,
        status: int | None = None,
        retry_after: int | None = None,
        operation: str | None = None,
    ) -> None:
        self.id = fault_id
        self.target = target
        self.mode = mode
        self.count = count
        self.remaining = count
        self.applied = 0
        self.job_id = job_id
        self.probability = probability
        self.seed = seed
        self.seconds = seconds
        self.status = status
        self.retry_after = retry_after
        self.operation = operation
        self.rng = random.Random(seed)
        self.created_wall = time.time()

    def view(self) -> FaultView:
        return FaultView(
            id=self.id,
            target=self.target,
            mode=self.mode,
            count=self.count,
            remaining=self.remaining,
            applied=self.applied,
            jobId=self.job_id,
            probability=self.probability,
            seed=self.seed,
            seconds=self.seconds,
            status=self.status,
            createdAt=format_time(self.created_wall),
            retryAfter=self.retry_after,
            operation=self.operation,
        )

    def as_json(self) -> dict[str, Any]:
        return self.view().model_dump()


def _details(exc: ValidationError) -> list[dict[str, str]]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "body"
        out.append({"field": field, "message": err["msg"]})
    return out


def _valid_targets() -> dict[str, Any]:
    return {"validTargets": {k: list(v) for k, v in FAULT_TARGETS.items()}}


def _known_name(
    body: Mapping[str, Any], field: str, known: Collection[str], where: str, valid: dict[str, Any]
) -> str:
    """`body[field]` if it is one of `known`; else a `FaultSpecError` that lists them."""
    value = body.get(field)
    # a list or an object would not even hash: anything but a known name is unknown
    if not isinstance(value, str) or value not in known:
        names = ", ".join(known)
        raise FaultSpecError(
            f"unknown fault {field} {value!r}{where}; valid {field}s: {names}",
            [{"field": field, "message": f"must be one of: {names}"}],
            valid,
        )
    return value


class FaultRegistry:
    """The faults of one server. Not thread-safe: used from the server's event loop only."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._id_rng = random.Random()

    # ------------------------------------------------------------------ management

    def add(self, body: Any) -> Fault:
        """Validate a `POST /_mock/faults` body and register it; raises `FaultSpecError`."""
        if not isinstance(body, Mapping):
            raise FaultSpecError(
                "a fault is a JSON object with at least `target` and `mode`",
                [{"field": "body", "message": "expected a JSON object"}],
                _valid_targets(),
            )
        target = _known_name(body, "target", FAULT_TARGETS, "", _valid_targets())
        modes = FAULT_TARGETS[target]
        mode = _known_name(
            body, "mode", modes, f" for target {target!r}", {"validModes": list(modes)}
        )
        row = FAULT_MODES[mode]
        timed = [r.name for r in FAULT_MODES.values() if r.seconds_default is not None]
        if target == "webhooks" and row.seconds_default is None and "seconds" in body:
            allowed = ", ".join(timed)
            raise FaultSpecError(
                f"`seconds` does not apply to webhook fault {mode!r}; it applies to {allowed}",
                [{"field": "seconds", "message": f"only for modes {allowed}"}],
            )
        try:
            spec = row.request.model_validate(dict(body))
        except ValidationError as exc:
            details = _details(exc)
            raise FaultSpecError(
                f"invalid {target} fault {mode!r}: "
                + "; ".join(f"{d['field']}: {d['message']}" for d in details),
                details,
            ) from None
        fault_id = "flt_" + "".join(
            self._id_rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=26)
        )
        if isinstance(spec, WebhookFaultRequest):
            seconds = spec.seconds if isinstance(spec, WebhookTimedFaultRequest) else None
            if seconds is None:
                seconds = row.seconds_default
            fault = Fault(
                fault_id,
                "webhooks",
                spec.mode,
                spec.count,
                job_id=spec.jobId,
                probability=spec.probability,
                seed=spec.seed,
                seconds=seconds,
            )
        elif isinstance(spec, ApiErrorFaultRequest):
            fault = Fault(
                fault_id,
                "api",
                "error",
                spec.count,
                status=spec.status,
                retry_after=spec.retryAfter,
                operation=spec.operation,
            )
        elif isinstance(spec, ApiRateLimitFaultRequest):
            fault = Fault(
                fault_id,
                "api",
                "rate_limited",
                spec.count,
                status=429,
                retry_after=spec.retryAfter,
                operation=spec.operation,
            )
        elif isinstance(spec, ApiLostResponseFaultRequest):
            fault = Fault(
                fault_id,
                "api",
                "lost_response",
                spec.count,
                status=spec.status,
                operation=spec.operation,
            )
        else:
            assert isinstance(spec, ApiLatencyFaultRequest)
            fault = Fault(
                fault_id,
                "api",
                "latency",
                spec.count,
                seconds=spec.seconds,
                operation=spec.operation,
            )
        self._faults.append(fault)
        return fault

    def faults(self) -> list[Fault]:
        return list(self._faults)

    def remove(self, fault_id: str) -> None:
        """Forget one fault (one the control API refused after registering it)."""
        self._faults = [f for f in self._faults if f.id != fault_id]

    def clear(self) -> int:
        """Remove every fault; returns how many there were."""
        n = len(self._faults)
        self._faults.clear()
        return n

    @property
    def registered(self) -> bool:
        """Whether any fault is registered (used up or not): one cheap check per request."""
        return bool(self._faults)

    def active(self, target: str | None = None) -> bool:
        return any(
            f.remaining > 0 and (target is None or f.target == target) for f in self._faults
        )

    # ------------------------------------------------------------------ taking faults

    def take_webhook_faults(self, job_id: str, *, final: bool = False) -> list[FaultHit]:
        """The faults that hit one event of `job_id`, each consuming one count.

        `final` marks a job's last event (a terminal status): no later event exists to swap it
        with, so `reorder` passes it by and waits for the next event instead.
        """
        if not self._faults:
            return []
        hits: list[FaultHit] = []
        for f in self._faults:
            if f.target != "webhooks" or f.remaining <= 0:
                continue
            if f.job_id is not None and f.job_id != job_id:
                continue
            if final and f.mode == "reorder":
                continue
            if (
                f.probability is not None
                and f.probability < 1.0
                and f.rng.random() >= f.probability
            ):
                continue
            f.remaining -= 1
            f.applied += 1
            hits.append(FaultHit(f.mode, f.seconds, f.id))
        return hits

    def take_api_fault(self, path: str, operation: str | None = None) -> FaultHit | None:
        """The next API fault for a public API request (oldest first), consuming one count;
        a fault with an `operation` takes only requests to that operationId.

        Control API paths (`/_mock/...`) are never faulted, so tests can always reach it.
        """
        if not self._faults or path.startswith("/_mock") or path == "/openapi.json":
            return None
        for f in self._faults:
            if (
                f.target == "api"
                and f.remaining > 0
                and (f.operation is None or f.operation == operation)
            ):
                f.remaining -= 1
                f.applied += 1
                return FaultHit(f.mode, f.seconds, f.id, f.status, f.retry_after)
        return None
