"""The search package is pure: no aiohttp, no asyncio, nothing else of mock_server."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mock_server" / "search"
FORBIDDEN = {"aiohttp", "asyncio", "socket", "http", "requests", "pydantic"}


def test_no_source_file_imports_aiohttp_or_the_rest_of_mock_server() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0 and node.module:
                    names = [node.module]
                elif node.level > 1:  # `from .. import x` leaves the package
                    names = [f"mock_server.{node.module or ''}"]
            for n in names:
                top = n.split(".")[0]
                outside = n.startswith("mock_server") and not n.startswith("mock_server.search")
                if top in FORBIDDEN or outside:
                    offenders.append(f"{path.name}: {n}")
    assert offenders == []


def test_importing_the_package_alone_loads_no_aiohttp() -> None:
    # mock_server/__init__ builds the app (aiohttp); load mock_server.search without it
    code = (
        "import sys, types\n"
        "pkg = types.ModuleType('mock_server')\n"
        f"pkg.__path__ = [{str(ROOT / 'mock_server')!r}]\n"
        "sys.modules['mock_server'] = pkg\n"
        "import mock_server.search as s\n"
        "i = s.SourceIndex(); i.add([s.SearchSource(uri='u', type='doc', title='t', text='x')])\n"
        "assert i.search('x').hit_count == 1\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'asyncio'))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
