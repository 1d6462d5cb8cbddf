"""Fault injection (defined by the mock): one table of modes (`table.py`), each with the one
function that applies it, and the registry of one server's faults (`registry.py`)."""

from __future__ import annotations

from .registry import (
    API_FAULT_MODES,
    FAULT_REQUEST_MODELS,
    FAULT_TARGETS,
    SIGNATURE_FAULT_MODES,
    WEBHOOK_FAULT_MODES,
    Fault,
    FaultCreatedResponse,
    FaultRegistry,
    FaultRequest,
    FaultsDeletedResponse,
    FaultSpecError,
    FaultsResponse,
    FaultView,
)
from .table import (
    FAULT_MODES,
    ApiCall,
    ApiErrorFaultRequest,
    ApiLatencyFaultRequest,
    FaultHit,
    FaultMode,
    Frame,
    Queueing,
    WebhookFaultRequest,
    WebhookTimedFaultRequest,
    modes,
)

__all__ = [
    "API_FAULT_MODES",
    "FAULT_MODES",
    "FAULT_REQUEST_MODELS",
    "FAULT_TARGETS",
    "SIGNATURE_FAULT_MODES",
    "WEBHOOK_FAULT_MODES",
    "ApiCall",
    "ApiErrorFaultRequest",
    "ApiLatencyFaultRequest",
    "Fault",
    "FaultCreatedResponse",
    "FaultHit",
    "FaultMode",
    "FaultRegistry",
    "FaultRequest",
    "FaultSpecError",
    "FaultView",
    "FaultsDeletedResponse",
    "FaultsResponse",
    "Frame",
    "Queueing",
    "WebhookFaultRequest",
    "WebhookTimedFaultRequest",
    "modes",
]
