"""`GET /openapi.json`: the OpenAPI 3.1 document of the public and control APIs."""

from __future__ import annotations

from aiohttp import web

__all__ = ["setup_openapi"]


def setup_openapi(app: web.Application) -> None:
    del app
