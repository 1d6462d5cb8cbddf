"""The job machine as a mermaid or graphviz diagram, rendered from the same table."""

from __future__ import annotations

from .machine import job_edges
from .statuses import TERMINAL_STATUSES, JobStatus

__all__ = ["render_diagram"]


def render_diagram(fmt: str = "mermaid") -> str:
    edges = job_edges()
    if fmt == "mermaid":
        lines = ["stateDiagram-v2", f"    [*] --> {JobStatus.PROVISIONING.value}"]
        lines += [f"    {src} --> {dst} : {event}" for src, dst, event in edges]
        lines += [f"    {s} --> [*]" for s in JobStatus if s in TERMINAL_STATUSES]
        return "\n".join(lines) + "\n"
    if fmt == "dot":
        lines = ["digraph job {", "    rankdir=LR;"]
        lines += [f"    {s} [shape=doublecircle];" for s in JobStatus if s in TERMINAL_STATUSES]
        lines += [f'    {src} -> {dst} [label="{event}"];' for src, dst, event in edges]
        lines.append("}")
        return "\n".join(lines) + "\n"
    raise ValueError(f"unknown diagram format {fmt!r}; use mermaid or dot")
