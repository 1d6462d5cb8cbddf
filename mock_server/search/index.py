"""A project's source index: SQLite FTS5 in memory, ranked by `bm25()`.

Rows are *chunks*: each source's own text (columns title, body, keywords) and each of its facets
(facet label as title, facet text as body). A side table holds the filter fields, joined
by rowid, so filters run in SQL. The tokenizer is described in `normalize.py`; `unicode61`
splits at punctuation, and quoted query terms are phrases, so sheet numbers (A-101), section
numbers (03 30 00) and ratings (R-19) match as typed without `tokenchars` (which would make
"cast-in-place" one word that "cast" no longer finds). Keywords are also indexed with their
separators removed, so `A101` and `033000` find them too.

Ranking. A chunk that holds every query term ranks above one that holds only some: the index
first asks FTS5 for chunks matching all terms, then, if that gave fewer than `max_hits`, for
chunks matching any term. Within each tier, order is by `bm25()` with column weights title 4,
body 1, keywords 2 (ties by indexing order).

Large projects (`COMMON_MIN_CHUNKS` chunks or more) get two shortcuts, because ranking costs
about 1-2 us per matching chunk and per term, and a term in every chunk would make every query
rank the whole project:
- a term found in half or more of the chunks (the, of, and) is a *stop term* when the query
  has other terms: it need not match and adds nothing to the score. In bm25 such a term
  weighs nothing anyway (FTS5 clamps its idf to 1e-6).
- partial matches (the second tier) come from the query's rarest terms only: as many as
  together occur in at most `PARTIAL_BUDGET` chunks, and always the rarest one.

Score. `bm25()` is negative, lower is better; a hit's `score` is x / (1 + x) with x = -bm25,
mapped into [0.5, 1) for chunks holding every term and into (0, 0.5) for the rest. Higher is
better, hits come in descending score, and 0.5 or more means "every term is there".

One index per project, one connection per index, created on the first write. Not thread-safe:
the mock touches it from its event loop only.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .errors import SearchUnavailable, SearchValidationError, SourceNotFound
from .normalize import TOKENIZER, clean
from .query import ParsedQuery, QueryTerm, parse_query
from .snippet import TermFinder
from .sources import CLASSIFICATIONS, SearchSource, SourceFacet, SourceType, TextKind
from .text import DEFAULT_MAX_CHARS, SourceText, page, text_digest

__all__ = [
    "COMMON_MIN_CHUNKS",
    "DEFAULT_MAX_HITS",
    "MAX_HITS",
    "PARTIAL_BUDGET",
    "SearchFilters",
    "SearchHit",
    "SearchResult",
    "SourceIndex",
    "bm25_score",
    "check_fts5",
    "parse_entity_types",
]

DEFAULT_MAX_HITS = 10  # "a system value" in the docs
MAX_HITS = 50
WEIGHTS = (4.0, 1.0, 2.0)  # title, body, keywords
SNIPPET_TOKENS = 24
COMMON_MIN_CHUNKS = 1_000
PARTIAL_BUDGET = 4_000
_SEPARATORS = re.compile(r"[\W_]+")
_BM25 = f"bm25(fts, {', '.join(str(w) for w in WEIGHTS)})"
# the fallback snippet: marks nothing, "..." where it cuts text, as in the docs' example
_SNIPPET = f"snippet(fts, -1, '', '', '...', {SNIPPET_TOKENS})"

_fts5_checked = False


def check_fts5() -> None:
    """Raise SearchUnavailable unless this Python's sqlite3 has FTS5 (checked once)."""
    global _fts5_checked
    if _fts5_checked:
        return
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(body)")
    except sqlite3.OperationalError as exc:
        raise SearchUnavailable(sqlite_version=sqlite3.sqlite_version, reason=str(exc)) from None
    finally:
        conn.close()
    _fts5_checked = True


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """The documented source-search filters. Text filters ignore case: `file_name` is a
    substring of the file name, the others equal the whole value. `page_number` falls within
    a source's pages. A source without the field (a spec has no region type) is excluded."""

    region_type: str | None = None
    layout_type: str | None = None
    drawing_type: str | None = None
    sheet_number: str | None = None
    file_name: str | None = None
    page_number: int | None = None
    classification: str | None = None

    def validate(self) -> None:
        if self.page_number is not None and (
            isinstance(self.page_number, bool)
            or not isinstance(self.page_number, int)
            or self.page_number < 1
        ):
            raise SearchValidationError(
                field="pageNumber", message=f"must be an integer >= 1; got {self.page_number!r}"
            )
        if self.classification is not None and self.classification not in CLASSIFICATIONS:
            raise SearchValidationError(
                field="classification",
                message=f"{self.classification!r} is not one of "
                f"{', '.join(sorted(CLASSIFICATIONS))}",
            )

    def _folded(self) -> Iterator[tuple[str, str]]:
        for column in ("region_type", "layout_type", "drawing_type", "sheet_number"):
            value = getattr(self, column)
            if value is not None:
                yield column, _fold_value(value)
        if self.classification is not None:
            yield "classification", self.classification

    @property
    def empty(self) -> bool:
        return self == _NO_FILTERS


