"""Source search: relevance, filters, entity types, maxHits, snippets, scores, incremental
writes. Every assertion names what a broken index would get wrong."""

from __future__ import annotations

import pytest

from mock_server.search import (
    SearchFilters,
    SearchSource,
    SearchValidationError,
    SourceIndex,
    region_uri,
)
from mock_server.search import index as index_module

from .conftest import PROJECT, doc, region, small_project


def uris(index: SourceIndex, query: str, **kw: object) -> list[str]:
    return [h.uri for h in index.search(query, max_hits=50, **kw).hits]  # type: ignore[arg-type]


def rid(n: int) -> str:
    return region_uri(PROJECT, f"reg_{n}")


# -- relevance -------------------------------------------------------------------------------


def test_a_term_only_one_region_holds_returns_that_region_first() -> None:
    filler = [
        region(f"reg_{i}", f"Gypsum board partition {i} with acoustical sealant at head.")
        for i in range(10, 60)
    ]
    needle = region("reg_7", "Provide intumescent firestopping at every rated penetration.")
    index = SourceIndex()
    index.add([*filler[:25], needle, *filler[25:]])
    hits = index.search("intumescent").hits
    assert [h.uri for h in hits] == [rid(7)]
    # and with common words around it, the rare term still decides
    hits = index.search("gypsum board intumescent penetration").hits
    assert hits[0].uri == rid(7)


def test_chunks_holding_every_term_rank_above_chunks_holding_some(index: SourceIndex) -> None:
    result = index.search("insulation walls", max_hits=50)
    assert result.hits[0].uri == rid(1)  # the only chunk with both words
    assert result.hits[0].score >= 0.5
    partial = result.hits[1:]
    assert partial and all(h.score < 0.5 for h in partial)
    assert spec_uri("spec_2") in {h.uri for h in partial}  # "insulation" alone


def test_scores_are_descending_and_in_range(index: SourceIndex) -> None:
    for q in ["concrete", "fire rating corridor", "insulation at walls", "plan"]:
        scores = [h.score for h in index.search(q, max_hits=50).hits]
        assert scores == sorted(scores, reverse=True), q
        assert all(0.0 < s < 1.0 for s in scores), q


def test_title_words_weigh_more_than_body_words() -> None:
    index = SourceIndex()
    index.add(
        [
            region("reg_1", "Typical partition; see schedule for door hardware.", label="NOTES"),
            region("reg_2", "Typical partition types and heights.", label="DOOR SCHEDULE"),
        ]
        + [region(f"reg_{i}", "Unrelated text about roofing.") for i in range(3, 9)]
    )
    assert uris(index, "door")[:2] == [rid(2), rid(1)]


def test_query_syntax_is_literal_text(index: SourceIndex) -> None:
    # FTS5 would read these as operators, column filters or prefix queries
    assert uris(index, "NOT concrete") == uris(index, "not concrete")
    assert index.search("footing OR").hits[0].uri == rid(3)
    assert index.search('"corridor partitions"').hits[0].uri == rid(2)
    assert index.search("corridor:partitions").hits[0].uri == rid(2)  # not a column filter
    assert index.search("body:corridor").hits == ()  # the phrase "body corridor"
    assert index.search("concre*").hits == ()  # no prefix search: "concre" is not a word here


def test_a_quoted_phrase_needs_its_words_together(index: SourceIndex) -> None:
    assert uris(index, '"fire rating"') == [rid(2)]
    assert uris(index, '"rating fire"') == []
    assert uris(index, "rating fire") == [rid(2)]


def test_sheet_and_section_numbers_match_as_typed_and_without_separators(
    index: SourceIndex,
) -> None:
    for q in ["A-102", "a102", "A 102"]:
        assert index.search(q).hits[0].uri == rid(2), q
    for q in ["03 30 00", "033000"]:
        assert index.search(q).hits[0].uri == spec_uri("spec_1"), q
    # the numbers of a section number are a phrase: not found apart, in another order
    assert index.search("00 30 03").hits == ()
    assert index.search("R-19").hits[0].uri == rid(1)


