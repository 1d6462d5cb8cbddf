from __future__ import annotations

import pytest

from mock_server.webhooks.signing import new_secret


@pytest.fixture
def secret() -> str:
    """A job's webhookSigningSecret, as Plangrep hands it out."""
    return new_secret()
