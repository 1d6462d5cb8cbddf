"""Source text: pages that reassemble exactly, cursors that only work where they were issued,
text kinds and facets, unknown URIs."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.search import (
    MAX_CHARS,
    InvalidCursor,
    SearchValidationError,
    SourceIndex,
    SourceNotFound,
    region_uri,
)
from mock_server.search.text import encode_cursor

from .conftest import PROJECT, region, spec

REG = region_uri(PROJECT, "reg_1")


def walk(index: SourceIndex, uri: str, sizes: list[int], **kw: object) -> tuple[str, int]:
    """Every page from the start, maxChars cycling through `sizes`; (text, pages)."""
    parts: list[str] = []
    cursor: str | None = None
    for n in range(1, 1_000_000):
        page = index.source_text(
            uri,
            max_chars=sizes[(n - 1) % len(sizes)],
            cursor=cursor,
            **kw,  # type: ignore[arg-type]
        )
        assert page.offset == sum(map(len, parts))
        parts.append(page.text)
        cursor = page.next_cursor
        if cursor is None:
            return "".join(parts), n
    raise AssertionError("the walk never ended")


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(st.characters(exclude_categories=[]), max_size=3000),  # surrogates too
    sizes=st.lists(st.integers(1, MAX_CHARS), min_size=1, max_size=5)
    | st.lists(st.integers(1, 40), min_size=1, max_size=5),
)
def test_a_cursor_walk_reassembles_the_whole_text(text: str, sizes: list[int]) -> None:
    index = SourceIndex()
    index.add([region("reg_1", text)])
    got, pages = walk(index, REG, sizes)
    assert got == text  # exactly, lone surrogates and NULs included
    if len(set(sizes)) == 1:
        assert pages == max(1, -(-len(text) // sizes[0]))


def test_a_page_never_splits_a_character() -> None:
    text = "\U0001f6a7" * 7 + "e\u0301"  # astral characters and a combining pair
    index = SourceIndex()
    index.add([region("reg_1", text)])
    first = index.source_text(REG, max_chars=3)
    assert first.text == "\U0001f6a7" * 3 and first.total_chars == 9
    assert walk(index, REG, [2])[0] == text


def test_a_page_reports_its_place() -> None:
    index = SourceIndex()
    index.add([region("reg_1", "abcdefghij")])
    first = index.source_text(REG, max_chars=4)
    assert (first.text, first.offset, first.total_chars, first.cursor) == ("abcd", 0, 10, None)
    second = index.source_text(REG, max_chars=4, cursor=first.next_cursor)
    assert (second.text, second.offset, second.cursor) == ("efgh", 4, first.next_cursor)
    last = index.source_text(REG, max_chars=100, cursor=second.next_cursor)
    assert (last.text, last.next_cursor) == ("ij", None)
    wire = last.to_wire()
    assert wire["sourceCatalogUri"] == REG and wire["truncated"] is False
    assert wire["source"] == {"type": "region", "regionId": "reg_1", "sheetNumber": "A-101",
                              "pageNumber": 1}  # fmt: skip


def test_an_empty_text_is_one_empty_page() -> None:
    index = SourceIndex()
    index.add([region("reg_1", "")])
    page = index.source_text(REG)
    assert (page.text, page.next_cursor, page.total_chars) == ("", None, 0)


# -- cursors -----------------------------------------------------------------------------------


@pytest.fixture
def two() -> SourceIndex:
    index = SourceIndex()
    index.add(
        [
            region("reg_1", "x" * 100),
            region("reg_2", "x" * 100),
            spec("spec_1", "03 30 00", "Concrete", "y" * 100,
                 facets={"f1": ("Part 1", "z" * 100), "f2": ("Part 2", "z" * 100)}),
        ]
    )  # fmt: skip
    return index


@pytest.mark.parametrize(
    "cursor",
    ["", "garbage", "!!!!", "eA", "MTA6", "LTE6YWJj", encode_cursor(10, "AAAAAAAAAAAA"),
     "a" * 500, "é", base64.urlsafe_b64encode(b"\xff\xfe").decode()],
)  # fmt: skip
def test_a_cursor_the_api_did_not_issue_is_refused(two: SourceIndex, cursor: str) -> None:
    with pytest.raises(InvalidCursor) as info:
        two.source_text(REG, max_chars=10, cursor=cursor)
    assert info.value.code == "invalid_cursor"


def test_a_cursor_only_works_for_its_source_kind_and_facet(two: SourceIndex) -> None:
    spec_uri = next(s.uri for s in two.sources() if s.type == "specification")
    cursor = two.source_text(REG, max_chars=10).next_cursor
    assert two.source_text(REG, max_chars=10, cursor=cursor).text == "x" * 10  # the same: fine
    other = region_uri(PROJECT, "reg_2")  # the very same text, another source
    with pytest.raises(InvalidCursor, match="another source"):
        two.source_text(other, max_chars=10, cursor=cursor)
    with pytest.raises(InvalidCursor):
        two.source_text(REG, text_kind="page_regions", max_chars=10, cursor=cursor)
    f1 = two.source_text(spec_uri, text_kind="facet_source_text", facet_id="f1", max_chars=10)
    with pytest.raises(InvalidCursor):
        two.source_text(
            spec_uri, text_kind="facet_source_text", facet_id="f2", cursor=f1.next_cursor
        )
    with pytest.raises(InvalidCursor):
        two.source_text(
            spec_uri, text_kind="facet_match_text", facet_id="f1", cursor=f1.next_cursor
        )


def test_a_cursor_dies_when_a_later_job_replaces_the_source(two: SourceIndex) -> None:
    cursor = two.source_text(REG, max_chars=10).next_cursor
    two.add([region("reg_1", "w" * 100)])
    with pytest.raises(InvalidCursor, match="source changed"):
        two.source_text(REG, max_chars=10, cursor=cursor)


def test_a_forged_offset_outside_the_text_is_refused(two: SourceIndex) -> None:
    cursor = two.source_text(REG, max_chars=10).next_cursor
    assert cursor is not None
    digest = base64.urlsafe_b64decode(cursor + "==").decode().split(":")[1]
    with pytest.raises(InvalidCursor, match="outside the text"):
        two.source_text(REG, cursor=encode_cursor(100, digest))


# -- kinds, facets, limits -----------------------------------------------------------------


@pytest.fixture
def kinds() -> SourceIndex:
    index = SourceIndex()
    index.add(
        [
            region("reg_1", "Anchor bolts.", label="FOOTING"),
            spec("spec_1", "03 30 00", "Concrete", "Body text.",
                 facets={"f1": ("Part 2", "Portland  CEMENT,\n Type I.")}, markdown="# Given"),
        ]
    )  # fmt: skip
    return index


@pytest.mark.parametrize(
    ("kind", "facet", "expected"),
    [
        ("text", None, "Anchor bolts."),
        ("markdown", None, "# FOOTING\n\nAnchor bolts."),  # derived from title and text
        ("page_regions", None, "[detail] FOOTING\nAnchor bolts."),
    ],
)
def test_each_text_kind_of_a_region(
    kinds: SourceIndex, kind: str, facet: str | None, expected: str
) -> None:
    assert kinds.source_text(REG, text_kind=kind, facet_id=facet).text == expected


def test_facet_kinds_read_the_facet(kinds: SourceIndex) -> None:
    uri = next(s.uri for s in kinds.sources() if s.type == "specification")
    src = kinds.source_text(uri, text_kind="facet_source_text", facet_id="f1")
    assert src.text == "Portland  CEMENT,\n Type I." and src.source["facetId"] == "f1"
    match = kinds.source_text(uri, text_kind="facet_match_text", facet_id="f1")
    assert match.text == "portland cement, type i."
    assert kinds.source_text(uri, text_kind="markdown").text == "# Given"
    assert kinds.source_text(uri, text_kind="page_regions").text == ""  # none: empty


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"text_kind": "facet_source_text"}, "facetId", "needs a facetId; this source has: f1"),
        ({"text_kind": "facet_match_text", "facet_id": "f9"}, "facetId", "not a facet"),
        ({"text_kind": "text", "facet_id": "f1"}, "facetId", "applies to textKind facet_"),
        ({"text_kind": "html"}, "textKind", "not one of text, markdown"),
        ({"max_chars": 0}, "maxChars", "between 1 and 50,000"),
        ({"max_chars": MAX_CHARS + 1}, "maxChars", "between 1 and 50,000"),
    ],
)
def test_bad_source_text_requests_are_validation_errors(
    kinds: SourceIndex, kw: dict[str, object], field: str, words: str
) -> None:
    uri = next(s.uri for s in kinds.sources() if s.type == "specification")
    with pytest.raises(SearchValidationError, match=words) as info:
        kinds.source_text(uri, **kw)  # type: ignore[arg-type]
    assert info.value.field == field


def test_a_region_has_no_facets_to_read(kinds: SourceIndex) -> None:
    with pytest.raises(SearchValidationError, match="this source has: none"):
        kinds.source_text(REG, text_kind="facet_source_text")


@pytest.mark.parametrize("uri", ["pgcat://other/region/reg_1", "", "x" * 10_000])
def test_an_unknown_uri_is_not_found(kinds: SourceIndex, uri: str) -> None:
    with pytest.raises(SourceNotFound) as info:
        kinds.source_text(uri)
    assert info.value.code == "source_not_found" and len(str(info.value)) < 300


def test_max_chars_bounds_are_inclusive() -> None:
    index = SourceIndex()
    index.add([region("reg_1", "q" * (MAX_CHARS + 5))])
    assert len(index.source_text(REG, max_chars=1).text) == 1
    page = index.source_text(REG, max_chars=MAX_CHARS)
    assert len(page.text) == MAX_CHARS and page.next_cursor is not None
