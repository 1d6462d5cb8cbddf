"""Plangrep's public API under `/api/open/v1` (API.md part A), one module per resource:
projects, jobs, uploads, complete, results. Each lists its `ENDPOINTS`; `create_app` installs
them."""

from __future__ import annotations

__all__: list[str] = []
