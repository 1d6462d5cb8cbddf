from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _not_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks' GitHub output is on by default under GitHub Actions: the tests run the CLI
    as if outside it (a test that wants it turns it on), so that a CI run's own step summary
    does not collect the summaries of the broken clients the tests check."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
