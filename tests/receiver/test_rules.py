"""The receiver rules live in the one registry, each judged by exactly one function."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server.contract import JUDGES, RULES
from mock_server.contract.receiver_checker import _judge
from mock_server.contract.rules import rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "receiver.md"


def test_every_receiver_rule_has_one_judge() -> None:
    assert set(JUDGES) == {r.id for r in rules("receiver")}
    for r in rules("receiver"):
        assert r.text and r.source in ("plangrep", "mock")
        assert not r.server  # judged by check_receiver, not by the running server


def test_client_rules_stay_client_rules() -> None:
    assert set(RULES) == {r.id for r in rules("client")}
    assert not set(RULES) & set(JUDGES)


def test_a_judge_needs_a_receiver_rule_of_the_registry() -> None:
    with pytest.raises(KeyError, match="unknown contract rule"):
        _judge("made_up")
    with pytest.raises(ValueError, match="client rule"):
        _judge("polling_too_fast")


def test_the_docs_page_explains_every_rule() -> None:
    text = DOC.read_text(encoding="utf-8")
    for r in rules("receiver"):
        assert f"`{r.id}`" in text, r.id
