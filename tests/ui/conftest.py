"""Fixtures for the dashboard's tests: servers in background threads on 127.0.0.1:0."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.mock_server.conftest import make_server
from tests.mock_server.harness import Server

__all__ = ["make_server", "server"]  # make_server: the server tests' own fixture


@pytest.fixture
def server(make_server: Callable[..., Server]) -> Server:
    """A server with the manual clock and the polling rule on (the dashboard shows it)."""
    return make_server()