def test_diacritics_and_case_are_ignored() -> None:
    index = SourceIndex()
    index.add([region("reg_1", "Béton armé pour la FONDATION."), region("reg_2", "Other.")])
    assert uris(index, "beton fondation") == [rid(1)]
    assert uris(index, "BÉTON") == [rid(1)]


# -- snippets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("insulation", ["insulation"]),
        ("R-19", ["R-19"]),
        ("fire rating", ["fire", "rating"]),
        ('"seven days"', ["seven days"]),
        ("curing", ["Curing"]),
        ("guardrail", ["guardrail"]),
        ("A102", ["A102"]),
    ],
)
def test_a_snippet_contains_the_matched_words(
    index: SourceIndex, query: str, words: list[str]
) -> None:
    hit = index.search(query).hits[0]
    for w in words:
        assert w in hit.snippet, (query, hit.snippet)


def test_a_long_text_gets_a_short_snippet_around_the_match() -> None:
    text = "Filler words about nothing. " * 200 + "The needle sits here. " + "More. " * 200
    index = SourceIndex()
    index.add([region("reg_1", text)])
    snip = index.search("needle").hits[0].snippet
    assert "needle" in snip and len(snip) < 250
    assert snip.startswith("...") and snip.endswith("...")


def test_the_snippet_shows_the_window_holding_most_terms() -> None:
    text = "alpha " + "filler " * 60 + "beta gamma here " + "filler " * 60 + "alpha beta gamma"
    index = SourceIndex()
    index.add([region("reg_1", text)])
    snip = index.search("alpha beta gamma").hits[0].snippet
    assert "alpha beta gamma" in snip


def test_a_facet_hit_names_its_facet_and_snippets_its_text(index: SourceIndex) -> None:
    hit = index.search("curing compound").hits[0]
    assert hit.uri == spec_uri("spec_1") and hit.facet_id == "fac_products"
    assert hit.source["facetId"] == "fac_products"
    assert hit.source["facetLabel"] == "Part 2 Products"
    assert hit.source["facetKey"] == "fac_products"  # the facet's extra fields
    assert hit.source["type"] == "specification" and hit.source["sectionNumber"] == "03 30 00"
    assert "Curing compound" in hit.snippet


def test_a_title_match_does_not_make_every_facet_a_hit(index: SourceIndex) -> None:
    hits = index.search("cast-in-place", max_hits=50).hits
    assert [(h.uri, h.facet_id) for h in hits] == [(spec_uri("spec_1"), None)]


# -- filters and entity types --------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "selected", "excluded"),
    [
        (SearchFilters(region_type="plan"), {2, 4}, {1, 3}),
        (SearchFilters(region_type="PLAN"), {2, 4}, {1, 3}),  # case ignored
        (SearchFilters(layout_type="table"), {4}, {1, 2, 3}),
        (SearchFilters(drawing_type="structural"), {3}, {1, 2, 4}),
        (SearchFilters(sheet_number="A-102"), {2}, {1, 3, 4}),
        (SearchFilters(sheet_number="a-102"), {2}, {1, 3, 4}),
        (SearchFilters(file_name="mep"), {4}, {1, 2, 3}),  # a substring, any case
        (SearchFilters(file_name="plans.PDF"), {1, 2}, {3, 4}),
        (SearchFilters(page_number=7), {3}, {1, 2, 4}),
        (SearchFilters(classification="mixed"), {4}, {1, 2, 3}),
        (SearchFilters(region_type="plan", classification="plans"), {2}, {1, 3, 4}),
    ],
)
def test_each_filter_selects_and_excludes(
    index: SourceIndex, filters: SearchFilters, selected: set[int], excluded: set[int]
) -> None:
    everything = "walls partitions footing room insulation rating concrete detectors"
    all_regions = set(uris(index, everything, entity_types=["region"]))
    assert all_regions == {rid(n) for n in (1, 2, 3, 4)}  # the query reaches every region
    got = set(uris(index, everything, filters=filters))
    assert got == {rid(n) for n in selected}
    assert not got & {rid(n) for n in excluded}


