"""From what a user types to a safe FTS5 MATCH expression.

Users type words and "quoted phrases"; consecutive numbers are a phrase too (`03 30 00` is a
section number, not three numbers anywhere). Nothing they type is FTS5 syntax: AND, OR, NOT, NEAR,
`*`, `^`, `:`, `+`, `-`, parentheses and any other punctuation are literal text. Each word and
each phrase becomes one FTS5 string (double-quoted, embedded quotes doubled), which FTS5
tokenizes like the indexed text: punctuation inside a word splits it into a phrase, so `A-101`
matches "A-101", "A 101" and "A/101", and `R-19` matches "R-19".

A part with no word in it ("!!!", "-", "*") is dropped; a query left with no part finds nothing
(with a warning) rather than failing. At most `MAX_TERMS` parts are used, each at most
`MAX_TERM_CHARS` characters; the rest is ignored with a warning. The query must not be empty
(the documented minimum is 1 character).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import SearchValidationError
from .normalize import clean, has_word, tokens

__all__ = ["MAX_TERMS", "MAX_TERM_CHARS", "ParsedQuery", "QueryTerm", "parse_query"]

MAX_TERMS = 32  # FTS5 also caps an expression's depth at 256
MAX_TERM_CHARS = 256
# straight and typographic double quotes delimit phrases
_QUOTES = re.compile('["\u201c\u201d\u201e\u201f]')


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """A word or a quoted phrase, as typed (cleaned), with its folded words."""

    text: str
    phrase: bool
    words: tuple[str, ...]

    @property
    def expr(self) -> str:
        """The term as an FTS5 string: nothing inside it is syntax."""
        return '"' + self.text.replace('"', '""') + '"'


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    query: str
    terms: tuple[QueryTerm, ...]
    warnings: tuple[str, ...] = ()

    @staticmethod
    def all_of(terms: tuple[QueryTerm, ...]) -> str:
        return " AND ".join(t.expr for t in terms)

    @staticmethod
    def any_of(terms: tuple[QueryTerm, ...]) -> str:
        return " OR ".join(t.expr for t in terms)


def _parts(text: str) -> list[tuple[str, bool]]:
    """(text, is_phrase) in typed order; an unmatched quote is just a separator."""
    pieces = _QUOTES.split(text)
    unmatched_last = len(pieces) % 2 == 0  # an odd number of quotes
    out: list[tuple[str, bool]] = []
    for i, piece in enumerate(pieces):
        inside = i % 2 == 1 and not (unmatched_last and i == len(pieces) - 1)
        if inside:
            out.append((" ".join(piece.split()), True))
            continue
        run: list[str] = []  # consecutive numbers: "03 30 00" is one section number
        for word in [*piece.split(), ""]:
            if word.isascii() and word.isdigit():
                run.append(word)
                continue
            if run:
                out.append((" ".join(run), len(run) > 1))
                run = []
            if word:
                out.append((word, False))
    return out


def parse_query(query: str) -> ParsedQuery:
    if not query:
        raise SearchValidationError(field="query", message="must be at least 1 character")
    warnings: list[str] = []
    terms: list[QueryTerm] = []
    seen: set[tuple[str, ...]] = set()
    cut = skipped = 0
    for text, phrase in _parts(clean(query)):
        if not has_word(text):
            continue
        if len(text) > MAX_TERM_CHARS:
            text = text[:MAX_TERM_CHARS]
            cut += 1
        words = tuple(tokens(text))
        if not words or words in seen:
            continue
        if len(terms) == MAX_TERMS:
            skipped += 1
            continue
        seen.add(words)
        terms.append(QueryTerm(text=text, phrase=phrase, words=words))
    if not terms:
        warnings.append(
            "the query has no words to search for (only spaces, punctuation or symbols), "
            "so nothing matches"
        )
    if cut:
        warnings.append(f"{cut} term(s) longer than {MAX_TERM_CHARS} characters were cut")
    if skipped:
        warnings.append(f"only the first {MAX_TERMS} terms are searched; {skipped} ignored")
    return ParsedQuery(query=query, terms=tuple(terms), warnings=tuple(warnings))
