"""Generation rules: only successful pages produce entities, every failed page an error; page
roles by classification; determinism; content that does not depend on other pages' outcomes."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.content import DocumentFacts, generate_document, page_roles
from mock_server.content.facts import PAGE_FAILED, PAGE_OK

CLASSES = ["plans", "specifications", "documents", "addenda", "mixed", "other"]
SHEET_NUMBER = re.compile(r"^(G|C|L|A|S|M|P|E|FP)-[0-6]\d{2,3}$")
SECTION_NUMBER = re.compile(r"^\d{2} \d{2} \d{2}$")


def facts(
    kinds: bytes,
    outcomes: bytes | None = None,
    classification: str = "plans",
    name: str = "set.pdf",
    document_id: str = "doc_01jabcdefghjkmnpqrstvwxyz0",
) -> DocumentFacts:
    return DocumentFacts(
        job_id="job_x",
        project_id="proj_x",
        document_id=document_id,
        file_id="file_" + document_id[4:],
        file_name=name,
        classification=classification,
        content_type="application/pdf",
        size=100_000 * len(kinds),
        status="completed",
        kinds=kinds,
        outcomes=outcomes if outcomes is not None else bytes([PAGE_OK]) * len(kinds),
    )


@st.composite
def documents(draw: st.DrawFn) -> DocumentFacts:
    cls = draw(st.sampled_from(CLASSES))
    pages = draw(st.integers(0, 60))
    # mostly the engine's split (plans all drawings, mixed half), sometimes any mix (extra pages)
    if draw(st.booleans()):
        drawing = {"plans": pages, "mixed": pages // 2}.get(cls, 0)
        kinds = bytes([1] * drawing + [0] * (pages - drawing))
    else:
        kinds = bytes(draw(st.lists(st.integers(0, 1), min_size=pages, max_size=pages)))
    fraction = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    outcomes = bytes(
        PAGE_FAILED if draw(st.floats(0, 1)) < fraction else PAGE_OK for _ in range(pages)
    )
    return facts(kinds, outcomes, cls)


@settings(max_examples=150, deadline=None)
@given(doc=documents(), seed=st.integers(0, 2**32))
def test_only_successful_pages_produce_entities(doc: DocumentFacts, seed: int) -> None:
    content = generate_document(doc, seed=seed)
    roles = page_roles(doc)
    ok = {n for n in range(1, doc.pages + 1) if doc.succeeded(n)}

    # every successful drawing page is one sheet, in page order; no other sheet
    drawing_ok = [n for n in sorted(ok) if doc.is_drawing(n)]
    assert [s.page_number for s in content.sheets] == drawing_ok
    assert len(content.sheets) == doc.successful_drawing_pages
    for sheet in content.sheets:
        assert 1 <= len(sheet.regions) <= 5
        assert sheet.regions[-1].region_type == "title_block"
        assert {r.page_number for r in sheet.regions} == {sheet.page_number}
        assert {r.sheet_id for r in sheet.regions} == {sheet.sheet_id}
        if doc.classification in ("plans", "mixed"):
            assert sheet.sheet_number is not None and SHEET_NUMBER.match(sheet.sheet_number)
        else:
            assert sheet.sheet_number is None
    numbers = [s.sheet_number for s in content.sheets if s.sheet_number]
    assert len(numbers) == len(set(numbers))

    # specification and doc runs cover exactly their role's successful pages, in order
    for entities, role in ((content.specifications, "spec"), (content.docs, "doc")):
        role_ok = [n for n in sorted(ok) if roles[n - 1] == role]
        covered = [n for e in entities for n in role_ok if e.page_start <= n <= e.page_end]
        assert covered == role_ok
        for e in entities:
            assert e.page_start in ok and e.page_end in ok
            assert roles[e.page_start - 1] == roles[e.page_end - 1] == role
    for spec in content.specifications:
        assert SECTION_NUMBER.match(spec.section_number)
        assert all(len(f.text) <= 50_000 for f in spec.facets)
        for f in spec.facets:
            assert spec.page_start <= f.page_start <= f.page_end <= spec.page_end
    assert len({s.section_number for s in content.specifications}) == len(content.specifications)
    if doc.classification not in ("specifications", "mixed"):
        assert content.specifications == ()
    if doc.classification not in ("documents", "addenda", "mixed"):
        assert content.docs == ()

    # each failed page is one error; evidence cites the regions that have text
    assert [e.page_number for e in content.errors] == list(doc.failed_page_numbers)
    assert all(e.code == "page_failed" for e in content.errors)
    assert [e.region for e in content.evidence] == [r for r in content.regions if r.text]
    ids = [
        *(s.sheet_id for s in content.sheets),
        *(r.region_id for r in content.regions),
        *(s.specification_id for s in content.specifications),
        *(s.section_id for s in content.sections),
        *(f.facet_id for s in content.sections for f in s.facets),
        *(d.doc_id for d in content.docs),
        *(e.evidence_id for e in content.evidence),
    ]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+_[0-9a-hjkmnp-tv-z]{26}", i) for i in ids)


def test_page_roles_follow_the_classification() -> None:
    kinds = bytes([1, 1, 0, 0, 0, 0, 0])
    assert page_roles(facts(kinds, classification="mixed")) == [
        "sheet",
        "sheet",
        "spec",
        "spec",
        "spec",
        "doc",
        "doc",
    ]
    assert page_roles(facts(kinds, classification="specifications"))[2:] == ["spec"] * 5
    assert page_roles(facts(kinds, classification="addenda"))[2:] == ["doc"] * 5
    assert page_roles(facts(kinds, classification="plans"))[2:] == [None] * 5
    assert page_roles(facts(kinds, classification="other"))[2:] == [None] * 5


def test_same_seed_same_content_other_seed_other_content() -> None:
    doc = facts(bytes([1] * 30), classification="plans")
    a, b = generate_document(doc, seed=5), generate_document(doc, seed=5)
    assert a == b
    c = generate_document(doc, seed=6)
    assert [s.sheet_id for s in a.sheets] != [s.sheet_id for s in c.sheets]
    assert [(s.sheet_number, s.sheet_name) for s in a.sheets] != [
        (s.sheet_number, s.sheet_name) for s in c.sheets
    ]
    other_doc = facts(bytes([1] * 30), document_id="doc_01jzzzzzzzzzzzzzzzzzzzzzzz")
    assert generate_document(other_doc, seed=5).sheets != a.sheets


def test_a_page_content_does_not_depend_on_other_pages_outcomes() -> None:
    kinds = bytes([1] * 20 + [0] * 20)
    all_ok = generate_document(facts(kinds, classification="mixed"), seed=3)
    outcomes = bytes(PAGE_FAILED if n % 3 == 0 else PAGE_OK for n in range(40))
    some_failed = generate_document(facts(kinds, outcomes, classification="mixed"), seed=3)
    by_page = {s.page_number: s for s in all_ok.sheets}
    assert some_failed.sheets and all(by_page[s.page_number] == s for s in some_failed.sheets)
    numbers = {s.section_number for s in all_ok.specifications}
    assert {s.section_number for s in some_failed.specifications} <= numbers
    # a failed page inside a specification's run: partial coverage and a warning
    partial = [
        s
        for s in some_failed.specifications
        if any(f.coverage_kind == "partial" for f in s.facets)
    ]
    assert partial
    assert any(w.code == "section_incomplete" for w in some_failed.warnings)


def test_regions_vary_and_boxes_are_normalized() -> None:
    content = generate_document(facts(bytes([1] * 200)), seed=11)
    regions = content.regions
    assert {r.region_type for r in regions} == {
        "plan",
        "detail",
        "section",
        "elevation",
        "schedule",
        "title_block",
    }
    assert any(r.text == "" for r in regions)  # some regions carry no text
    assert any(r.title_box is None for r in regions if r.region_type != "title_block")
    assert any(r.title_box is not None for r in regions)
    for r in regions:
        b = r.display_box
        assert 0 <= b.left < b.right <= 1 and 0 <= b.top < b.bottom <= 1
        if r.title_box is not None:
            t = r.title_box
            assert b.left <= t.left < t.right <= b.right and b.top <= t.top < t.bottom <= b.bottom
    assert {s.discipline for s in content.sheets} >= {"architectural", "structural", "general"}
    assert content.sheets[0].sheet_number == "G-001"


def test_drawing_pages_outside_plan_sets_have_no_sheet_number_and_a_warning() -> None:
    content = generate_document(facts(bytes([1, 0, 0]), classification="documents"), seed=1)
    [sheet] = content.sheets
    assert sheet.sheet_number is None
    assert sheet.sheet_display_name == sheet.sheet_name
    [warning] = content.warnings
    assert (warning.code, warning.page_number) == ("sheet_number_not_detected", 1)


def test_outline_only_headings_are_kept_apart() -> None:
    content = generate_document(facts(bytes(80), classification="specifications"), seed=2)
    outline = [s for s in content.sections if s.outline_only]
    assert outline, "a specification book of 80 pages has outline-only headings"
    for s in outline:
        assert s.section_number in ("1.0", "2.0", "3.0") and s.text == "" and not s.artifacts
    bodies = [s for s in content.sections if not s.outline_only]
    assert [
        s.section_number
        for s in bodies
        if s.section_number in {spec.section_number for spec in content.specifications}
    ] == [spec.section_number for spec in content.specifications]


def test_upload_failed_file_has_a_file_level_error_and_no_entities() -> None:
    doc = DocumentFacts(
        job_id="job_x",
        project_id="proj_x",
        document_id="doc_01jabcdefghjkmnpqrstvwxyz0",
        file_id="file_01jabcdefghjkmnpqrstvwxyz0",
        file_name="lost.pdf",
        classification="plans",
        content_type="application/pdf",
        size=10,
        status="failed",
        error=("upload_failed", "the client reported this upload as failed"),
    )
    content = generate_document(doc, seed=1)
    assert content.sheets == content.docs == content.specifications == ()
    assert content.file.artifacts == ()
    [error] = content.errors
    assert (error.code, error.page_number) == ("upload_failed", None)
