"""Plangrep's public API under /api/open/v1 (API.md part A)."""

from __future__ import annotations

from aiohttp import web

__all__ = ["setup_public_api"]


def setup_public_api(app: web.Application) -> None:
    del app
