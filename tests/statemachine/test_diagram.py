from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from statemachine import JobStatus, render_diagram

API_MD = Path(__file__).resolve().parents[3] / "shared" / "API.md"

EXPECTED_TABLE = {
    "provision": ({"provisioning"}, "awaiting_uploads"),
    "start_upload": ({"awaiting_uploads"}, "uploading"),
    "complete_uploads": ({"uploading"}, "preflighting"),
    "pass_preflight": ({"preflighting"}, "processing"),
    "block": ({"preflighting", "processing"}, "blocked_insufficient_credits"),
    "resume": ({"blocked_insufficient_credits"}, "preflighting"),
    "complete": ({"processing"}, "completed"),
    "complete_with_errors": ({"processing"}, "completed_with_errors"),
    "fail": ({"preflighting", "processing"}, "failed"),
    "cancel": ("non-terminal", "cancelled"),
    "expire": ("non-terminal", "expired"),
}
NON_TERMINAL = {
    "provisioning",
    "awaiting_uploads",
    "uploading",
    "preflighting",
    "blocked_insufficient_credits",
    "processing",
}


def expected_edges() -> set[tuple[str, str, str]]:
    edges = set()
    for event, (sources, dst) in EXPECTED_TABLE.items():
        for src in NON_TERMINAL if sources == "non-terminal" else sources:
            edges.add((src, dst, event))
    return edges


def diagram_edges(text: str) -> set[tuple[str, str, str]]:
    edges = set()
    for line in text.splitlines():
        m = re.fullmatch(r"\s*(\w+) --> (\w+) : (\w+)", line)
        if m:
            edges.add((m[1], m[2], m[3]))
    return edges


def test_cli_diagram_has_exactly_the_table_edges() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mock_server", "diagram"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("stateDiagram-v2\n")
    assert diagram_edges(out) == expected_edges()


def test_diagram_edges_match_the_spec_table_when_available() -> None:
    # The spec table in shared/API.md is the source the machine restates.
    if not API_MD.exists():
        return
    rows = re.findall(r"^\| (\w+) \| ([^|]+) \| (\w+) \|$", API_MD.read_text(), re.M)
    spec = {}
    for event, sources, dst in rows:
        if event == "event":
            continue
        srcs = (
            NON_TERMINAL
            if "every non-terminal" in sources
            else {s.strip() for s in sources.split(",")}
        )
        spec[event] = (srcs, dst)
    assert {(s, d, e) for e, (ss, d) in spec.items() for s in ss} == expected_edges()


def test_dot_format_lists_every_edge_and_terminal_status() -> None:
    out = render_diagram("dot")
    assert out.count(" -> ") == len(expected_edges())
    assert "doublecircle" in out
    for status in JobStatus:
        assert status.value in out


def test_the_lifecycle_page_embeds_the_current_diagram() -> None:
    # the diagram moved from README.md to the docs site's lifecycle page
    page = (Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md").read_text()
    block = re.search(r"```mermaid\n(.*?)```", page, re.S)
    assert block is not None, "docs/lifecycle.md has no mermaid block"
    assert block[1] == render_diagram("mermaid")
