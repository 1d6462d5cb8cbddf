from __future__ import annotations

import pytest

from mock_server.webhooks.signing import new_secret


@pytest.fixture
def secret() -> str:
    """A job's webhookSigningSecret, as Plangrep hands it out."""
    return new_secret()


@pytest.fixture(autouse=True)
def _not_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """check-receiver's GitHub output is on by default under GitHub Actions: the tests run it
    as if outside (one test turns it on), so a CI run's step summary stays the CI's own."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
