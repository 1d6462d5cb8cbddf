"""plangrep-mock's HTTP side: the aiohttp server, webhooks, CLI, pytest plugin, contract kit."""

from __future__ import annotations

from .app import create_app
from .config import MockConfig
from .errors import ApiError
from .state import STATE_KEY, MockState

__all__ = ["STATE_KEY", "ApiError", "MockConfig", "MockState", "create_app"]
