"""Snippets: a short window of a chunk's text around the query terms it holds.

FTS5's own `snippet()` needs the matching cursor positioned on the row, which costs a scan of
the match for every hit (about as much as the ranking itself); this module cuts the window in
Python from the text the index already holds. It finds the terms the way the tokenizer does:
case and Latin diacritics ignored, punctuation between the words of a phrase ignored, whole
words only. The window is about `SNIPPET_CHARS` characters, cut at spaces, with "..." where
text was left out (as the docs' example shows), and always holds a whole matched term.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .normalize import fold

__all__ = ["SNIPPET_CHARS", "TermFinder"]

SNIPPET_CHARS = 160
_LEAD = 50  # characters kept before the first term
_MAX_MATCHES = 64  # a window is looked for among the first matches only


class _FoldTable(dict[int, int]):
    """str.translate table folding each character to one character (case, Latin diacritics),
    so positions in the folded text are positions in the text. Filled as characters appear."""

    def __missing__(self, code: int) -> int:
        folded = fold(chr(code))
        value = ord(folded) if len(folded) == 1 else code
        self[code] = value
        return value


_FOLD = _FoldTable()


class TermFinder:
    """Finds a query's terms (each a sequence of folded words) in texts."""

    def __init__(self, terms: Sequence[Sequence[str]]) -> None:
        # the tokenizer splits at "_" too, which Python's \w counts as a word character
        alternatives = [r"[\W_]+".join(re.escape(w) for w in words) for words in terms if words]
        # longer terms first, so a phrase wins over its own first word
        alternatives.sort(key=len, reverse=True)
        self.count = len(alternatives)
        self._pattern = (
            re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives) + r")(?![^\W_])")
            if alternatives
            else None
        )

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, folded term) of the first whole-word occurrences in `text`."""
        if self._pattern is None:
            return []
        out = []
        for m in self._pattern.finditer(text.translate(_FOLD)):
            out.append((m.start(), m.end(), m.group()))
            if len(out) == _MAX_MATCHES:
                break
        return out

    def snippet(self, texts: Sequence[str]) -> str | None:
        """A window of one of `texts` (a chunk's columns, the body first) that holds the most
        distinct terms; None when no text holds any."""
        best: tuple[int, str, int, int] | None = None  # (distinct terms, text, first, last)
        for text in texts:
            found = self.find(text)
            j = 0
            counts: dict[str, int] = {}
            for i, (start, _, _) in enumerate(found):  # a sliding window over the matches
                while j < len(found) and found[j][1] - start <= SNIPPET_CHARS - _LEAD:
                    counts[found[j][2]] = counts.get(found[j][2], 0) + 1
                    j += 1
                last = found[j - 1][1] if j > i else found[i][1]
                if best is None or len(counts) > best[0]:
                    best = (len(counts), text, start, last)
                term = found[i][2]
                if counts.get(term, 0) > 1:
                    counts[term] -= 1
                else:
                    counts.pop(term, None)
            if best is not None and best[0] == self.count:
                break  # every term in one window: no column can do better
        if best is None:
            return None
        _, text, first, last = best
        return _window(text, first, last)


def _window(text: str, first: int, last: int) -> str:
    """About SNIPPET_CHARS of `text` holding text[first:last], cut at whitespace."""
    start = max(0, first - _LEAD)
    if start > 0:
        space = text.find(" ", start, first)
        start = first if space < 0 else space + 1
    end = max(last, min(len(text), start + SNIPPET_CHARS))
    if end < len(text):
        space = text.rfind(" ", last, end)
        end = space if space > 0 else end
    body = " ".join(text[start:end].split())
    return ("..." if start > 0 else "") + body + ("..." if end < len(text) else "")
