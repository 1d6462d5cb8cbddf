"""mock_server.content is pure: no aiohttp, no asyncio, nothing from the HTTP side of
mock_server; it may use the standard library, pydantic and statemachine."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "mock_server" / "content"
FORBIDDEN = {"aiohttp", "asyncio", "socket", "http", "urllib3", "requests", "mock_server"}


def test_no_source_file_imports_a_forbidden_module() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level == 0 and node.module:
                    names = [node.module]
                elif node.level > 1:  # from ..x import y: reaches outside the package
                    names = [f"mock_server.{node.module or ''}"]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_package_loads_no_http_or_async_module() -> None:
    # mock_server/__init__ builds the aiohttp app; stand in an empty package for it, so only
    # what mock_server.content itself needs gets imported
    code = (
        "import sys, types\n"
        "pkg = types.ModuleType('mock_server')\n"
        f"pkg.__path__ = [{str(ROOT / 'mock_server')!r}]\n"
        "sys.modules['mock_server'] = pkg\n"
        "import mock_server.content\n"
        "inside = lambda m: m == 'mock_server.content' or m.startswith('mock_server.content.')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'asyncio')\n"
        "             or (m.startswith('mock_server.') and not inside(m)))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""
