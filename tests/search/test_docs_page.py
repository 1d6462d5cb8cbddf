"""docs/search.md: its Python examples run, and its limits are the package's."""

from __future__ import annotations

import re
from pathlib import Path

from mock_server.search import DEFAULT_INDEX_DELAY, DEFAULT_MAX_CHARS, DEFAULT_MAX_HITS
from mock_server.search.query import MAX_TERM_CHARS, MAX_TERMS
from mock_server.search.snippet import SNIPPET_CHARS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "search.md"


def test_the_python_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), {})


def test_the_limits_it_states_are_the_packages() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert f"At most {MAX_TERMS} terms" in page
    assert f"cut at {MAX_TERM_CHARS} characters" in page
    defaults = f"`maxHits` defaults to {DEFAULT_MAX_HITS} and `maxChars` to {DEFAULT_MAX_CHARS:,}"
    assert defaults in page
    assert f"default {DEFAULT_INDEX_DELAY:g} virtual seconds" in page
    assert f"about {SNIPPET_CHARS} characters" in page