_NO_FILTERS = SearchFilters()


def _fold_value(value: str) -> str:
    return clean(value).casefold()


def parse_entity_types(values: Iterable[str] | None) -> frozenset[SourceType]:
    """The documented `entityTypes`; None or an empty list means every type."""
    if values is None:
        return frozenset()
    out: set[SourceType] = set()
    for v in values:
        try:
            out.add(SourceType(v))
        except ValueError:
            allowed = ", ".join(t.value for t in SourceType)
            raise SearchValidationError(
                field="entityTypes", message=f"{str(v)[:40]!r} is not one of {allowed}"
            ) from None
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class SearchHit:
    score: float
    snippet: str
    uri: str
    source: dict[str, Any]
    facet_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 6),
            "snippet": self.snippet,
            "sourceCatalogUri": self.uri,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    hits: tuple[SearchHit, ...]
    chunks_searched: int  # chunks that passed the filters and entity types
    warnings: tuple[str, ...] = ()

    @property
    def hit_count(self) -> int:
        return len(self.hits)


def bm25_score(bm25: float, complete: bool) -> float:
    """A hit's score from FTS5's bm25 (negative, lower is better): higher is better."""
    x = max(-bm25, 0.0)
    s = x / (1.0 + x)
    return 0.5 + 0.5 * s if complete else 0.5 * s


def _keywords(words: Iterable[str]) -> str:
    out: list[str] = []
    for w in words:
        out.append(w)
        joined = _SEPARATORS.sub("", w)
        if joined and joined != w and joined not in out:
            out.append(joined)
    return " ".join(out)


