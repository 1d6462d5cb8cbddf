"""Project search: matches by the project's own fields and by its sources, with reasons."""

from __future__ import annotations

import pytest

from mock_server.search import (
    ProjectProfile,
    SearchFilters,
    SearchIndexes,
    SearchValidationError,
)

from .conftest import region


@pytest.fixture
def reg() -> SearchIndexes:
    reg = SearchIndexes()
    reg.profile(
        ProjectProfile(
            "proj_a",
            "Riverside Library",
            aliases=("RSL Phase 2",),
            sheets=("A-101 First Floor Plan", "S-201 Foundation Plan"),
        )
    )
    reg.profile(ProjectProfile("proj_b", "Harbor Clinic", sheets=("M-001 Mechanical Legend",)))
    reg.profile(ProjectProfile("proj_c", "Hill School"))
    reg.write(
        "proj_a", [region("reg_1", "Terrazzo flooring in the reading room.")], now=0.0, delay=0.0
    )
    reg.write(
        "proj_b",
        [
            region("reg_2", "Terrazzo base at exam rooms.", region_type="plan"),
            region("reg_3", "Library of details."),
        ],
        now=0.0,
        delay=0.0,
    )
    return reg  # fmt: skip


ALL = ["proj_a", "proj_b", "proj_c"]


def ids(result: object) -> list[str]:
    return [m.project_id for m in result.matches]  # type: ignore[attr-defined]


def test_a_name_match_ranks_first_and_says_why(reg: SearchIndexes) -> None:
    result = reg.search_projects("riverside library", project_ids=ALL, now=1.0)
    assert ids(result)[0] == "proj_a"
    reasons = {(r.type, r.text) for r in result.matches[0].reasons}
    assert ("name", "Riverside Library") in reasons
    # proj_b holds "library" in a region only: a partial source match, ranked below
    assert "proj_b" in ids(result)
    b = result.matches[ids(result).index("proj_b")]
    assert [r.type for r in b.reasons] == ["sources"] and b.source_hits


def test_aliases_and_sheets_are_reasons(reg: SearchIndexes) -> None:
    alias = reg.search_projects("RSL", project_ids=ALL, now=1.0).matches[0]
    assert (alias.project_id, alias.reasons[0].type, alias.reasons[0].text) == (
        "proj_a", "alias", "RSL Phase 2")  # fmt: skip
    sheet = reg.search_projects("foundation plan", project_ids=ALL, now=1.0).matches[0]
    assert sheet.project_id == "proj_a"
    assert ("sheet", "S-201 Foundation Plan") in {(r.type, r.text) for r in sheet.reasons}
    assert ("sheet", "A-101 First Floor Plan") not in {(r.type, r.text) for r in sheet.reasons}


def test_source_hits_make_a_match(reg: SearchIndexes) -> None:
    result = reg.search_projects("terrazzo", project_ids=ALL, now=1.0)
    assert set(ids(result)) == {"proj_a", "proj_b"}
    wire = result.matches[0].to_wire()
    assert wire["matchReasons"][-1] == {"type": "sources", "text": "1 source hit"}
    assert wire["sourceHits"][0]["sourceCatalogUri"].startswith("pgcat://")


def test_project_ids_limit_the_search(reg: SearchIndexes) -> None:
    assert ids(reg.search_projects("terrazzo", project_ids=["proj_b"], now=1.0)) == ["proj_b"]
    assert ids(reg.search_projects("riverside", project_ids=["proj_b"], now=1.0)) == []


def test_filters_apply_to_source_hits_only(reg: SearchIndexes) -> None:
    result = reg.search_projects(
        "terrazzo", project_ids=ALL, now=1.0, filters=SearchFilters(region_type="plan")
    )
    assert ids(result) == ["proj_b"]
    named = reg.search_projects(
        "riverside", project_ids=ALL, now=1.0, filters=SearchFilters(region_type="plan")
    )
    assert ids(named) == ["proj_a"]  # the name still matches


def test_unknown_entity_types_are_ignored_with_a_warning(reg: SearchIndexes) -> None:
    result = reg.search_projects("terrazzo", project_ids=ALL, now=1.0, entity_types=["door"])
    assert ids(result) == [] and "'door'" in result.warnings[0]
    mixed = reg.search_projects(
        "terrazzo", project_ids=ALL, now=1.0, entity_types=["door", "region"]
    )
    assert set(ids(mixed)) == {"proj_a", "proj_b"}
    only_specs = reg.search_projects(
        "terrazzo", project_ids=ALL, now=1.0, entity_types=["specification"]
    )
    assert ids(only_specs) == []


def test_an_index_still_building_is_skipped_with_a_warning(reg: SearchIndexes) -> None:
    reg.write("proj_c", [region("reg_9", "terrazzo stairs")], now=10.0, delay=10.0)
    result = reg.search_projects("terrazzo", project_ids=ALL, now=12.0)
    assert "proj_c" not in ids(result)
    assert any("proj_c" in w and "retry in 8 s" in w for w in result.warnings)
    assert "proj_c" in ids(reg.search_projects("terrazzo", project_ids=ALL, now=20.0))


def test_a_wordless_query_matches_nothing(reg: SearchIndexes) -> None:
    result = reg.search_projects("?!", project_ids=ALL, now=1.0)
    assert result.matches == () and "no words" in result.warnings[0]
    with pytest.raises(SearchValidationError):
        reg.search_projects("", project_ids=ALL, now=1.0)


def test_renaming_a_project_replaces_its_fields(reg: SearchIndexes) -> None:
    reg.profile(ProjectProfile("proj_c", "Lakeside Gym"))
    assert ids(reg.search_projects("lakeside", project_ids=ALL, now=1.0)) == ["proj_c"]
    assert ids(reg.search_projects("hill school", project_ids=ALL, now=1.0)) == []
