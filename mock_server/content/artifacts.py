"""Artifact bytes: a PNG thumbnail that shows the sheet number, the entity as JSON, an SVG crop.

Each entity lists its artifacts as `{type, path}` (entities.py); the HTTP layer turns a path into
a URL with its own prefix (`/api/open/v1/jobs/{jobId}/artifact?path=` or the project's). Paths
are defined by the mock and look like `sheets/{sheetId}/thumbnail.png`; an `ArtifactIndex` knows
the paths one scope (a job's result, or a project's entities) handed out, and nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .entities import Artifact, ArtifactType, Doc, Region, Sheet, Specification, SpecSection
from .errors import UnknownArtifactPath
from .generate import DocumentContent
from .png import GLYPH_HEIGHT, Canvas, text_width

__all__ = [
    "LABEL_ORIGIN",
    "LABEL_SCALE",
    "THUMBNAIL_SIZE",
    "ArtifactBytes",
    "ArtifactIndex",
    "extracted",
    "render_region_svg",
    "render_sheet_svg",
    "render_sheet_thumbnail",
    "sheet_label",
]

THUMBNAIL_SIZE = (240, 160)  # a 3:2 sheet (ARCH D is 36 x 24 in)
LABEL_SCALE = 3
LABEL_ORIGIN = (10, THUMBNAIL_SIZE[1] - 42)  # top-left of the sheet number's first glyph
_DOC_THUMBNAIL_SIZE = (120, 160)
_SVG_SIZE = (1200, 800)

_CONTENT_TYPES = {
    ArtifactType.THUMBNAIL: "image/png",
    ArtifactType.EXTRACTED_JSON: "application/json",
    ArtifactType.VECTOR_CROP: "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class ArtifactBytes:
    """What an artifact download answers. `content_type` is the bytes' real media type (the docs
    say the endpoint answers `application/octet-stream`; the HTTP layer picks)."""

    body: bytes
    content_type: str
    filename: str


Target = DocumentContent | Sheet | Region | Specification | SpecSection | Doc


def extracted(target: Target) -> dict[str, Any]:
    """The `extracted_json` of an entity (or of a whole document): its wire JSON without artifact
    URLs, plus what the list views leave out (a sheet's regions, a doc's text, ...)."""
    if isinstance(target, DocumentContent):
        return {
            "file": target.file.wire(None),
            "documentId": target.facts.document_id,
            "sheets": [extracted(s) for s in target.sheets],
            "specifications": [extracted(s) for s in target.specifications],
            "docs": [extracted(d) for d in target.docs],
        }
    body = target.wire(None)
    if isinstance(target, Sheet):
        body["drawingType"] = target.drawing_type
        body["discipline"] = target.discipline
        body["regions"] = [r.wire(None) for r in target.regions]
    elif isinstance(target, Specification):
        body["sections"] = [s.outline_wire() for s in target.sections]
    elif isinstance(target, Doc):
        body.update(
            title=target.title,
            pageStart=target.page_start,
            pageEnd=target.page_end,
            text=target.text,
        )
    return body


def sheet_label(sheet: Sheet) -> str:
    """What a sheet's thumbnail shows in large type: its sheet number (its page without one)."""
    return sheet.sheet_number or f"PAGE {sheet.page_number}"


def _fit(text: str, width: int, scale: int = 1) -> str:
    while text and text_width(text, scale) > width:
        text = text[:-1]
    return text


def render_sheet_thumbnail(sheet: Sheet) -> bytes:
    w, h = THUMBNAIL_SIZE
    c = Canvas(w, h)
    c.outline(0, 0, w, h, 0)
    for r in sheet.regions:
        b = r.display_box
        box = (int(b.left * w), int(b.top * h), int(b.right * w), int(b.bottom * h))
        if r.region_type == "title_block":
            c.fill(*box, 225)
        c.outline(*box, 120)
    label = sheet_label(sheet)
    x, y = LABEL_ORIGIN
    name = _fit(sheet.sheet_name, w - 2 * x)
    right = x + max(text_width(label, LABEL_SCALE), text_width(name)) + 4
    c.fill(x - 4, y - 4, right, y + GLYPH_HEIGHT * LABEL_SCALE + 16, 255)
    c.outline(x - 4, y - 4, right, y + GLYPH_HEIGHT * LABEL_SCALE + 16, 0)
    c.text(x, y, label, scale=LABEL_SCALE)
    c.text(x, y + GLYPH_HEIGHT * LABEL_SCALE + 4, name)
    return c.png()


def _wrap(text: str, chars: int, lines: int) -> list[str]:
    out: list[str] = []
    for word in text.split():
        if out and len(out[-1]) + 1 + len(word) <= chars:
            out[-1] += " " + word
        else:
            out.append(word[:chars])
    return out[:lines]


def _render_doc_thumbnail(doc: Doc) -> bytes:
    w, h = _DOC_THUMBNAIL_SIZE
    c = Canvas(w, h)
    c.outline(0, 0, w, h, 0)
    c.text(8, 8, _fit(doc.doc_type, w - 16, 2), scale=2)
    for i, line in enumerate(_wrap(doc.title, 18, 14)):
        c.text(8, 32 + i * 9, line)
    return c.png()


def _render_file_thumbnail(doc: DocumentContent) -> bytes:
    if doc.sheets:
        return render_sheet_thumbnail(doc.sheets[0])
    if doc.docs:
        return _render_doc_thumbnail(doc.docs[0])
    w, h = _DOC_THUMBNAIL_SIZE
    c = Canvas(w, h)
    c.outline(0, 0, w, h, 0)
    title = doc.specifications[0].section_number if doc.specifications else ""
    for i, line in enumerate([*_wrap(doc.facts.file_name, 18, 4), title]):
        c.text(8, 8 + i * 9, line)
    return c.png()


def _svg(width: float, height: float, view: tuple[float, float, float, float], body: str) -> bytes:
    vx, vy, vw, vh = view
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="{vx:g} {vy:g} {vw:g} {vh:g}">\n{body}</svg>\n'
    ).encode()


def _region_svg_body(r: Region) -> str:
    w, h = _SVG_SIZE
    b = r.display_box
    x, y, bw, bh = b.left * w, b.top * h, (b.right - b.left) * w, (b.bottom - b.top) * h
    parts = [
        f'<g class="region" data-region-type={quoteattr(r.region_type)}>',
        f'<rect x="{x:g}" y="{y:g}" width="{bw:g}" height="{bh:g}" fill="none" '
        'stroke="#333" stroke-width="2"/>',
    ]
    if r.title_box is not None:
        t = r.title_box
        parts.append(
            f'<rect x="{t.left * w:g}" y="{t.top * h:g}" width="{(t.right - t.left) * w:g}" '
            f'height="{(t.bottom - t.top) * h:g}" fill="#eee" stroke="#999"/>'
        )
    parts.append(
        f'<text x="{x + 6:g}" y="{y + 18:g}" font-family="monospace" font-size="14">'
        f"{escape(r.label)}</text>"
    )
    for i, line in enumerate(_wrap(r.text, max(8, int(bw / 8)), max(1, int(bh / 16) - 2))):
        parts.append(
            f'<text x="{x + 6:g}" y="{y + 36 + i * 14:g}" font-family="monospace" '
            f'font-size="11">{escape(line)}</text>'
        )
    parts.append("</g>\n")
    return "".join(parts)


def render_region_svg(region: Region) -> bytes:
    """The region cropped out of its sheet, in the sheet's coordinates (1200 x 800)."""
    w, h = _SVG_SIZE
    b = region.display_box
    view = (b.left * w, b.top * h, (b.right - b.left) * w, (b.bottom - b.top) * h)
    return _svg(view[2], view[3], view, _region_svg_body(region))


def render_sheet_svg(sheet: Sheet) -> bytes:
    w, h = _SVG_SIZE
    body = f'<rect x="0" y="0" width="{w}" height="{h}" fill="white" stroke="black"/>\n'
    body += "".join(_region_svg_body(r) for r in sheet.regions)
    return _svg(w, h, (0, 0, w, h), body)


def _render(kind: ArtifactType, target: Target) -> bytes:
    if kind is ArtifactType.EXTRACTED_JSON:
        return json.dumps(extracted(target), ensure_ascii=False, indent=2).encode()
    if kind is ArtifactType.THUMBNAIL:
        if isinstance(target, Sheet):
            return render_sheet_thumbnail(target)
        if isinstance(target, Doc):
            return _render_doc_thumbnail(target)
        if isinstance(target, DocumentContent):
            return _render_file_thumbnail(target)
    if kind is ArtifactType.VECTOR_CROP:
        if isinstance(target, Sheet):
            return render_sheet_svg(target)
        if isinstance(target, Region):
            return render_region_svg(target)
    raise AssertionError(f"no {kind} renderer for {type(target).__name__}")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ArtifactIndex:
    """The artifacts of some documents, by path: a job's (`project_reads=False`: only those its
    result lists, of documents, sheets, specifications and docs, as the docs allow) or a
    project's (every entity's, regions and sections included)."""

    __slots__ = ("_by_path", "scope")

    def __init__(
        self, scope: str, documents: Iterable[DocumentContent], *, project_reads: bool
    ) -> None:
        self.scope = scope  # for error messages: "job job_..." or "project proj_..."
        by_path: dict[str, tuple[Artifact, Target]] = {}

        def add(arts: tuple[Artifact, ...], target: Target) -> None:
            for a in arts:
                by_path[a.path] = (a, target)

        for doc in documents:
            add(doc.artifacts, doc)
            for sheet in doc.sheets:
                add(sheet.artifacts, sheet)
                for region in sheet.regions if project_reads else ():
                    add(region.artifacts, region)
            for spec in doc.specifications:
                add(spec.artifacts, spec)
                for section in spec.sections if project_reads else ():
                    add(section.artifacts, section)
            for d in doc.docs:
                add(d.artifacts, d)
        self._by_path = by_path

    def __contains__(self, path: object) -> bool:
        return path in self._by_path

    def __len__(self) -> int:
        return len(self._by_path)

    def paths(self) -> list[str]:
        return list(self._by_path)

    def resolve(self, path: str) -> ArtifactBytes:
        """The bytes behind `path`; `UnknownArtifactPath` for a path this scope never handed
        out."""
        found = self._by_path.get(path)
        if found is None:
            raise UnknownArtifactPath(path=path, scope=self.scope)
        artifact, target = found
        filename = _UNSAFE.sub("_", path.replace("/", "-"))
        return ArtifactBytes(
            _render(artifact.type, target), _CONTENT_TYPES[artifact.type], filename
        )