def test_a_filter_on_a_field_a_source_lacks_excludes_it(index: SourceIndex) -> None:
    got = uris(index, "concrete", filters=SearchFilters(region_type="detail"))
    assert got == [rid(3)]  # the concrete spec has no region type


def test_page_number_falls_within_a_sections_pages(index: SourceIndex) -> None:
    for page, expected in [(10, True), (12, True), (14, True), (15, False), (9, False)]:
        got = uris(index, "concrete", filters=SearchFilters(page_number=page))
        assert (spec_uri("spec_1") in got) is expected, page


def test_chunks_searched_counts_the_chunks_the_filters_leave(index: SourceIndex) -> None:
    total = index.chunk_count
    assert total == 7 + 2  # 7 sources, the concrete spec's 2 facets
    assert index.search("concrete").chunks_searched == total
    assert index.search("x", entity_types=["specification"]).chunks_searched == 4
    assert index.search("x", filters=SearchFilters(region_type="plan")).chunks_searched == 2
    assert index.search("x", filters=SearchFilters(sheet_number="Z-999")).chunks_searched == 0


@pytest.mark.parametrize(
    ("types", "kinds"),
    [
        (["region"], {"region"}),
        (["specification"], {"specification"}),
        (["doc"], {"doc"}),
        (["region", "doc"], {"region", "doc"}),
        ([], {"region", "specification", "doc"}),  # empty: no restriction
        (None, {"region", "specification", "doc"}),
    ],
)
def test_entity_types_restrict_the_hits(
    index: SourceIndex, types: list[str] | None, kinds: set[str]
) -> None:
    q = "insulation concrete guardrail walls footing"
    got = {h.source["type"] for h in index.search(q, max_hits=50, entity_types=types).hits}
    assert got == kinds


def test_an_unknown_entity_type_is_a_validation_error(index: SourceIndex) -> None:
    with pytest.raises(SearchValidationError, match="region, specification, doc") as info:
        index.search("x", entity_types=["region", "door"])
    assert info.value.field == "entityTypes" and info.value.code == "validation_error"


# -- limits ------------------------------------------------------------------------------------


def test_max_hits_caps_the_hits() -> None:
    index = SourceIndex()
    index.add([region(f"reg_{i}", f"sealant joint {i}") for i in range(80)])
    for n in (1, 7, 50):
        assert index.search("sealant", max_hits=n).hit_count == n
    assert index.search("sealant").hit_count == 10  # the mock's default


@pytest.mark.parametrize("bad", [0, -1, 51, 1000])
def test_max_hits_outside_1_to_50_is_a_validation_error(index: SourceIndex, bad: int) -> None:
    with pytest.raises(SearchValidationError, match="between 1 and 50") as info:
        index.search("concrete", max_hits=bad)
    assert info.value.field == "maxHits"


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (SearchFilters(page_number=0), "pageNumber"),
        (SearchFilters(classification="drawings"), "classification"),
    ],
)
def test_filter_values_outside_their_range_are_validation_errors(
    index: SourceIndex, filters: SearchFilters, field: str
) -> None:
    with pytest.raises(SearchValidationError) as info:
        index.search("concrete", filters=filters)
    assert info.value.field == field


def test_an_empty_query_is_a_validation_error_and_a_wordless_one_finds_nothing(
    index: SourceIndex,
) -> None:
    with pytest.raises(SearchValidationError, match="at least 1 character"):
        index.search("")
    result = index.search("  !!! -- ** ")
    assert result.hits == () and "no words" in result.warnings[0]
    assert result.chunks_searched == index.chunk_count


