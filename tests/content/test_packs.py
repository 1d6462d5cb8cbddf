"""Content packs: the example pack loads and overrides; every validation error names the file and
the field; `serve --content-pack` and PLANGREP_MOCK_CONTENT_PACK."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mock_server.cli import build_parser, config_from_args, main
from mock_server.content import (
    ContentPackError,
    ContentPacks,
    DocumentFacts,
    generate_document,
    load_content_pack,
    load_content_packs,
)
from mock_server.content.facts import PAGE_FAILED, PAGE_OK

EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "content" / "example.json"


def _facts(
    name: str, kinds: bytes, classification: str = "plans", ok: bytes | None = None
) -> DocumentFacts:
    return DocumentFacts(
        job_id="job_x",
        project_id="proj_x",
        document_id="doc_01jabcdefghjkmnpqrstvwxyz0",
        file_id="file_01jabcdefghjkmnpqrstvwxyz0",
        file_name=name,
        classification=classification,
        content_type="application/pdf",
        size=1,
        status="completed",
        kinds=kinds,
        outcomes=ok if ok is not None else bytes([PAGE_OK]) * len(kinds),
    )


def test_example_pack_fixes_the_sheets_of_its_file() -> None:
    packs = load_content_packs([EXAMPLE])
    facts = _facts("tower-a.pdf", bytes([1] * 5))
    content = generate_document(facts, seed=1, pack=packs.for_file("tower-a.pdf"))
    a101, a201, s101, *rest = content.sheets
    assert (a101.sheet_number, a101.sheet_name, a101.discipline, a101.drawing_type) == (
        "A-101",
        "Level 1 Plan",
        "architectural",
        "plan",
    )
    assert [(r.region_type, r.label) for r in a101.regions] == [
        ("plan", "LEVEL 1 PLAN"),
        ("detail", "Detail 5"),
        ("title_block", "TITLE BLOCK"),
    ]
    assert a101.regions[1].text.startswith("Provide R-19")
    # a pack sheet without regions gets generated ones under its own number
    assert a201.sheet_number == "A-201" and a201.regions[-1].region_type == "title_block"
    assert all(r.sheet_number == "A-201" for r in a201.regions)
    box = s101.regions[0].display_box
    assert (box.left, box.top, box.right, box.bottom) == (0.05, 0.05, 0.8, 0.9)
    assert s101.regions[0].title_box is not None
    # pages beyond the pack's sheets are generated, exactly as without the pack
    plain = generate_document(facts, seed=1)
    assert [s.page_number for s in rest] == [4, 5]
    assert rest == list(plain.sheets[3:])
    # other files are not touched
    other = _facts("tower-b.pdf", bytes([1] * 5))
    assert generate_document(other, seed=1, pack=packs.for_file("tower-b.pdf")) == (
        generate_document(other, seed=1)
    )


def test_a_failed_page_still_drops_its_pack_sheet() -> None:
    packs = load_content_packs([EXAMPLE])
    ok = bytes([PAGE_FAILED, PAGE_OK, PAGE_OK])
    content = generate_document(
        _facts("tower-a.pdf", bytes([1] * 3), ok=ok), seed=1, pack=packs.for_file("tower-a.pdf")
    )
    assert [s.sheet_number for s in content.sheets] == ["A-201", "S-101"]


def test_example_pack_fixes_specifications_and_docs() -> None:
    packs = load_content_packs([EXAMPLE])
    specs = generate_document(
        _facts("tower-a-specs.pdf", bytes(12), "specifications"),
        seed=1,
        pack=packs.for_file("tower-a-specs.pdf"),
    )
    first, second = specs.specifications[:2]
    assert (first.section_number, first.section_title) == ("03 30 00", "Cast-in-Place Concrete")
    assert second.sections[0].text.startswith("SECTION 07 92 00 - JOINT SEALANTS")
    assert first.sections[0].text.startswith("SECTION 03 30 00 - CAST-IN-PLACE CONCRETE")
    docs = generate_document(
        _facts("tower-a-rfis.pdf", bytes(8), "documents"),
        seed=1,
        pack=packs.for_file("tower-a-rfis.pdf"),
    )
    rfi, submittal = docs.docs[:2]
    assert (rfi.doc_type, rfi.title) == ("rfi", "RFI-001 - Confirm slab edge at grid A/1")
    assert "8 in. from grid line" in rfi.text
    assert submittal.doc_type == "submittal" and submittal.title.startswith("Submittal ")


def _write(tmp_path: Path, body: Any, name: str = "pack.json") -> Path:
    path = tmp_path / name
    path.write_text(body if isinstance(body, str) else json.dumps(body))
    return path


def _sheet(**over: Any) -> dict[str, Any]:
    sheet: dict[str, Any] = {"sheetNumber": "A-101", "sheetName": "Plan"}
    sheet.update(over)
    return sheet


def test_later_pack_wins(tmp_path: Path) -> None:
    one = _write(tmp_path, {"files": [{"match": "a.pdf", "sheets": [_sheet()]}]}, "one.json")
    two = _write(
        tmp_path,
        {"files": [{"match": "a.pdf", "sheets": [_sheet(sheetNumber="B-1")]}]},
        "two.json",
    )
    packs = load_content_packs([one, two])
    entry = packs.for_file("a.pdf")
    assert entry is not None and entry.sheets[0].sheetNumber == "B-1"
    assert packs.sources == (str(one), str(two))
    assert not ContentPacks() and packs


REGION = {"regionType": "detail", "label": "D1"}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("{not json", "(file)", "is not valid JSON"),
        ([], "(top level)", "valid dictionary"),
        ({}, "files", "is required"),
        ({"files": []}, "files", "must not be empty"),
        ({"files": [{"match": ""}]}, "files.0.match", "must not be empty"),
        ({"files": [{"match": "a", "sheetz": []}]}, "files.0.sheetz", "not a known field"),
        (
            {"files": [{"match": "a", "sheets": [{"sheetName": "x"}]}]},
            "files.0.sheets.0.sheetNumber",
            "is required",
        ),
        (
            {"files": [{"match": "a", "sheets": [_sheet(sheetName="")]}]},
            "files.0.sheets.0.sheetName",
            "must not be empty",
        ),
        (
            {"files": [{"match": "a", "sheets": [_sheet(discipline="Arch!")]}]},
            "files.0.sheets.0.discipline",
            "must match",
        ),
        (
            {"files": [{"match": "a", "sheets": [_sheet(drawingType="map")]}]},
            "files.0.sheets.0.drawingType",
            "must be one of",
        ),
        (
            {
                "files": [
                    {
                        "match": "a",
                        "sheets": [
                            _sheet(),
                            _sheet(),
                            _sheet(regions=[{**REGION, "regionType": "note"}]),
                        ],
                    }
                ]
            },
            "files.0.sheets.2.regions.0.regionType",
            "must be one of 'plan', 'detail'",
        ),
        (
            {"files": [{"match": "a", "sheets": [_sheet(regions=[{"regionType": "plan"}])]}]},
            "files.0.sheets.0.regions.0.label",
            "is required",
        ),
        (
            {
                "files": [
                    {
                        "match": "a",
                        "sheets": [
                            _sheet(
                                regions=[
                                    {
                                        **REGION,
                                        "displayBox": {
                                            "left": 1.5,
                                            "top": 0,
                                            "right": 1,
                                            "bottom": 1,
                                        },
                                    }
                                ]
                            )
                        ],
                    }
                ]
            },
            "files.0.sheets.0.regions.0.displayBox.left",
            "less than or equal to 1",
        ),
        (
            {
                "files": [
                    {
                        "match": "a",
                        "sheets": [
                            _sheet(
                                regions=[
                                    {
                                        **REGION,
                                        "titleBox": {
                                            "left": 0.5,
                                            "top": 0,
                                            "right": 0.2,
                                            "bottom": 1,
                                        },
                                    }
                                ]
                            )
                        ],
                    }
                ]
            },
            "files.0.sheets.0.regions.0.titleBox",
            "needs left < right and top < bottom",
        ),
        (
            {
                "files": [
                    {
                        "match": "a",
                        "specifications": [{"sectionNumber": "033000", "sectionTitle": "x"}],
                    }
                ]
            },
            "files.0.specifications.0.sectionNumber",
            "must match",
        ),
        (
            {"files": [{"match": "a", "docs": [{"docType": "memo"}]}]},
            "files.0.docs.0.docType",
            "must be one of",
        ),
        (
            {"files": [{"match": "a"}, {"match": "b"}, {"match": "a"}]},
            "files.2.match",
            "already matched by files.0",
        ),
    ],
)
def test_validation_errors_name_the_file_and_field(
    tmp_path: Path, body: Any, field: str, message: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ContentPackError) as info:
        load_content_pack(path)
    err = info.value
    assert any(f == field and message in m for f, m in err.problems), err.problems
    assert f"{path}: {field}: " in str(err)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ContentPackError, match=r"missing\.json: \(file\): cannot read it"):
        load_content_pack(tmp_path / "missing.json")
    bad = tmp_path / "latin1.json"
    bad.write_bytes(b'{"files": "\xe9"}')
    with pytest.raises(ContentPackError, match="is not UTF-8 text"):
        load_content_pack(bad)


def test_serve_exits_2_on_a_bad_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path, {"files": [{"match": "a", "docs": [{"docType": "memo"}]}]})
    assert main(["serve", "--port", "0", "--content-pack", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: files.0.docs.0.docType: must be one of" in err


def test_packs_from_flags_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    monkeypatch.setenv("PLANGREP_MOCK_CONTENT_PACK", f"{a}{os.pathsep}{b}")
    config = config_from_args(build_parser().parse_args(["serve"]))
    assert config.content_packs == (a, b)
    config = config_from_args(build_parser().parse_args(["serve", "--content-pack", str(EXAMPLE)]))
    assert config.content_packs == (EXAMPLE,)  # a flag wins
    monkeypatch.delenv("PLANGREP_MOCK_CONTENT_PACK")
    assert config_from_args(build_parser().parse_args(["serve"])).content_packs == ()
