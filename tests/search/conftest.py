"""Small hand-written projects for the search tests (the content package has its own)."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.search import (
    SearchSource,
    SourceFacet,
    SourceIndex,
    doc_uri,
    region_uri,
    specification_uri,
)

PROJECT = "proj_01jtest00000000000000000000"


def region(
    rid: str,
    text: str,
    *,
    label: str = "DETAIL",
    sheet: str = "A-101",
    page: int = 1,
    region_type: str = "detail",
    layout_type: str = "viewport",
    drawing_type: str = "architectural",
    file_name: str = "Architectural Plans.pdf",
    classification: str = "plans",
) -> SearchSource:
    return SearchSource(
        uri=region_uri(PROJECT, rid),
        type="region",
        title=label,
        text=text,
        source={"regionId": rid, "sheetNumber": sheet, "pageNumber": page},
        keywords=(sheet,),
        region_type=region_type,
        layout_type=layout_type,
        drawing_type=drawing_type,
        sheet_number=sheet,
        file_name=file_name,
        classification=classification,
        page_start=page,
        page_regions=f"[{region_type}] {label}\n{text}",
    )


def spec(
    sid: str,
    number: str,
    title: str,
    text: str,
    *,
    facets: dict[str, tuple[str, str]] | None = None,
    pages: tuple[int, int] = (10, 14),
    file_name: str = "Project Manual.pdf",
    **extra: Any,
) -> SearchSource:
    return SearchSource(
        uri=specification_uri(PROJECT, number, sid),
        type="specification",
        title=f"{number} {title}",
        text=text,
        source={"specificationId": sid, "sectionNumber": number, "sectionTitle": title},
        keywords=(number,),
        facets=tuple(
            SourceFacet(fid, label, body, extra={"facetKey": fid})
            for fid, (label, body) in (facets or {}).items()
        ),
        file_name=file_name,
        classification="specifications",
        page_start=pages[0],
        page_end=pages[1],
        **extra,
    )


def doc(did: str, title: str, text: str, *, file_name: str = "RFI 12.pdf") -> SearchSource:
    return SearchSource(
        uri=doc_uri(PROJECT, did),
        type="doc",
        title=title,
        text=text,
        source={"docId": did, "docType": "rfi"},
        keywords=("rfi",),
        file_name=file_name,
        classification="documents",
        page_start=1,
        page_end=2,
    )


def small_project() -> list[SearchSource]:
    return [
        region("reg_1", "Provide R-19 batt insulation at exterior stud walls.", label="3 WALL"),
        region(
            "reg_2",
            "Corridor partitions: one-hour fire rating, full height to deck.",
            label="FIRST FLOOR PLAN",
            sheet="A-102",
            page=2,
            region_type="plan",
            layout_type="full_sheet",
        ),
        region(
            "reg_3",
            "Anchor bolts at 48 in. o.c. into the concrete footing.",
            label="FOOTING DETAIL",
            sheet="S-201",
            page=7,
            drawing_type="structural",
            file_name="Structural.pdf",
        ),
        region(
            "reg_4",
            "Mechanical room: duct smoke detectors at each air handler.",
            label="MECH PLAN",
            sheet="M-001",
            page=9,
            region_type="plan",
            layout_type="table",
            drawing_type="mechanical",
            file_name="MEP Set.pdf",
            classification="mixed",
        ),
        spec(
            "spec_1",
            "03 30 00",
            "Cast-in-Place Concrete",
            "Cast-in-place concrete for footings and slabs on grade.",
            facets={
                "fac_products": ("Part 2 Products", "Portland cement ASTM C150. Curing compound."),
                "fac_execution": ("Part 3 Execution", "Cure slabs for seven days; no frost."),
            },
        ),
        spec(
            "spec_2",
            "07 21 00",
            "Thermal Insulation",
            "Mineral wool board insulation; extruded polystyrene below grade.",
            pages=(20, 22),
        ),
        doc("doc_1", "RFI 12 - Stair railing", "Question: may the guardrail height be 42 in.?"),
    ]


@pytest.fixture
def index() -> SourceIndex:
    idx = SourceIndex()
    idx.add(small_project())
    return idx
