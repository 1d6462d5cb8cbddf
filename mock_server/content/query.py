"""The documented filters of the project entity lists (API.md part A, "Entity lists").

`EntityQuery.from_params` reads them from query parameters (pagination, `limit` and `cursor`, is
the HTTP layer's); `matches` says whether an entity passes. Which filters apply to which list
follows the docs; a filter given to a list it does not apply to is ignored.

Defined by the mock where the docs are silent: `status` is the parent file's status except on
docs (the doc's own, `complete`); regions' `drawingType` matches the sheet's drawing type or its
discipline (the docs call it "drawing discipline or type"); `sheets` on files, specifications,
sections and docs keeps the entities of the files those sheets belong to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from .entities import Entity, EntityKind, FileRef
from .errors import InvalidQuery

__all__ = ["APPLICABLE", "CLASSIFICATIONS", "EntityQuery"]

CLASSIFICATIONS = ("plans", "specifications", "documents", "addenda", "mixed", "other")
_COMMON = frozenset({"sheets", "file_id", "file_name", "classification", "status"})
APPLICABLE: dict[EntityKind, frozenset[str]] = {
    EntityKind.FILES: _COMMON,
    EntityKind.SHEETS: _COMMON | {"page_number", "sheet_number"},
    EntityKind.REGIONS: _COMMON
    | {"sheet_id", "page_number", "region_type", "drawing_type", "layout_type"},
    EntityKind.SPECIFICATIONS: _COMMON | {"section_number", "page_start", "page_end"},
    EntityKind.SECTIONS: frozenset({"section_number", "page_start", "page_end"}),
    EntityKind.DOCS: _COMMON | {"doc_type"},
}
# query parameter -> EntityQuery field
_PARAMS = {
    "sheets": "sheets",
    "fileId": "file_id",
    "fileName": "file_name",
    "classification": "classification",
    "status": "status",
    "pageNumber": "page_number",
    "sheetNumber": "sheet_number",
    "sheetId": "sheet_id",
    "regionType": "region_type",
    "drawingType": "drawing_type",
    "layoutType": "layout_type",
    "sectionNumber": "section_number",
    "pageStart": "page_start",
    "pageEnd": "page_end",
    "docType": "doc_type",
}
_INTS = frozenset({"pageNumber", "pageStart", "pageEnd"})
# filters on the parent file (status too, except on docs)
_FILE_LEVEL = frozenset({"file_id", "file_name", "classification", "status"})


def _both(a: Callable[[Any], bool], b: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda e: a(e) and b(e)


class _Holder:
    """Stands in for an entity of one file while the per-file filters are decided."""

    __slots__ = ("file",)

    def __init__(self, file: FileRef) -> None:
        self.file = file


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """The filters of one list request; None means not given."""

    sheets: frozenset[str] | None = None
    file_id: str | None = None
    file_name: str | None = None  # case-insensitive substring
    classification: str | None = None
    status: str | None = None
    page_number: int | None = None
    sheet_number: str | None = None
    sheet_id: str | None = None
    region_type: str | None = None
    drawing_type: str | None = None
    layout_type: str | None = None
    section_number: str | None = None
    page_start: int | None = None
    page_end: int | None = None
    doc_type: str | None = None
    compact: bool = False  # not a filter: drop the artifact URLs

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> EntityQuery:
        """Read the documented query parameters; unknown ones are left to the caller. An empty
        value means the filter is not given. `InvalidQuery` names the bad parameter."""
        values: dict[str, object] = {}
        for param, name in _PARAMS.items():
            raw = params.get(param)
            if raw is None or raw == "":
                continue
            if param == "sheets":
                ids = frozenset(s.strip() for s in raw.split(",") if s.strip())
                if not ids:
                    raise InvalidQuery(field=param, message="must list at least one sheet id")
                values[name] = ids
            elif param in _INTS:
                try:
                    number = int(raw)
                except ValueError:
                    number = 0
                if number < 1 or not raw.strip().isdigit():
                    raise InvalidQuery(
                        field=param, message=f"must be an integer >= 1, got {raw!r}"
                    )
                values[name] = number
            elif param == "classification":
                if raw not in CLASSIFICATIONS:
                    raise InvalidQuery(
                        field=param,
                        message=f"must be one of {', '.join(CLASSIFICATIONS)}, got {raw!r}",
                    )
                values[name] = raw
            else:
                values[name] = raw
        compact = params.get("compact")
        if compact is not None and compact != "":
            lowered = compact.strip().lower()
            if lowered not in ("true", "false", "1", "0"):
                raise InvalidQuery(
                    field="compact", message=f"must be true or false, got {compact!r}"
                )
            values["compact"] = lowered in ("true", "1")
        return cls(**values)  # type: ignore[arg-type]

    def given(self) -> list[str]:
        """The names of the filters given (compact excluded)."""
        return [
            f.name
            for f in fields(self)
            if f.name != "compact" and getattr(self, f.name) is not None
        ]

    def predicate(
        self,
        kind: EntityKind,
        sheet_files: Callable[[frozenset[str]], frozenset[str]],
        files: Sequence[FileRef],
    ) -> Callable[[Entity], bool] | None:
        """One function that tells whether an entity of `kind` passes every applicable filter;
        None when no filter applies. `sheet_files` maps sheet ids to their files' ids; `files`
        are the project's files: the filters on the parent file are decided once per file, so
        an entity costs one set look-up for all of them."""
        tests: list[Callable[[Any], bool]] = []
        applicable = APPLICABLE[kind]
        given = [name for name in self.given() if name in applicable]
        per_file = [
            n
            for n in given
            if n in _FILE_LEVEL and not (n == "status" and kind is EntityKind.DOCS)
        ]
        if per_file:
            file_tests = [self._test(kind, n, sheet_files) for n in per_file]
            allowed = frozenset(f.file_id for f in files if all(t(_Holder(f)) for t in file_tests))
            tests.append(lambda e: e.file.file_id in allowed)
        for name in given:
            if name not in per_file:
                tests.append(self._test(kind, name, sheet_files))
        if not tests:
            return None
        test = tests[0]
        for more in tests[1:]:
            test = _both(test, more)
        return test

    def _test(
        self,
        kind: EntityKind,
        name: str,
        sheet_files: Callable[[frozenset[str]], frozenset[str]],
    ) -> Callable[[Any], bool]:
        # entities are Any here: each list holds one entity type, and these run per entity, so
        # they read attributes directly (no isinstance checks)
        value = getattr(self, name)
        if name == "sheets":
            if kind in (EntityKind.SHEETS, EntityKind.REGIONS):
                return lambda e: e.sheet_id in value
            files = sheet_files(value)
            return lambda e: e.file.file_id in files
        if name == "file_id":
            return lambda e: e.file.file_id == value
        if name == "file_name":
            needle = value.lower()
            return lambda e: needle in e.file.file_name.lower()
        if name == "classification":
            return lambda e: e.file.classification == value
        if name == "status":
            if kind is EntityKind.DOCS:
                return lambda e: e.status == value
            return lambda e: e.file.status == value
        if name == "page_number":
            return lambda e: e.page_number == value
        if name == "sheet_number":
            return lambda e: e.sheet_number == value
        if name == "sheet_id":
            return lambda e: e.sheet_id == value
        if name == "region_type":
            return lambda e: e.region_type == value
        if name == "drawing_type":
            return lambda e: e.drawing_type == value or e.discipline == value
        if name == "layout_type":
            return lambda e: e.layout_type == value
        if name == "section_number":
            return lambda e: e.section_number == value
        if name == "page_start":
            return lambda e: e.page_start >= value
        if name == "page_end":
            return lambda e: e.page_end <= value
        if name == "doc_type":
            return lambda e: e.doc_type == value
        raise AssertionError(f"unknown filter {name}")
