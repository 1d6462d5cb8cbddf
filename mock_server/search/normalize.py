"""Text as the index sees it: what reaches SQLite, and a Python mirror of its tokenizer.

The index uses FTS5's `unicode61` tokenizer with `remove_diacritics 2` and the categories
`L* N* M* Co`: letters, digits, combining marks and private-use characters make up words,
everything else (spaces, punctuation, symbols, emoji) separates them. Marks are added to the
default (`L* N* Co`) so that words in Devanagari, Thai or pointed Hebrew stay whole.

`tokens()` mirrors that tokenizer closely enough to tell whether a query part has any word in
it and to look a word up in the index's vocabulary. Python's Unicode tables are newer than the
tokenizer's (Unicode 6.1), so a character added to Unicode since may be a letter here and a
separator there; the only effect is a slower or less precise query, never an error.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "TOKENIZER",
    "clean",
    "fold",
    "has_word",
    "match_form",
    "tokens",
]

TOKENIZER = "unicode61 remove_diacritics 2 categories 'L* N* M* Co'"

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """`text` made safe for SQLite: NFC, lone surrogates as U+FFFD, NUL as a space.

    SQLite stores UTF-8, which cannot hold a lone surrogate (JSON can: "\\ud800"); FTS5 reads a
    NUL as the end of a quoted query string. NFC makes a decomposed "e + U+0301" the same word
    as a precomposed "é".
    """
    if "\x00" in text:
        text = text.replace("\x00", " ")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _is_word_char(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in "LNM" or cat == "Co"


def has_word(text: str) -> bool:
    """Whether the tokenizer finds at least one word in `text` (e.g. not in "!!!" or " - ")."""
    return any(_is_word_char(ch) for ch in text)


def fold(word: str) -> str:
    """A word as the vocabulary stores it: lower case, Latin diacritics removed."""
    decomposed = unicodedata.normalize("NFD", word)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped or decomposed).lower()


def tokens(text: str) -> list[str]:
    """The folded words of `text`, in order."""
    out: list[str] = []
    start = -1
    for i, ch in enumerate(text):
        if _is_word_char(ch):
            if start < 0:
                start = i
        elif start >= 0:
            out.append(fold(text[start:i]))
            start = -1
    if start >= 0:
        out.append(fold(text[start:]))
    return out


def match_form(text: str) -> str:
    """The mock's "normalized for comparison" text: NFKC, case-folded, one space between words."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
