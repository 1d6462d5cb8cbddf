"""Artifact bytes: a PNG a real decoder reads and that shows the sheet number, SVG that parses as
XML, extracted JSON that round-trips; paths resolve only in the scope that handed them out."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from mock_server.content import (
    ArtifactType,
    ContentStore,
    UnknownArtifactPath,
    build_result,
    extracted,
)
from mock_server.content.artifacts import LABEL_ORIGIN, LABEL_SCALE, THUMBNAIL_SIZE, sheet_label
from mock_server.content.entities import Sheet
from mock_server.content.png import FONT, GLYPH_HEIGHT, GLYPH_WIDTH, encode_png

from .conftest import Finished, finish

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def done() -> Finished:
    return finish(
        [
            [("tower-a.pdf", 800_000, "plans"), ("mixed.pdf", 600_000, "mixed")],
            [("rfis.pdf", 300_000, "documents"), ("specs.pdf", 500_000, "specifications")],
        ],
        seed=8,
    )


@pytest.fixture(scope="module")
def store() -> ContentStore:
    return ContentStore(8)


def _decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every row, checks the zlib stream and the CRCs
    return image


def _label_pixels_match(image: Image.Image, label: str) -> bool:
    """Each glyph pixel of `label` (at the documented origin and scale) is black, and the gaps
    between them inside the label are white."""
    x0, y0 = LABEL_ORIGIN
    px = image.load()
    assert px is not None
    for i, ch in enumerate(label.upper()):
        glyph = FONT[ch]
        for gy, row in enumerate(glyph):
            for gx, on in enumerate(row):
                x = x0 + (i * (GLYPH_WIDTH + 1) + gx) * LABEL_SCALE
                y = y0 + gy * LABEL_SCALE
                if px[x, y] != (0 if on else 255):
                    return False
    return True


def test_sheet_thumbnail_is_a_png_showing_the_sheet_number(
    done: Finished, store: ContentStore
) -> None:
    content = store.job(done.engine, done.jobs[0])
    sheets = content.documents[0].sheets
    seen = set()
    for sheet in sheets[:6]:
        art = content.artifacts.resolve(f"sheets/{sheet.sheet_id}/thumbnail.png")
        assert art.content_type == "image/png" and art.filename.endswith(".png")
        image = _decode(art.body)
        assert (image.format, image.mode, image.size) == ("PNG", "L", THUMBNAIL_SIZE)
        assert sheet.sheet_number is not None
        assert _label_pixels_match(image, sheet_label(sheet))
        seen.add(image.tobytes())
    assert len(seen) == 6  # each sheet's own picture
    # and the check fails for a label the image does not show
    other = sheets[1]
    image = _decode(content.artifacts.resolve(f"sheets/{sheets[0].sheet_id}/thumbnail.png").body)
    assert not _label_pixels_match(image, sheet_label(other))


def test_sheet_without_a_number_shows_its_page() -> None:
    sheet = Sheet("sheet_x", None, 7, None, "Detail", "general", "detail", (), ())  # type: ignore[arg-type]
    assert sheet_label(sheet) == "PAGE 7"


def test_png_encoder_round_trips_through_pillow() -> None:
    pixels = bytes((x * 7 + y * 13) % 256 for y in range(9) for x in range(11))
    image = _decode(encode_png(11, 9, pixels))
    assert image.size == (11, 9) and image.tobytes() == pixels
    with pytest.raises(ValueError, match="pixels for a 11x9 image"):
        encode_png(11, 9, pixels[:-1])


def test_every_glyph_has_the_font_size() -> None:
    assert all(
        len(g) == GLYPH_HEIGHT and all(len(r) == GLYPH_WIDTH for r in g) for g in FONT.values()
    )


def _all_paths(result: dict[str, Any]) -> list[str]:
    urls = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"type", "url"}:
                urls.append(value["url"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(result)
    return [parse_qs(urlsplit(u).query)["path"][0] for u in urls]


def test_a_job_serves_exactly_the_artifacts_its_result_hands_out(
    done: Finished, store: ContentStore
) -> None:
    job = done.jobs[0]
    content = store.job(done.engine, job)
    result = build_result(
        done.engine, job, content, result_url=None, artifact_url_prefix="/j?path="
    )
    paths = _all_paths(result)
    assert paths and len(paths) == len(set(paths))
    assert set(paths) == set(content.artifacts.paths())
    kinds = {}
    for path in paths:
        art = content.artifacts.resolve(path)
        kinds[path.rsplit(".", 1)[-1]] = art.content_type
        if art.content_type == "image/png":
            _decode(art.body)
        elif art.content_type == "image/svg+xml":
            assert ET.fromstring(art.body).tag == f"{SVG}svg"
        else:
            json.loads(art.body)
    assert kinds == {"png": "image/png", "json": "application/json", "svg": "image/svg+xml"}
    # regions and sections are reached through the project reads, not the job's result
    region = content.documents[0].regions[0]
    with pytest.raises(UnknownArtifactPath):
        content.artifacts.resolve(region.artifacts[0].path)
    project = store.project(done.engine, done.project)
    assert project.artifacts.resolve(region.artifacts[0].path).content_type == "image/svg+xml"


def test_extracted_json_round_trips(done: Finished, store: ContentStore) -> None:
    project = store.project(done.engine, done.project)
    docs = store.job(done.engine, done.jobs[1]).documents
    first = store.job(done.engine, done.jobs[0]).documents[0]
    targets: list[Any] = [
        docs[0],
        docs[0].docs[0],
        docs[1].specifications[0],
        docs[1].specifications[0].sections[0],
        first.sheets[0],
        first.sheets[0].regions[0],
    ]
    for target in targets:
        [path] = [a.path for a in target.artifacts if a.type is ArtifactType.EXTRACTED_JSON]
        assert json.loads(project.artifacts.resolve(path).body) == extracted(target)
    sheet_json = extracted(first.sheets[0])
    assert sheet_json["regions"] == [r.wire(None) for r in first.sheets[0].regions]
    assert "artifacts" not in sheet_json


def test_svg_crops_parse_and_keep_the_text(done: Finished, store: ContentStore) -> None:
    content = store.project(done.engine, done.project)
    sheet = content.sheets[2]
    root = ET.fromstring(content.artifacts.resolve(f"sheets/{sheet.sheet_id}/sheet.svg").body)
    assert root.get("viewBox") == "0 0 1200 800"
    assert len(root.findall(f"{SVG}g")) == len(sheet.regions)
    region = sheet.regions[0]
    crop = ET.fromstring(content.artifacts.resolve(f"regions/{region.region_id}/crop.svg").body)
    x, y, w, h = (float(v) for v in (crop.get("viewBox") or "").split())
    b = region.display_box
    assert (x, y) == pytest.approx((b.left * 1200, b.top * 800))
    assert (w, h) == pytest.approx(((b.right - b.left) * 1200, (b.bottom - b.top) * 800))
    texts = [t.text for t in crop.iter(f"{SVG}text")]
    assert texts[0] == region.label


def test_unknown_and_foreign_paths_are_refused(done: Finished, store: ContentStore) -> None:
    a = store.job(done.engine, done.jobs[0])
    b = store.job(done.engine, done.jobs[1])
    foreign = b.artifacts.paths()[0]
    with pytest.raises(UnknownArtifactPath) as info:
        a.artifacts.resolve(foreign)
    assert info.value.path == foreign and done.jobs[0].id in str(info.value)
    for path in [
        "",
        "../etc/passwd",
        "sheets/sheet_x/thumbnail.png",
        a.artifacts.paths()[0] + "x",
    ]:
        with pytest.raises(UnknownArtifactPath):
            a.artifacts.resolve(path)
    project = store.project(done.engine, done.project)
    assert set(project.artifacts.paths()) > set(a.artifacts.paths()) | set(b.artifacts.paths())
    assert project.artifacts.resolve(foreign).body == b.artifacts.resolve(foreign).body
    other = finish([[("tower-a.pdf", 800_000, "plans")]], seed=8, project_name="Other")
    other_project = ContentStore(8).project(other.engine, other.project)
    with pytest.raises(UnknownArtifactPath, match="project"):
        other_project.artifacts.resolve(foreign)
