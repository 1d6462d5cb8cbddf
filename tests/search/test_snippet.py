"""Snippets cut in Python: where the terms are, how long, and the FTS5 fallback."""

from __future__ import annotations

import pytest

from mock_server.search import SourceIndex
from mock_server.search.snippet import SNIPPET_CHARS, TermFinder

from .conftest import region


def test_terms_are_found_as_whole_words_ignoring_case_and_diacritics() -> None:
    finder = TermFinder([("cafe",), ("r", "19")])
    text = "Le CAFÉ; r-19 and R_19; cafeteria; xr-19"
    assert [text[a:b] for a, b, _ in finder.find(text)] == ["CAFÉ", "r-19", "R_19"]


def test_a_phrase_matches_across_punctuation_but_not_inside_words() -> None:
    finder = TermFinder([("fire", "rating")])
    assert finder.snippet(["the fire-rating, fire_rating and fire  rating"]) is not None
    assert TermFinder([("insulation",)]).snippet(["preinsulation"]) is None


def test_the_window_is_short_and_marks_cut_text() -> None:
    text = " ".join(f"word{i}" for i in range(200)) + " needle " + "tail " * 200
    snip = TermFinder([("needle",)]).snippet([text])
    assert snip is not None and "needle" in snip
    assert snip.startswith("...") and snip.endswith("...")
    assert len(snip) <= SNIPPET_CHARS + 10


def test_a_short_text_is_shown_whole() -> None:
    assert TermFinder([("grout",)]).snippet(["Grout\nsolid."]) == "Grout solid."


def test_the_column_with_more_terms_wins() -> None:
    finder = TermFinder([("door",), ("schedule",)])
    assert finder.snippet(["see door notes", "DOOR SCHEDULE"]) == "DOOR SCHEDULE"


def test_a_hit_falls_back_to_fts5s_snippet_when_python_finds_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = SourceIndex()
    index.add([region("reg_1", "Seal every penetration with intumescent caulk.")])
    monkeypatch.setattr(TermFinder, "snippet", lambda self, texts: None)
    hit = index.search("intumescent").hits[0]
    assert "intumescent" in hit.snippet
