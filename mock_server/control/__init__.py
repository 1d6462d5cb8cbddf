"""The control API under `/_mock` (defined by the mock, not part of Plangrep), one module per
concern: system (health, reset, the OpenAPI document), clock, events (forced events and a job's
history), scenarios, accounts (credits, key revocation), journal (requests, violations), webhooks
(deliveries, redelivery) and faults. No authentication: it is for the test author, not the
integrator's client."""

from __future__ import annotations

__all__: list[str] = []