def test_an_empty_index_answers_no_hits() -> None:
    result = SourceIndex().search("anything")
    assert (result.hits, result.chunks_searched) == ((), 0)


# -- writes ------------------------------------------------------------------------------------


def test_add_is_incremental() -> None:
    index = SourceIndex()
    index.add(small_project()[:2])
    assert uris(index, "guardrail") == []
    index.add([doc("doc_9", "RFI 9", "Guardrail at the mezzanine.")])
    assert uris(index, "guardrail") == [f"pgcat://{PROJECT}/doc/doc_9"]
    assert uris(index, "insulation") == [rid(1)]  # the first job's sources are still there
    assert len(index) == 3


def test_writing_a_known_uri_replaces_its_source() -> None:
    index = SourceIndex()
    index.add([region("reg_1", "Old text about plywood.")])
    index.add([region("reg_1", "New text about terrazzo.")])
    assert uris(index, "plywood") == []
    assert uris(index, "terrazzo") == [rid(1)]
    assert (len(index), index.chunk_count) == (1, 1)


def test_remove_drops_sources_and_their_facets(index: SourceIndex) -> None:
    before = index.chunk_count
    assert index.remove([spec_uri("spec_1"), "pgcat://nope"]) == 1
    assert index.chunk_count == before - 3
    assert uris(index, "curing concrete") == [rid(3)]


def test_a_batch_that_cannot_be_indexed_leaves_the_index_as_it_was(index: SourceIndex) -> None:
    before = (len(index), index.chunk_count, uris(index, "concrete"))
    broken = SearchSource(uri=rid(1), type="region", title=None, text="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        index.add([region("reg_99", "terrazzo"), broken])
    assert (len(index), index.chunk_count, uris(index, "concrete")) == before
    assert uris(index, "terrazzo") == []


def test_text_sqlite_cannot_store_is_indexed_anyway() -> None:
    index = SourceIndex()
    # a lone surrogate (JSON can carry one) and a NUL (FTS5 would cut its query string there)
    index.add([region("reg_1", "broken \ud800 text with a\x00nul and grout")])
    assert uris(index, "grout") == [rid(1)]
    assert uris(index, "nul") == [rid(1)]


# -- large projects ----------------------------------------------------------------------------


def test_in_large_projects_stop_terms_need_not_match(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "COMMON_MIN_CHUNKS", 10)
    index = SourceIndex()
    index.add([region(f"reg_{i}", f"the sheet {i} of the set") for i in range(20)])
    index.add([region("reg_99", "mastic sealant")])  # no "the"
    # "the" is in 20 of 21 chunks: ignored beside a rarer term, so reg_99 fully matches
    hits = index.search("the mastic").hits
    assert [h.uri for h in hits] == [rid(99)] and hits[0].score >= 0.5
    # alone, it is searched
    assert index.search("the", max_hits=50).hit_count == 20


def test_in_large_projects_partial_matches_come_from_the_rarest_terms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(index_module, "COMMON_MIN_CHUNKS", 10)
    monkeypatch.setattr(index_module, "PARTIAL_BUDGET", 5)
    index = SourceIndex()
    index.add([region(f"reg_{i}", f"epoxy floor {i}") for i in range(8)])
    index.add([region(f"reg_{i}", f"sealer coat {i}") for i in range(8, 16)])
    index.add([region("reg_20", "terrazzo strip")])
    # no chunk holds all three; partial matches need terrazzo (1 chunk) but not epoxy/sealer
    got = uris(index, "terrazzo epoxy sealer")
    assert got == [rid(20)]
    monkeypatch.setattr(index_module, "PARTIAL_BUDGET", 100)
    assert len(uris(index, "terrazzo epoxy sealer")) == 17


def spec_uri(sid: str) -> str:
    from mock_server.search import specification_uri

    number = {"spec_1": "03 30 00", "spec_2": "07 21 00"}[sid]
    return specification_uri(PROJECT, number, sid)
