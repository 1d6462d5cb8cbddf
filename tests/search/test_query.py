"""From typed text to FTS5: nothing a user types is syntax, and nothing raises but the
documented validation error."""

from __future__ import annotations

import sqlite3
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.search import (
    MAX_HITS,
    SearchFilters,
    SearchValidationError,
    SourceIndex,
    parse_query,
)
from mock_server.search.query import MAX_TERM_CHARS, MAX_TERMS

from .conftest import region, small_project


def texts(query: str) -> list[tuple[str, bool]]:
    return [(t.text, t.phrase) for t in parse_query(query).terms]


def test_words_and_quoted_phrases() -> None:
    assert texts('fire "rated door" frame') == [
        ("fire", False),
        ("rated door", True),
        ("frame", False),
    ]
    assert texts("“curly quotes” too") == [("curly quotes", True), ("too", False)]


def test_consecutive_numbers_are_one_phrase() -> None:
    assert texts("section 03 30 00 concrete 7 days") == [
        ("section", False),
        ("03 30 00", True),
        ("concrete", False),
        ("7", False),
        ("days", False),
    ]
    assert texts("09 21") == [("09 21", True)]


def test_an_unmatched_quote_is_a_separator() -> None:
    assert texts('fire "rated door') == [("fire", False), ("rated", False), ("door", False)]


def test_operators_and_punctuation_stay_words() -> None:
    assert texts("a AND b OR NOT c NEAR(d)") == [
        ("a", False),
        ("AND", False),
        ("b", False),
        ("OR", False),
        ("NOT", False),
        ("c", False),
        ("NEAR(d)", False),
    ]
    term = parse_query('col:x*^"').terms[0]
    assert term.expr == '"col:x*^"'


def test_embedded_quotes_are_escaped() -> None:
    # only straight quotes delimit phrases, so an apostrophe-like mark stays inside a word
    term = parse_query("5'-0\u02ba").terms[0]
    assert term.expr.startswith('"') and term.expr.endswith('"')
    from mock_server.search.query import QueryTerm

    assert QueryTerm('say "hi"', False, ("say", "hi")).expr == '"say ""hi"""'


def test_wordless_parts_are_dropped_and_repeats_folded() -> None:
    assert texts('- * ! door DOOR Door "" \' ') == [("door", False)]
    parsed = parse_query(" ... ")
    assert parsed.terms == () and "no words" in parsed.warnings[0]


def test_the_term_count_and_term_length_are_capped_with_warnings() -> None:
    parsed = parse_query(" ".join(f"w{i}" for i in range(MAX_TERMS + 5)))
    assert len(parsed.terms) == MAX_TERMS
    assert any("5 ignored" in w for w in parsed.warnings)
    parsed = parse_query("x" * (MAX_TERM_CHARS + 10))
    assert len(parsed.terms[0].text) == MAX_TERM_CHARS
    assert any("cut" in w for w in parsed.warnings)


def test_an_empty_query_is_the_only_invalid_one() -> None:
    with pytest.raises(SearchValidationError) as info:
        parse_query("")
    assert info.value.field == "query"


# what users type: words, quotes, FTS5 operators, punctuation, any unicode (NUL, lone
# surrogates and astral characters included)
_SYNTAX = st.sampled_from(
    ['"', "'", "(", ")", "*", "^", ":", "-", "+", "AND", "OR", "NOT", "NEAR", "NEAR(", ",",
     "{", "}", "\\", "\x00", "\ud800", "\udfff", "\U0001f6d2", "\u0301", "\u200b", " ", "\n"]
)  # fmt: skip
ANY_CHAR = st.characters(exclude_categories=[])  # lone surrogates and NUL too
QUERIES = st.one_of(
    st.text(ANY_CHAR, min_size=1, max_size=300),
    st.lists(st.one_of(_SYNTAX, st.text(max_size=8)), min_size=1, max_size=40).map("".join),
).filter(bool)


@pytest.fixture(scope="module")
def searched() -> SourceIndex:
    index = SourceIndex()
    index.add(small_project())
    index.add([region("reg_u", "Unicode: café 鉄筋コンクリート हिन्दी \U0001f6d2 ǅx and \u0301")])
    return index


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=QUERIES,
    max_hits=st.integers(1, MAX_HITS),
    sheet=st.none() | st.text(ANY_CHAR, max_size=10),
    file_name=st.none() | st.text(ANY_CHAR, max_size=10),
)
def test_no_query_raises(
    searched: SourceIndex, query: str, max_hits: int, sheet: str | None, file_name: str | None
) -> None:
    try:
        filters = SearchFilters(sheet_number=sheet, file_name=file_name)
        result = searched.search(query, max_hits=max_hits, filters=filters)
    except sqlite3.Error as exc:  # pragma: no cover - the failure this test looks for
        pytest.fail(f"{query!r} reached SQLite unescaped: {exc}")
    assert result.hit_count <= max_hits
    for hit in result.hits:
        assert 0 < hit.score < 1


@settings(max_examples=50, deadline=None)
@given(query=st.text(ANY_CHAR, min_size=1, max_size=50).map(lambda s: s * 2000))
def test_huge_queries_do_not_raise(searched: SourceIndex, query: str) -> None:
    result = searched.search(query)
    assert result.hit_count <= 10


@settings(max_examples=200, deadline=None)
@given(word=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12))
def test_any_word_of_a_text_finds_that_text(word: str) -> None:
    index = SourceIndex()
    blank = region("reg_2", "\u2205", label="\u2205", sheet="\u2205")  # no word at all
    index.add([region("reg_1", f"before {word} after"), blank])
    hits = index.search(word).hits
    assert hits and hits[0].uri.endswith("/reg_1")
    # snippets come from the NFC form of the text (a compatibility ideograph is normalized)
    assert unicodedata.normalize("NFC", word) in hits[0].snippet


@settings(max_examples=100, deadline=None)
@given(
    title=st.text(ANY_CHAR, max_size=40),
    text=st.text(ANY_CHAR, max_size=400),
    keyword=st.text(ANY_CHAR, max_size=12),
    facet_text=st.text(ANY_CHAR, max_size=100),
    query=QUERIES,
)
def test_any_source_text_indexes_and_searches(
    title: str, text: str, keyword: str, facet_text: str, query: str
) -> None:
    from mock_server.search import SearchSource, SourceFacet

    index = SourceIndex()
    index.add(
        [
            SearchSource(
                uri="u",
                type="specification",
                title=title,
                text=text,
                keywords=(keyword,),
                facets=(SourceFacet("f", title, facet_text),),
                sheet_number=keyword,
                file_name=title,
            )
        ]
    )
    for q in (query, text[:30] or "x", keyword or "x"):
        for hit in index.search(q, max_hits=5).hits:
            assert hit.uri == "u"
