"""Fixtures for the dashboard's tests: servers in background threads on 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mock_server import MockConfig
from tests.mock_server.harness import Server


@pytest.fixture
def make_server() -> Iterator[Callable[..., Server]]:
    """`make_server(**config)` starts a server (manual clock by default); all stop at teardown."""
    servers: list[Server] = []

    def make(**config: Any) -> Server:
        config.setdefault("clock", "manual")
        config.setdefault("seed", 1)
        server = Server(MockConfig(**config)).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()
        assert not s.state.server_errors, f"the server raised: {s.state.server_errors!r}"


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    return make_server()
