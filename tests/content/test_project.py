"""Project aggregation: stable order, look-ups, every documented filter selecting and excluding,
the single-section 404 for outline-only headings, cached encodings and the summary."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from mock_server.content import (
    ContentStore,
    Entity,
    EntityKind,
    EntityQuery,
    InvalidQuery,
    ProjectContent,
    Region,
    Sheet,
    Specification,
    SpecSection,
)
from mock_server.content.entities import Doc, FileEntity
from statemachine import FileSpec

from .conftest import finish, run_to_end, run_until_open

K = EntityKind


@pytest.fixture(scope="module")
def project() -> ProjectContent:
    done = finish(
        [
            [("tower-a.pdf", 1_200_000, "plans"), ("specs.pdf", 2_000_000, "specifications")],
            [("rfis.pdf", 450_000, "documents"), ("mixed.pdf", 800_000, "mixed")],
        ],
        seed=2,
    )
    return ContentStore(2).project(done.engine, done.project)


def q(**params: str) -> EntityQuery:
    return EntityQuery.from_params(params)


def split(
    project: ProjectContent, kind: EntityKind, query: EntityQuery
) -> tuple[Sequence[Entity], list[Entity]]:
    """(selected, excluded); each filter test needs both non-empty to show it does something."""
    selected = project.select(kind, query)
    excluded = [e for e in project.list(kind) if e not in selected]
    assert selected and excluded, f"{query} should select some {kind} and exclude others"
    return selected, excluded


def test_lists_follow_job_then_upload_then_page_order(project: ProjectContent) -> None:
    assert [f.file.file_name for f in project.files] == [
        "tower-a.pdf",
        "specs.pdf",
        "rfis.pdf",
        "mixed.pdf",
    ]
    keys = [(s.file.file_name != "tower-a.pdf", s.page_number) for s in project.sheets]
    assert keys == sorted(keys)
    assert [r.sheet_id for r in project.regions] == [
        s.sheet_id for s in project.sheets for _ in s.regions
    ]


def test_get_and_children(project: ProjectContent) -> None:
    sheet = project.sheets[3]
    assert project.get(K.SHEETS, sheet.sheet_id) is sheet
    assert project.get(K.SHEETS, "sheet_unknown") is None
    assert project.get(K.REGIONS, sheet.sheet_id) is None  # ids are per kind
    assert project.regions_of(sheet.sheet_id) == sheet.regions
    assert project.regions_of("sheet_unknown") is None
    doc = project.docs[0]
    assert project.get(K.DOCS, doc.doc_id) is doc
    f = project.files[0]
    assert project.get(K.FILES, f.file.file_id) is f


def test_outline_only_headings_are_not_served(project: ProjectContent) -> None:
    spec = next(s for s in project.specifications if any(x.outline_only for x in s.sections))
    outline = [x for x in spec.sections if x.outline_only]
    body = [x for x in spec.sections if not x.outline_only]
    assert project.sections_of(spec.specification_id) == tuple(body)
    assert project.section(spec.specification_id, body[0].section_id) is body[0]
    for heading in outline:
        assert project.section(spec.specification_id, heading.section_id) is None
        assert project.is_outline_only(heading.section_id)
        assert project.get(K.SECTIONS, heading.section_id) is None
    other = next(s for s in project.specifications if s is not spec)
    assert project.section(other.specification_id, body[0].section_id) is None
    assert project.sections_of("spec_unknown") is None
    assert not any(s.outline_only for s in project.sections)


def test_file_filters(project: ProjectContent) -> None:
    tower = project.files[0].file
    selected, _ = split(project, K.SHEETS, q(fileId=tower.file_id))
    assert {e.file.file_id for e in selected} == {tower.file_id}
    selected, _ = split(project, K.SHEETS, q(fileName="TOWER"))
    assert {e.file.file_name for e in selected} == {"tower-a.pdf"}
    selected, _ = split(project, K.FILES, q(fileName="s.pdf"))
    assert {e.file.file_name for e in selected} == {"specs.pdf", "rfis.pdf"}
    selected, _ = split(project, K.SHEETS, q(classification="mixed"))
    assert {e.file.classification for e in selected} == {"mixed"}
    selected, _ = split(project, K.DOCS, q(classification="documents"))
    assert {e.file.file_name for e in selected} == {"rfis.pdf"}
    selected, _ = split(project, K.SPECIFICATIONS, q(fileName="mixed"))
    assert {e.file.file_name for e in selected} == {"mixed.pdf"}


def test_status_filters(project: ProjectContent) -> None:
    assert len(project.select(K.SHEETS, q(status="completed"))) == len(project.sheets)
    assert project.select(K.SHEETS, q(status="failed")) == []
    assert len(project.select(K.DOCS, q(status="complete"))) == len(project.docs)
    assert project.select(K.DOCS, q(status="completed")) == []  # a doc's own status


def test_sheets_allowlist(project: ProjectContent) -> None:
    a, b = project.sheets[1], project.sheets[-1]
    ids = f"{a.sheet_id}, {b.sheet_id}"
    assert list(project.select(K.SHEETS, q(sheets=ids))) == [a, b]
    regions, _ = split(project, K.REGIONS, q(sheets=ids))
    assert list(regions) == [*a.regions, *b.regions]
    files, _ = split(project, K.FILES, q(sheets=ids))
    assert {f.file.file_id for f in files} == {a.file.file_id, b.file.file_id}
    specs, _ = split(project, K.SPECIFICATIONS, q(sheets=b.sheet_id))
    assert {s.file.file_id for s in specs} == {b.file.file_id}  # mixed.pdf has both


def test_sheet_filters(project: ProjectContent) -> None:
    selected, _ = split(project, K.SHEETS, q(pageNumber="2"))
    assert {e.page_number for e in selected if isinstance(e, Sheet)} == {2}
    number = project.sheets[4].sheet_number
    assert number is not None
    selected, _ = split(project, K.SHEETS, q(sheetNumber=number))
    assert {e.sheet_number for e in selected if isinstance(e, Sheet)} == {number}


def _regions(items: Sequence[Entity]) -> list[Region]:
    return [e for e in items if isinstance(e, Region)]


def test_region_filters(project: ProjectContent) -> None:
    sheet = project.sheets[5]
    selected, _ = split(project, K.REGIONS, q(sheetId=sheet.sheet_id))
    assert _regions(selected) == list(sheet.regions)
    selected, _ = split(project, K.REGIONS, q(pageNumber="3"))
    assert {r.page_number for r in _regions(selected)} == {3}
    selected, _ = split(project, K.REGIONS, q(regionType="detail"))
    assert {r.region_type for r in _regions(selected)} == {"detail"}
    selected, _ = split(project, K.REGIONS, q(layoutType="table"))
    assert {r.region_type for r in _regions(selected)} == {"schedule"}
    selected, _ = split(project, K.REGIONS, q(drawingType="plan"))
    assert {r.drawing_type for r in _regions(selected)} == {"plan"}
    selected, _ = split(project, K.REGIONS, q(drawingType="structural"))
    assert {r.discipline for r in _regions(selected)} == {"structural"}
    # filters combine; a sheet's own regions filter like the project's
    both = project.select(K.REGIONS, q(regionType="title_block", fileName="mixed"))
    assert both and all(
        r.region_type == "title_block" and r.file.file_name == "mixed.pdf" for r in _regions(both)
    )
    own = project.select(K.REGIONS, q(regionType="title_block"), items=sheet.regions)
    assert _regions(own) == [sheet.regions[-1]]


def test_specification_and_section_filters(project: ProjectContent) -> None:
    spec = project.specifications[5]
    selected, _ = split(project, K.SPECIFICATIONS, q(sectionNumber=spec.section_number))
    assert list(selected) == [spec]
    selected, _ = split(project, K.SPECIFICATIONS, q(pageStart="6"))
    assert all(isinstance(e, Specification) and e.page_start >= 6 for e in selected)
    selected, _ = split(project, K.SPECIFICATIONS, q(pageEnd="5"))
    assert all(isinstance(e, Specification) and e.page_end <= 5 for e in selected)
    selected, _ = split(project, K.SECTIONS, q(pageStart="6", pageEnd="12"))
    assert all(
        isinstance(e, SpecSection) and 6 <= e.page_start <= e.page_end <= 12 for e in selected
    )
    # filters of another list are ignored (sections take no fileName)
    assert project.select(K.SECTIONS, q(fileName="nothing")) == project.sections


def test_doc_filters(project: ProjectContent) -> None:
    selected, _ = split(project, K.DOCS, q(docType="rfi"))
    assert {e.doc_type for e in selected if isinstance(e, Doc)} == {"rfi"}


def test_no_filter_returns_the_stored_list(project: ProjectContent) -> None:
    assert project.select(K.SHEETS, q()) is project.sheets
    assert project.select(K.SHEETS, q(compact="true")) is project.sheets


def test_matches_checks_one_entity(project: ProjectContent) -> None:
    sheet = project.sheets[0]
    assert project.matches(K.SHEETS, sheet, q(pageNumber=str(sheet.page_number)))
    assert not project.matches(K.SHEETS, sheet, q(pageNumber=str(sheet.page_number + 1)))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"pageNumber": "0"}, "pageNumber"),
        ({"pageNumber": "x"}, "pageNumber"),
        ({"pageStart": "-1"}, "pageStart"),
        ({"pageEnd": "1.5"}, "pageEnd"),
        ({"classification": "drawings"}, "classification"),
        ({"compact": "maybe"}, "compact"),
        ({"sheets": " , "}, "sheets"),
    ],
)
def test_bad_filter_values_name_the_parameter(params: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidQuery) as info:
        EntityQuery.from_params(params)
    assert info.value.field == field and field in str(info.value)


def test_encodings_are_kept_and_compact_drops_artifacts(project: ProjectContent) -> None:
    sheet = project.sheets[0]
    first = project.encode(sheet, "/a?path=")
    assert project.encode(sheet, "/a?path=") is first
    assert json.loads(first) == sheet.wire("/a?path=")
    assert "artifacts" in json.loads(first)
    compact = json.loads(project.encode(sheet, None))
    assert "artifacts" not in compact and compact["sheetId"] == sheet.sheet_id
    listed = json.loads(project.encode_list(project.sheets[:3], None))
    assert [s["sheetId"] for s in listed] == [s.sheet_id for s in project.sheets[:3]]


def test_wire_fields_are_the_documented_ones(project: ProjectContent) -> None:
    assert list(project.files[0].wire("/")) == [
        "fileId",
        "fileName",
        "classification",
        "status",
        "pageCount",
        "artifacts",
    ]
    assert list(project.sheets[0].wire("/")) == [
        "sheetId",
        "fileId",
        "fileName",
        "pageNumber",
        "sheetNumber",
        "sheetName",
        "sheetDisplayName",
        "artifacts",
    ]
    region = project.regions[0].wire("/")
    assert {"regionId", "sheetId", "pageNumber", "sheetNumber", "label", "text"} <= set(region)
    assert set(region["displayBox"]) == {"left", "top", "right", "bottom"}
    assert set(project.specifications[0].wire("/")) == {
        "specificationId",
        "fileId",
        "fileName",
        "sectionNumber",
        "sectionTitle",
        "pageStart",
        "pageEnd",
        "facets",
        "artifacts",
    }
    assert set(project.specifications[0].facets[0].wire()) == {
        "facetId",
        "facetKey",
        "facetKind",
        "facetLabel",
        "coverageKind",
        "text",
        "pageStart",
        "pageEnd",
    }
    section = project.sections[0].wire("/")
    assert section["textLength"] == len(section["text"]) > 0
    assert list(section)[:4] == ["sectionId", "specId", "sectionNumber", "title"]
    assert list(project.docs[0].wire("/")) == [
        "docId",
        "fileId",
        "fileName",
        "docType",
        "status",
        "artifacts",
    ]


def test_summary(project: ProjectContent) -> None:
    s = project.summary()
    assert s["projectId"] == project.project_id and s["projectName"] == "Harbor Point Tower"
    assert s["aliases"] == ["HPT"]
    assert s["titleCandidates"][0].startswith("Harbor Point Tower")
    assert s["keyFiles"][0] == {
        "id": project.files[0].file.file_id,
        "fileName": "tower-a.pdf",
        "classification": "plans",
    }
    assert {f["id"] for f in s["keyFiles"]} <= {f.file.file_id for f in project.files}
    assert s["detectedDisciplines"] == list(dict.fromkeys(x.discipline for x in project.sheets))
    assert (s["fileCount"], s["sheetCount"], s["regionCount"]) == (
        len(project.files),
        len(project.sheets),
        len(project.regions),
    )
    assert (s["specificationCount"], s["sectionCount"], s["docCount"]) == (
        len(project.specifications),
        len(project.sections),
        len(project.docs),
    )


def test_empty_project_summary() -> None:
    empty = ProjectContent("proj_x", "x", [])
    assert empty.summary()["keyFiles"] == [] and empty.list(K.SHEETS) == ()


def test_store_rebuilds_a_project_only_when_a_job_finishes() -> None:
    done = finish([[("a.pdf", 300_000, "plans")]], seed=5)
    store = ContentStore(5)
    first = store.project(done.engine, done.project)
    assert store.project(done.engine, done.project) is first
    engine = done.engine
    job = engine.create_job(done.project)
    run_until_open(engine, job)
    engine.add_files(job, [FileSpec("b.pdf", 200_000, classification="plans")])
    assert store.project(engine, done.project) is first  # not finished yet
    engine.complete_uploads(job)
    run_to_end(engine, job)
    second = store.project(engine, done.project)
    assert second is not first
    assert [f.file.file_name for f in second.files] == ["a.pdf", "b.pdf"]
    assert isinstance(second.files[1], FileEntity)


def test_kept_bodies_are_returned_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import mock_server.content.project as project_module

    content = ProjectContent("proj_x", "x", [])
    assert content.kept_body("a") is None
    content.keep_body("a", b"1" * 10)
    assert content.kept_body("a") == b"1" * 10
    monkeypatch.setattr(project_module, "_KEPT_BODY_BYTES", 25)
    content.keep_body("b", b"2" * 10)
    assert content.kept_body("a") is not None and content.kept_body("b") is not None
    content.keep_body("c", b"3" * 10)  # past 25 bytes together: the others are dropped
    assert content.kept_body("a") is None and content.kept_body("b") is None
    assert content.kept_body("c") == b"3" * 10


def test_a_large_generation_is_followed_by_one_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    import mock_server.content.store as store_module

    collections: list[int] = []
    monkeypatch.setattr(store_module.gc, "collect", lambda: collections.append(1) or 0)
    monkeypatch.setattr(store_module, "_COLLECT_AFTER_PAGES", 20)
    small = finish([[("a.pdf", 500_000, "plans")]])  # 5 pages
    store = ContentStore(1)
    store.project(small.engine, small.project)
    assert collections == []
    big = finish([[("b.pdf", 2_500_000, "plans")]], seed=2)  # 25 pages
    store.project(big.engine, big.project)
    assert collections == [1]
    store.project(big.engine, big.project)  # kept: nothing generated, nothing collected
    assert collections == [1]


def test_the_project_content_follows_its_jobs() -> None:
    done = finish([[("a.pdf", 300_000, "plans")]])
    store = ContentStore(1)
    first = store.project(done.engine, done.project)
    assert store.project(done.engine, done.project) is first
    job = done.engine.create_job(done.project)
    assert store.project(done.engine, done.project) is first  # a running job adds nothing
    done.engine.add_files(job, [FileSpec("b.pdf", 200_000, classification="plans")])
    done.engine.complete_uploads(job)
    run_to_end(done.engine, job)
    later = store.project(done.engine, done.project)
    assert later is not first
    assert [s.file.file_name for s in later.sheets] == ["a.pdf"] * 3 + ["b.pdf"] * 2
