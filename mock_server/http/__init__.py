"""The HTTP plumbing every endpoint shares: endpoint declarations, the OpenAPI document, the
middleware, body reading, bearer keys, idempotency and pagination."""

from __future__ import annotations

__all__: list[str] = []
