"""A Python without FTS5 gets one clear error, not a SQLite traceback."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from mock_server.search import SearchUnavailable, SourceIndex
from mock_server.search import index as index_module


class _NoFts5:
    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    def execute(self, sql: str, *args: Any) -> Any:
        if "fts5" in sql.lower():
            raise sqlite3.OperationalError("no such module: fts5")
        return self.real.execute(sql, *args)

    def close(self) -> None:
        self.real.close()


def test_sqlite_without_fts5_raises_search_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = sqlite3.connect
    monkeypatch.setattr(index_module, "_fts5_checked", False)
    monkeypatch.setattr(
        index_module.sqlite3, "connect", lambda *a, **kw: _NoFts5(real_connect(*a, **kw))
    )
    with pytest.raises(SearchUnavailable, match="needs SQLite's FTS5") as info:
        SourceIndex()
    assert "no such module: fts5" in str(info.value)
    assert info.value.sqlite_version == sqlite3.sqlite_version


def test_this_python_has_fts5() -> None:
    index_module.check_fts5()
