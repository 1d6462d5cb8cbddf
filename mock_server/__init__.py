"""plangrep-mock's HTTP side: the aiohttp server, webhooks, CLI, pytest plugin, contract kit."""

from __future__ import annotations

__all__: list[str] = []
