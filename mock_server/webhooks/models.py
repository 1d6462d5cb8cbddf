"""Response bodies of the webhook control routes, as pydantic models (for the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "DeliveriesResponse",
    "DeliveryAttemptModel",
    "DeliveryModel",
    "RedeliverResponse",
    "WebhookEvent",
    "WebhookEventData",
]


class DeliveryAttemptModel(BaseModel):
    """One attempt to deliver one event (or its drop by a fault)."""

    attempt: int = Field(description="1-based, per delivery")
    deliveryId: str
    eventId: str = Field(description="the webhook-id header, stable across attempts")
    jobId: str
    kind: Literal["first", "retry", "duplicate", "redelivery"]
    wallTime: str = Field(description="wall clock when the attempt started")
    virtualTime: str = Field(description="the mock's virtual clock when the attempt started")
    httpStatus: int | None = Field(description="the receiver's status; null without an answer")
    error: str | None = Field(
        description="why there was no answer: refused, timeout, reset, dns, tls, invalid_url, "
        "connect_error, os_error, client_error, no_secret"
    )
    errorDetail: str | None
    latencyMs: float
    outcome: Literal["delivered", "failed", "dropped"]
    faults: list[str] = Field(description="fault modes applied to this attempt")


class DeliveryModel(BaseModel):
    """One event for one job's webhook URL, with every attempt made."""

    id: str = Field(description="dlv_...; redeliver with POST .../deliveries/{id}/redeliver")
    eventId: str
    jobId: str
    url: str
    type: Literal["job.status_changed"]
    jobStatus: str = Field(description="the status the job entered")
    previousStatus: str
    sequence: int
    timestamp: str = Field(description="virtual time of the transition")
    state: Literal["queued", "held", "delivered", "failed", "retrying", "dropped", "disabled"]
    faults: list[str]
    nextAttemptAt: str | None = Field(
        description="virtual time of a scheduled retry or of the end of a delay fault"
    )
    attempts: list[DeliveryAttemptModel]
    payload: dict[str, Any] | None = Field(None, description="the event body as sent")


class DeliveriesResponse(BaseModel):
    deliveries: list[DeliveryModel]


class RedeliverResponse(BaseModel):
    delivery: DeliveryModel


class WebhookEventData(BaseModel):
    job: dict[str, Any] = Field(description="the Job object as of this transition")
    previousStatus: str
    sequence: int = Field(description="1-based position of the transition in the job's history")


class WebhookEvent(BaseModel):
    """The body of every webhook POST (defined by the mock)."""

    type: Literal["job.status_changed"]
    timestamp: str = Field(description="virtual time of the transition, ISO 8601 ms UTC")
    data: WebhookEventData