class SourceIndex:
    """The searchable sources of one project."""

    def __init__(self) -> None:
        check_fts5()
        self._conn: sqlite3.Connection | None = None
        self._sources: dict[str, SearchSource] = {}
        self._rowids: dict[str, list[int]] = {}
        self._chunks: dict[int, tuple[str, str | None]] = {}  # rowid -> (uri, facet id)
        self._next_rowid = 1
        self._digests: dict[tuple[str, str, str | None], str] = {}
        self._doc_counts: dict[str, int] = {}  # word -> chunks holding it, until the next write

    # -- writing ---------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            conn.executescript(
                f"""
                CREATE VIRTUAL TABLE fts USING fts5(title, body, keywords, tokenize="{TOKENIZER}");
                CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row');
                CREATE TABLE chunk(
                    id INTEGER PRIMARY KEY, type TEXT NOT NULL, region_type TEXT,
                    layout_type TEXT, drawing_type TEXT, sheet_number TEXT, file_name TEXT,
                    classification TEXT, page_start INTEGER, page_end INTEGER);
                """
            )
            self._conn = conn
        return self._conn

    def add(self, sources: Iterable[SearchSource]) -> int:
        """Index `sources` (a job's entities); a source whose uri is indexed already replaces
        it. Returns how many sources were written. All or nothing: if a source cannot be
        indexed, the index is left as it was."""
        batch = {s.uri: s for s in sources}  # the last one of a uri wins
        if not batch:
            return 0
        fts_rows: list[tuple[int, str, str, str]] = []
        chunk_rows: list[tuple[Any, ...]] = []
        chunks: dict[int, tuple[str, str | None]] = {}
        rowids: dict[str, list[int]] = {}
        rowid = self._next_rowid
        for uri, src in batch.items():
            folded = [
                None if v is None else _fold_value(v)
                for v in (src.region_type, src.layout_type, src.drawing_type)
            ]
            sheet = None if src.sheet_number is None else _fold_value(src.sheet_number)
            file_name = None if src.file_name is None else _fold_value(src.file_name)
            meta = (src.type.value, *folded, sheet, file_name, src.classification)
            pages = (src.page_start, src.last_page)
            keywords = clean(_keywords(src.keywords))
            # a facet chunk has its own label and text only: the source's title and keywords
            # would make every facet a hit wherever the source itself is one
            parts: list[tuple[str | None, str, str, str]] = [(None, src.title, src.text, keywords)]
            parts += [(f.facet_id, f.label, f.source_text, "") for f in src.facets]
            rowids[uri] = []
            for facet_id, title, body, words in parts:
                rowids[uri].append(rowid)
                chunks[rowid] = (uri, facet_id)
                fts_rows.append((rowid, clean(title), clean(body), words))
                chunk_rows.append((rowid, *meta, *pages))
                rowid += 1
        replaced = [u for u in batch if u in self._sources]
        conn = self._db()
        conn.execute("BEGIN")
        try:
            self._delete_rows(conn, replaced)
            conn.executemany(
                "INSERT INTO fts(rowid, title, body, keywords) VALUES (?, ?, ?, ?)", fts_rows
            )
            conn.executemany("INSERT INTO chunk VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", chunk_rows)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._forget(replaced)
        self._next_rowid = rowid
        self._chunks.update(chunks)
        self._rowids.update(rowids)
        self._sources.update(batch)
        self._digests.clear()
        self._doc_counts.clear()
        return len(batch)

    def remove(self, uris: Iterable[str]) -> int:
        """Drop sources by uri (unknown ones are ignored); returns how many were dropped."""
        known = [u for u in dict.fromkeys(uris) if u in self._sources]
        if known:
            conn = self._db()
            conn.execute("BEGIN")
            try:
                self._delete_rows(conn, known)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._forget(known)
            self._digests.clear()
            self._doc_counts.clear()
        return len(known)

    def _delete_rows(self, conn: sqlite3.Connection, uris: list[str]) -> None:
        rows = [(r,) for u in uris for r in self._rowids[u]]
        conn.executemany("DELETE FROM fts WHERE rowid = ?", rows)
        conn.executemany("DELETE FROM chunk WHERE id = ?", rows)

    def _forget(self, uris: list[str]) -> None:
        for u in uris:
            for r in self._rowids.pop(u):
                del self._chunks[r]
            del self._sources[u]

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._sources.clear()
        self._rowids.clear()
        self._chunks.clear()
        self._digests.clear()
        self._doc_counts.clear()

    # -- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._sources)

    def __contains__(self, uri: object) -> bool:
        return uri in self._sources

    @property
    def chunk_count(self) -> int:
        return len(self._chunks)

    def get(self, uri: str) -> SearchSource | None:
        return self._sources.get(uri)

    def sources(self) -> Iterator[SearchSource]:
        return iter(self._sources.values())

    def search(
        self,
        query: str,
        *,
        max_hits: int = DEFAULT_MAX_HITS,
        entity_types: Collection[str] | None = None,
        filters: SearchFilters | None = None,
    ) -> SearchResult:
        """Ranked hits for `query` (see the module docstring for the ranking and the score).
        Raises SearchValidationError for an empty query, `max_hits` outside 1-50, an unknown
        entity type, `page_number` < 1 or an unknown classification; never a SQLite error."""
        parsed = parse_query(query)
        if isinstance(max_hits, bool) or not isinstance(max_hits, int):
            raise SearchValidationError(field="maxHits", message="must be an integer")
        if not 1 <= max_hits <= MAX_HITS:
            raise SearchValidationError(
                field="maxHits", message=f"must be between 1 and {MAX_HITS}; got {max_hits}"
            )
        types = parse_entity_types(entity_types)
        filters = filters or _NO_FILTERS
        filters.validate()
        where, params = self._filter_sql(types, filters)
        chunks_searched = self._count(where, params)
        if not parsed.terms or not chunks_searched:
            return SearchResult(query, (), chunks_searched, parsed.warnings)

        required, partial = self._plan(parsed.terms)
        found = self._tier(required, where, params, max_hits, [], True)
        if len(required) > 1 and len(found) < max_hits:
            seen = [rowid for rowid, _ in found]
            found += self._tier(partial, where, params, max_hits - len(found), seen, False)
        hits = tuple(hit for _, hit in found)
        return SearchResult(query, hits, chunks_searched, parsed.warnings)

    def _filter_sql(
        self, types: frozenset[SourceType], filters: SearchFilters
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if types and len(types) < len(SourceType):
            clauses.append(f"c.type IN ({', '.join('?' * len(types))})")
            params += sorted(t.value for t in types)
        for column, value in filters._folded():
            clauses.append(f"c.{column} = ?")
            params.append(value)
        if filters.file_name is not None:
            clauses.append("instr(c.file_name, ?) > 0")
            params.append(_fold_value(filters.file_name))
        if filters.page_number is not None:
            clauses.append("c.page_start <= ? AND ? <= c.page_end")
            params += [filters.page_number, filters.page_number]
        return " AND ".join(clauses), params

    def _count(self, where: str, params: list[Any]) -> int:
        if not where or self._conn is None:
            return len(self._chunks)
        row = self._conn.execute(f"SELECT count(*) FROM chunk AS c WHERE {where}", params)
        return int(row.fetchone()[0])

    def _tier(
        self,
        terms: tuple[QueryTerm, ...],
        where: str,
        params: list[Any],
        limit: int,
        exclude: list[int],
        complete: bool,
    ) -> list[tuple[int, SearchHit]]:
        """(rowid, hit) of the best `limit` chunks matching all (`complete`) or any of
        `terms`, except the rowids in `exclude`."""
        conn = self._db()
        expr = ParsedQuery.all_of(terms) if complete else ParsedQuery.any_of(terms)
        sql = f"SELECT fts.rowid, {_BM25} AS r FROM fts"
        clauses = ["fts MATCH ?"]
        args: list[Any] = [expr]
        if where:
            sql += " JOIN chunk AS c ON c.id = fts.rowid"
            clauses.append(where)
            args += params
        if exclude:
            clauses.append(f"fts.rowid NOT IN ({', '.join('?' * len(exclude))})")
            args += exclude
        sql += f" WHERE {' AND '.join(clauses)} ORDER BY r, fts.rowid LIMIT ?"
        hits: list[tuple[int, SearchHit]] = []
        finder = TermFinder([t.words for t in terms])
        for rowid, bm25 in conn.execute(sql, [*args, limit]).fetchall():
            uri, facet_id = self._chunks[rowid]
            src = self._sources[uri]
            facet = None if facet_id is None else src.facet(facet_id)
            columns: tuple[str, ...]
            if facet is None:
                columns = (src.text, src.title, _keywords(src.keywords))
            else:
                columns = (facet.source_text, facet.label)
            text = finder.snippet([clean(c) for c in columns])
            if text is None:  # the tokenizer saw a term where Python's mirror of it did not
                row = conn.execute(
                    f"SELECT {_SNIPPET} FROM fts WHERE fts MATCH ? AND rowid = ?", (expr, rowid)
                ).fetchone()
                text = "" if row is None else str(row[0])
            hit = SearchHit(
                score=bm25_score(bm25, complete),
                snippet=text,
                uri=uri,
                source=src.hit_source(facet),
                facet_id=facet_id,
            )
            hits.append((rowid, hit))
        return hits

    def _plan(
        self, terms: tuple[QueryTerm, ...]
    ) -> tuple[tuple[QueryTerm, ...], tuple[QueryTerm, ...]]:
        """(the terms every first-tier chunk holds, the terms second-tier chunks hold one of)."""
        total = len(self._chunks)
        if len(terms) == 1 or total < COMMON_MIN_CHUNKS:
            return terms, terms
        conn = self._db()
        # a phrase is in at most as many chunks as its rarest word
        counts = {t: min(self._doc_count(conn, w) for w in t.words) for t in terms}
        required = tuple(t for t in terms if 2 * counts[t] < total) or terms
        partial: list[QueryTerm] = []
        budget = 0
        for t in sorted(required, key=counts.__getitem__):
            budget += counts[t]
            if partial and budget > PARTIAL_BUDGET:
                break
            partial.append(t)
        return required, tuple(partial)

    def _doc_count(self, conn: sqlite3.Connection, word: str) -> int:
        count = self._doc_counts.get(word)
        if count is None:
            row = conn.execute("SELECT doc FROM vocab WHERE term = ?", (word,)).fetchone()
            count = self._doc_counts[word] = 0 if row is None else int(row[0])
        return count

    # -- source text -----------------------------------------------------------------------

    def source_text(
        self,
        uri: str,
        *,
        text_kind: str = TextKind.TEXT,
        facet_id: str | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        cursor: str | None = None,
    ) -> SourceText:
        """One page of a source's text. SourceNotFound for an unknown uri;
        SearchValidationError for an unknown kind, a facet kind without a facet of this source,
        or a facetId with a kind that has no facet; InvalidCursor for a foreign cursor."""
        src = self._sources.get(uri)
        if src is None:
            raise SourceNotFound(uri=uri)
        try:
            kind = TextKind(text_kind)
        except ValueError:
            allowed = ", ".join(k.value for k in TextKind)
            raise SearchValidationError(
                field="textKind", message=f"{str(text_kind)[:40]!r} is not one of {allowed}"
            ) from None
        facet: SourceFacet | None = None
        if kind.needs_facet:
            facet = self._facet(src, facet_id, kind)
        elif facet_id is not None:
            raise SearchValidationError(
                field="facetId",
                message=f"applies to textKind facet_source_text or facet_match_text, not {kind}",
            )
        text = src.text_for(kind, facet)
        key = (uri, kind.value, facet_id)
        digest = self._digests.get(key)
        if digest is None:
            digest = self._digests[key] = text_digest(uri, kind.value, facet_id, text)
        chunk, offset, nxt = page(text, digest=digest, max_chars=max_chars, cursor=cursor)
        return SourceText(
            uri=uri,
            text_kind=kind.value,
            facet_id=facet_id,
            text=chunk,
            offset=offset,
            total_chars=len(text),
            cursor=cursor,
            next_cursor=nxt,
            source=src.hit_source(facet),
        )

    @staticmethod
    def _facet(src: SearchSource, facet_id: str | None, kind: TextKind) -> SourceFacet:
        ids = [f.facet_id for f in src.facets]
        known = ", ".join(ids[:20]) + (" ..." if len(ids) > 20 else "") if ids else "none"
        if facet_id is None:
            raise SearchValidationError(
                field="facetId",
                message=f"textKind {kind} needs a facetId; this source has: {known}",
            )
        facet = src.facet(facet_id)
        if facet is None:
            raise SearchValidationError(
                field="facetId",
                message=f"{facet_id[:80]!r} is not a facet of this source; it has: {known}",
            )
        return facet
