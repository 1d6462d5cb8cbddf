"""Project search (`POST /projects/search`): which projects match a query, and why.

A project matches by its own fields, kept in a small FTS5 catalog (name, aliases and title
candidates, sheet numbers and titles), and by its sources (the best few hits of its source
index). Each match lists its reasons: the name, the aliases and sheets that hold query terms,
and the source hits. A project's score is the best of its catalog score and its hits' scores
(the same scale as source search: 0.5 or more when one field or chunk holds every term).

The filters apply to source hits only (the docs: "filter source matches"). Unknown
`entityTypes` (the docs' own example uses "door" and "window") are ignored with a warning.
Paging (`limit`, `cursor`) is the caller's: the result is the whole ranked list.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SearchValidationError
from .index import MAX_HITS, SearchFilters, SearchHit, SourceIndex, bm25_score, check_fts5
from .normalize import TOKENIZER, clean
from .query import ParsedQuery, parse_query
from .sources import SourceType

__all__ = ["MatchReason", "ProjectCatalog", "ProjectMatch", "ProjectProfile", "ProjectSearch"]

DEFAULT_HITS_PER_PROJECT = 3
_COLUMNS = (("name", "name"), ("aliases", "alias"), ("sheets", "sheet"))
_OPEN, _CLOSE = "\x02", "\x03"  # highlight marks; removed from indexed text


def _catalog_text(values: Iterable[str]) -> str:
    return "\n".join(clean(v).replace(_OPEN, " ").replace(_CLOSE, " ") for v in values)


def _reasons(kind: str, highlighted: str) -> list[MatchReason]:
    """The lines (a name, an alias, a sheet) of a column that hold the most query terms."""
    lines = [(line.count(_OPEN), line) for line in highlighted.split("\n") if _OPEN in line]
    most = max((n for n, _ in lines), default=0)
    return [
        MatchReason(kind, line.replace(_OPEN, "").replace(_CLOSE, ""))
        for n, line in lines
        if n == most
    ]


@dataclass(frozen=True, slots=True)
class ProjectProfile:
    """A project's own searchable fields. `aliases` holds other names and title candidates;
    `sheets` one line per sheet, e.g. "A-101 First Floor Plan"."""

    project_id: str
    name: str
    aliases: tuple[str, ...] = ()
    sheets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchReason:
    type: str  # name | alias | sheet | sources
    text: str

    def to_wire(self) -> dict[str, Any]:
        return {"type": self.type, "text": self.text}


@dataclass(frozen=True, slots=True)
class ProjectMatch:
    project_id: str
    score: float
    reasons: tuple[MatchReason, ...]
    source_hits: tuple[SearchHit, ...]

    def to_wire(self) -> dict[str, Any]:
        """The match without the project object (the HTTP layer adds `project`)."""
        return {
            "projectId": self.project_id,
            "score": round(self.score, 6),
            "matchReasons": [r.to_wire() for r in self.reasons],
            "sourceHits": [h.to_wire() for h in self.source_hits],
        }


@dataclass(frozen=True, slots=True)
class ProjectSearch:
    query: str
    matches: tuple[ProjectMatch, ...]
    warnings: tuple[str, ...] = ()


class ProjectCatalog:
    """Every project's own fields, in one FTS5 table."""

    def __init__(self) -> None:
        check_fts5()
        self._conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        self._conn.execute(
            "CREATE VIRTUAL TABLE project USING fts5(name, aliases, sheets, "
            f'tokenize="{TOKENIZER}")'
        )
        self._rowid: dict[str, int] = {}
        self._project: dict[int, str] = {}
        self._next = 1

    def __contains__(self, project_id: object) -> bool:
        return project_id in self._rowid

    def upsert(self, profile: ProjectProfile) -> None:
        self.remove(profile.project_id)
        rowid = self._next
        self._next += 1
        self._conn.execute(
            "INSERT INTO project(rowid, name, aliases, sheets) VALUES (?, ?, ?, ?)",
            (
                rowid,
                _catalog_text([profile.name]),
                _catalog_text(profile.aliases),
                _catalog_text(profile.sheets),
            ),
        )
        self._rowid[profile.project_id] = rowid
        self._project[rowid] = profile.project_id

    def remove(self, project_id: str) -> None:
        rowid = self._rowid.pop(project_id, None)
        if rowid is not None:
            del self._project[rowid]
            self._conn.execute("DELETE FROM project WHERE rowid = ?", (rowid,))

    def close(self) -> None:
        self._conn.close()

    def match(
        self, parsed: ParsedQuery, project_ids: Collection[str] | None
    ) -> dict[str, tuple[float, tuple[MatchReason, ...]]]:
        """project id -> (score, reasons) for projects whose own fields hold query terms."""
        if not parsed.terms:
            return {}
        out: dict[str, tuple[float, tuple[MatchReason, ...]]] = {}
        tiers = [(ParsedQuery.all_of(parsed.terms), True)]
        if len(parsed.terms) > 1:
            tiers.append((ParsedQuery.any_of(parsed.terms), False))
        marks = ", ".join(
            f"highlight(project, {i}, '{_OPEN}', '{_CLOSE}')" for i in range(len(_COLUMNS))
        )
        for expr, complete in tiers:
            rows = self._conn.execute(
                f"SELECT rowid, bm25(project, 4.0, 2.0, 1.0), {marks} FROM project "
                "WHERE project MATCH ?",
                (expr,),
            ).fetchall()
            for rowid, bm25, *columns in rows:
                pid = self._project[rowid]
                if pid in out or (project_ids is not None and pid not in project_ids):
                    continue
                reasons = [
                    reason
                    for (_, kind), text in zip(_COLUMNS, columns, strict=True)
                    for reason in _reasons(kind, text)
                ]
                out[pid] = (bm25_score(bm25, complete), tuple(reasons))
        return out

    def search(
        self,
        query: str,
        *,
        indexes: Mapping[str, SourceIndex],
        project_ids: Collection[str] | None = None,
        entity_types: Iterable[str] | None = None,
        filters: SearchFilters | None = None,
        hits_per_project: int = DEFAULT_HITS_PER_PROJECT,
        warnings: Iterable[str] = (),
    ) -> ProjectSearch:
        """Projects matching `query`, best first. `project_ids` limits the projects (None:
        every project in the catalog or in `indexes`); `indexes` are the source indexes to
        search (the caller leaves out the ones not ready, and says so in `warnings`)."""
        parsed = parse_query(query)
        notes = [*warnings, *parsed.warnings]
        filters = filters or SearchFilters()
        filters.validate()
        if not 1 <= hits_per_project <= MAX_HITS:
            raise SearchValidationError(
                field="hitsPerProject", message=f"must be between 1 and {MAX_HITS}"
            )
        types: list[str] | None = None  # None: every type; []: none (all were unknown)
        given = list(dict.fromkeys(entity_types or ()))
        if given:
            known = {t.value for t in SourceType}
            types = [t for t in given if t in known]
            unknown = [t for t in given if t not in known]
            if unknown:
                notes.append(
                    f"entityTypes {', '.join(repr(t[:40]) for t in unknown[:10])} are not "
                    f"searchable source types ({', '.join(sorted(known))}); ignored"
                )
        scoped = project_ids if project_ids is None else set(project_ids)
        by_catalog = self.match(parsed, scoped)
        matches: list[ProjectMatch] = []
        candidates = set(by_catalog)
        candidates.update(p for p in indexes if scoped is None or p in scoped)
        for pid in candidates:
            score, reasons = by_catalog.get(pid, (0.0, ()))
            hits: tuple[SearchHit, ...] = ()
            index = indexes.get(pid)
            if index is not None and parsed.terms and (types is None or types):
                hits = index.search(
                    query, max_hits=hits_per_project, entity_types=types or None, filters=filters
                ).hits
            if hits:
                score = max(score, hits[0].score)
                noun = "hit" if len(hits) == 1 else "hits"
                reasons += (MatchReason("sources", f"{len(hits)} source {noun}"),)
            if reasons:
                matches.append(ProjectMatch(pid, score, reasons, hits))
        matches.sort(key=lambda m: (-m.score, m.project_id))
        return ProjectSearch(query=query, matches=tuple(matches), warnings=tuple(notes))
