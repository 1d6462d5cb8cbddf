"""README's architecture tree names every package and module there is, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tree() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    return section.split("```text", 1)[1].split("```", 1)[0]


def _entries(tree: str) -> dict[str, str]:
    """Each `name/` or `name.py` at the start of a tree line, with the text that follows it up
    to the next entry."""
    out: dict[str, str] = {}
    current = ""
    for line in tree.splitlines():
        m = re.match(r"^\s*([\w.]+/|[\w]+\.py)\s*(.*)$", line)
        if (
            m
            and (line.startswith("  ") or not line.startswith(" "))
            and not line.startswith(" " * 6)
        ):
            current = m.group(1)
            out[current] = m.group(2)
        elif current:
            out[current] += " " + line.strip()
    return out


def _modules(package: Path) -> set[str]:
    return {p.stem for p in package.glob("*.py") if not p.stem.startswith("__")}


def test_the_tree_names_every_subpackage_and_module_of_mock_server() -> None:
    entries = _entries(_tree())
    text = " ".join(f"{name} {what}" for name, what in entries.items())
    pkg = ROOT / "mock_server"
    packages = {p.name for p in pkg.iterdir() if (p / "__init__.py").exists()}
    listed = {name[:-1] for name in entries if name.endswith("/")} - {
        "mock_server",
        "statemachine",
    }
    assert listed == packages, f"README tree: {sorted(listed)}; packages: {sorted(packages)}"
    for name in packages:
        # a package's modules are named where it lists them (content/ and search/ are summarised)
        described = entries[f"{name}/"]
        if name in ("content", "search"):
            continue
        for module in _modules(pkg / name):
            assert re.search(rf"\b{module}\b", described), f"{name}/{module}.py is not in README"
    for module in _modules(pkg):
        assert re.search(rf"\b{module}(\.py)?\b", text), (
            f"mock_server/{module}.py is not in README"
        )


def test_the_tree_names_every_module_of_statemachine_and_no_other() -> None:
    entries = _entries(_tree())
    described = entries["statemachine/"]
    modules = _modules(ROOT / "statemachine") - {"_hot"}
    words = set(re.findall(r"\b[a-z_]+\b", described))
    named = {w for w in words if (ROOT / "statemachine" / f"{w}.py").exists()}
    assert named == modules, f"README names {sorted(named)}; statemachine has {sorted(modules)}"
