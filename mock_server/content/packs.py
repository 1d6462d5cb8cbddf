"""Content packs: JSON files that fix the content of uploaded files by name.

A pack is `{"files": [{"match": "tower-a.pdf", "sheets": [...], "specifications": [...],
"docs": [...]}]}`. A file whose name equals `match` gets the pack's sheets, in order, for its
drawing pages (then generated ones if it has more drawing pages than the pack has sheets); the same
for specifications (its specification sections, in order) and docs. Validation errors name the
pack file and the field: `fixtures/content/x.json: files.0.sheets.2.regions.0.regionType: must be
one of 'plan', 'detail', ...`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import ContentPackError

__all__ = [
    "ContentPack",
    "ContentPackError",
    "ContentPacks",
    "PackBox",
    "PackDoc",
    "PackFile",
    "PackRegion",
    "PackSheet",
    "PackSpecification",
    "load_content_pack",
    "load_content_packs",
]

RegionTypeName = Literal["plan", "detail", "section", "elevation", "schedule", "title_block"]
DrawingTypeName = Literal["cover", "plan", "elevation", "section", "detail", "schedule", "diagram"]
DocTypeName = Literal["submittal", "rfi", "report", "schedule", "addendum"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackBox(_Strict):
    left: float = Field(ge=0, le=1)
    top: float = Field(ge=0, le=1)
    right: float = Field(ge=0, le=1)
    bottom: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> PackBox:
        if not (self.left < self.right and self.top < self.bottom):
            raise ValueError("needs left < right and top < bottom")
        return self


class PackRegion(_Strict):
    regionType: RegionTypeName
    label: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=50_000)
    displayBox: PackBox | None = None  # default: laid out like generated regions
    titleBox: PackBox | None = None


class PackSheet(_Strict):
    sheetNumber: str | None = Field(min_length=1, max_length=40)
    sheetName: str = Field(min_length=1, max_length=200)
    discipline: str = Field(default="architectural", pattern=r"^[a-z][a-z_]{0,39}$")
    drawingType: DrawingTypeName = "plan"
    # omitted: generated regions; given (even []): exactly these
    regions: list[PackRegion] | None = Field(default=None, max_length=50)


class PackSpecification(_Strict):
    sectionNumber: str = Field(pattern=r"^\d{2} \d{2} \d{2}(\.\d{2})?$")
    sectionTitle: str = Field(min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=50_000)


class PackDoc(_Strict):
    docType: DocTypeName
    title: str | None = Field(default=None, min_length=1, max_length=200)
    text: str | None = Field(default=None, max_length=50_000)


class PackFile(_Strict):
    match: str = Field(min_length=1, max_length=255)
    sheets: list[PackSheet] = Field(default_factory=list, max_length=10_000)
    specifications: list[PackSpecification] = Field(default_factory=list, max_length=10_000)
    docs: list[PackDoc] = Field(default_factory=list, max_length=10_000)


class ContentPack(_Strict):
    files: list[PackFile] = Field(min_length=1)


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _message(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}, got {err.get('input')!r}"
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field (a typo?)"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_pattern_mismatch":
        return f"must match {ctx.get('pattern')}, got {err.get('input')!r}"
    if kind == "too_short":
        return "must not be empty"
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def load_content_pack(path: Path | str) -> ContentPack:
    """Read and validate one pack; `ContentPackError` names the file and every bad field."""
    p = Path(path)
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContentPackError(p, [("(file)", f"cannot read it: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise ContentPackError(p, [("(file)", "is not UTF-8 text")]) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ContentPackError(
            p, [("(file)", f"is not valid JSON: {exc.msg} at {where}")]
        ) from None
    try:
        pack = ContentPack.model_validate(raw)
    except ValidationError as exc:
        problems = [(_field(tuple(e["loc"])), _message(e)) for e in exc.errors()]
        raise ContentPackError(p, problems) from None
    seen: dict[str, int] = {}
    for i, entry in enumerate(pack.files):
        if entry.match in seen:
            raise ContentPackError(
                p,
                [
                    (
                        f"files.{i}.match",
                        f"{entry.match!r} is already matched by files.{seen[entry.match]}; "
                        "each file name may appear once in a pack",
                    )
                ],
            )
        seen[entry.match] = i
    return pack


@dataclass(frozen=True, slots=True)
class ContentPacks:
    """The packs a server loaded, by file name; a later pack overrides an earlier one."""

    files: Mapping[str, PackFile] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def for_file(self, file_name: str) -> PackFile | None:
        return self.files.get(file_name)

    def __bool__(self) -> bool:
        return bool(self.files)


def load_content_packs(paths: Iterable[Path | str]) -> ContentPacks:
    """Load packs in order; the first bad one raises `ContentPackError`."""
    files: dict[str, PackFile] = {}
    sources = []
    for path in paths:
        for entry in load_content_pack(path).files:
            files[entry.match] = entry
        sources.append(str(path))
    return ContentPacks(files, tuple(sources))
