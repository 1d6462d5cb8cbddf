from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "statemachine"
FORBIDDEN = {"aiohttp", "asyncio", "mock_server", "socket", "http", "urllib", "requests"}
# what the package itself must not even load indirectly (pydantic may load socket/urllib)
NEVER_LOADED = ["aiohttp", "asyncio", "mock_server"]


def test_importing_statemachine_loads_no_io_or_async_module() -> None:
    code = (
        "import sys, statemachine\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {NEVER_LOADED!r})\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_source_file_imports_a_forbidden_module() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []
