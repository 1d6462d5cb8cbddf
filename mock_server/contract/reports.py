"""Reports of a contract check: a text summary, JUnit XML and versioned JSON.

A checker (`check_receiver` today, an any-language runner next) fills a `CheckResult`: one
`RuleResult` per rule of the registry it judged, each with how many times it was checked and
the findings (a message, a readable block, and machine-readable details). The writers below know
nothing about receivers. A new output format is one function `(result, destination) -> None`
added to `WRITERS`.

JSON report, schema version 1 (`JSON_SCHEMA` is its JSON Schema):

    {"schemaVersion": 1, "tool": "plangrep-mock", "toolVersion": "0.1.0",
     "check": "receiver", "target": "http://127.0.0.1:8000/webhooks",
     "passed": false, "seed": 1234, "startedAt": "2024-11-02T09:00:00.000Z", "seconds": 1.92,
     "stats": {...checker-specific counts...}, "notes": ["..."], "replay": "...",
     "rules": [{"id": "forged_accepted", "family": "receiver", "source": "mock",
                "text": "...", "status": "failed", "checks": 210, "violations": 3,
                "skipReason": null,
                "findings": [{"message": "...", "text": "...", "details": {...}}]}]}

A rule's status is `passed`, `failed` (violations > 0) or `skipped` (not judged in this run;
`skipReason` says why). Fields are only ever added within a schema version.
"""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Literal

from statemachine import format_time

from .rules import Rule

__all__ = [
    "JSON_SCHEMA",
    "SCHEMA_VERSION",
    "WRITERS",
    "CheckResult",
    "Finding",
    "RuleResult",
    "json_report",
    "junit_xml",
    "text_report",
    "write_json",
    "write_junit",
    "write_report",
]

SCHEMA_VERSION = 1
MAX_FINDINGS = 5  # per rule, in reports (the count of violations is always complete)

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation: `message` (one line), `text` (the readable block: the request, the
    answer, how to replay) and `details` (the same, machine-readable)."""

    message: str
    text: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RuleResult:
    rule: Rule
    checks: int = 0
    violations: int = 0
    findings: list[Finding] = field(default_factory=list)
    skip_reason: str | None = None

    @property
    def status(self) -> Status:
        if self.violations:
            return "failed"
        return "skipped" if self.skip_reason is not None else "passed"

    def add(self, finding: Finding, *, keep: Callable[[list[Finding], Finding], bool]) -> None:
        """Count a violation; keep its finding when `keep(kept, finding)` says so (and there
        is room)."""
        self.violations += 1
        if len(self.findings) < MAX_FINDINGS and keep(self.findings, finding):
            self.findings.append(finding)


@dataclass(slots=True)
class CheckResult:
    """The outcome of one check run, in the terms every writer understands."""

    check: str  # e.g. "receiver"
    target: str  # what was checked (a URL, a command)
    rules: list[RuleResult]
    seed: int | None = None
    started_at: float = field(default_factory=time.time)
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    replay: str = ""  # how to run the same check again

    @property
    def passed(self) -> bool:
        return not any(r.violations for r in self.rules)

    @property
    def failed_rules(self) -> list[RuleResult]:
        return [r for r in self.rules if r.violations]

    def rule(self, rule_id: str) -> RuleResult:
        for r in self.rules:
            if r.rule.id == rule_id:
                return r
        raise KeyError(f"rule {rule_id!r} was not part of this check")


def _version() -> str:
    try:
        return metadata.version("plangrep-mock")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


# --------------------------------------------------------------------------- text


def text_report(result: CheckResult, *, findings: int = 1) -> str:
    """A summary for a terminal or an exception: one line per rule, then the first
    `findings` finding(s) of each broken rule in full."""
    verdict = "PASSED" if result.passed else "FAILED"
    lines = [f"check {result.check}: {result.target}: {verdict} ({result.seconds:.2f} s)"]
    summary = result.stats.get("summary")
    if summary:
        lines.append(f"  {summary}")
    width = max((len(r.rule.id) for r in result.rules), default=0)
    for r in result.rules:
        checks = f"{r.checks} check{'' if r.checks == 1 else 's'}"
        if r.status == "failed":
            state = f"FAILED  {r.violations} of {checks}"
        elif r.status == "skipped":
            state = f"skipped ({r.skip_reason})"
        else:
            state = f"ok      {checks}"
        lines.append(f"  {r.rule.id:<{width}}  {state}")
    for r in result.failed_rules:
        lines.append("")
        lines.append(f"[{r.rule.id}] {r.rule.text}")
        for f in r.findings[:findings]:
            lines.extend("  " + line for line in f.text.splitlines())
        more = r.violations - min(findings, len(r.findings))
        if more > 0:
            lines.append(f"  ... and {more} more violation(s) of this rule")
    for note in result.notes:
        lines.append(f"note: {note}")
    if result.replay:
        lines.append(f"replay: {result.replay}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- JSON


def json_report(result: CheckResult) -> dict[str, Any]:
    """The report as a JSON-ready dict (schema version `SCHEMA_VERSION`)."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "tool": "plangrep-mock",
        "toolVersion": _version(),
        "check": result.check,
        "target": result.target,
        "passed": result.passed,
        "seed": result.seed,
        "startedAt": format_time(result.started_at),
        "seconds": round(result.seconds, 3),
        "stats": result.stats,
        "notes": list(result.notes),
        "replay": result.replay,
        "rules": [
            {
                "id": r.rule.id,
                "family": r.rule.family,
                "source": r.rule.source,
                "text": r.rule.text,
                "status": r.status,
                "checks": r.checks,
                "violations": r.violations,
                "skipReason": r.skip_reason,
                "findings": [
                    {"message": f.message, "text": f.text, "details": dict(f.details)}
                    for f in r.findings
                ],
            }
            for r in result.rules
        ],
    }


JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "plangrep-mock check report",
    "type": "object",
    "required": [
        "schemaVersion",
        "tool",
        "toolVersion",
        "check",
        "target",
        "passed",
        "seed",
        "startedAt",
        "seconds",
        "stats",
        "notes",
        "replay",
        "rules",
    ],
    "properties": {
        "schemaVersion": {"const": SCHEMA_VERSION},
        "tool": {"const": "plangrep-mock"},
        "toolVersion": {"type": "string"},
        "check": {"type": "string", "minLength": 1},
        "target": {"type": "string"},
        "passed": {"type": "boolean"},
        "seed": {"type": ["integer", "null"]},
        "startedAt": {"type": "string"},
        "seconds": {"type": "number", "minimum": 0},
        "stats": {"type": "object"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "replay": {"type": "string"},
        "rules": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "family",
                    "source",
                    "text",
                    "status",
                    "checks",
                    "violations",
                    "skipReason",
                    "findings",
                ],
                "properties": {
                    "id": {"type": "string"},
                    "family": {"enum": ["client", "workflow", "receiver"]},
                    "source": {"enum": ["plangrep", "mock"]},
                    "text": {"type": "string"},
                    "status": {"enum": ["passed", "failed", "skipped"]},
                    "checks": {"type": "integer", "minimum": 0},
                    "violations": {"type": "integer", "minimum": 0},
                    "skipReason": {"type": ["string", "null"]},
                    "findings": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message", "text", "details"],
                            "properties": {
                                "message": {"type": "string"},
                                "text": {"type": "string"},
                                "details": {"type": "object"},
                            },
                        },
                    },
                },
            },
        },
    },
}


def write_json(result: CheckResult, destination: str | os.PathLike[str] | IO[str]) -> None:
    _write(json.dumps(json_report(result), indent=2, ensure_ascii=False) + "\n", destination)


# --------------------------------------------------------------------------- JUnit XML


def _clean(text: str) -> str:
    """XML 1.0 cannot hold most control characters, even escaped: show them as escapes."""
    return "".join(
        ch
        if ch in "\t\n\r"
        or (" " <= ch <= "\ud7ff")
        or ("\ue000" <= ch <= "\ufffd")
        or ch > "\uffff"
        else repr(ch)[1:-1]
        for ch in text
    )


def junit_xml(result: CheckResult) -> str:
    """One `<testsuite>` (in a `<testsuites>` root), one `<testcase>` per rule: a broken rule
    is a `<failure>` whose type is the rule id and whose message is the first finding; a rule
    not judged is `<skipped>`."""
    failures = sum(1 for r in result.rules if r.status == "failed")
    skipped = sum(1 for r in result.rules if r.status == "skipped")
    suite_name = f"plangrep-mock check-{result.check}"
    attrs = {
        "name": suite_name,
        "tests": str(len(result.rules)),
        "failures": str(failures),
        "errors": "0",
        "skipped": str(skipped),
        "time": f"{result.seconds:.3f}",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(result.started_at)),
    }
    root = ET.Element("testsuites", {k: attrs[k] for k in ("name", "tests", "failures")})
    root.set("errors", "0")
    root.set("time", attrs["time"])
    suite = ET.SubElement(root, "testsuite", attrs)
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("target", result.target),
        ("seed", "" if result.seed is None else str(result.seed)),
        ("replay", result.replay),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    share = result.seconds / len(result.rules) if result.rules else 0.0
    for r in result.rules:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"plangrep_mock.{result.check}",
                "name": r.rule.id,
                "time": f"{share:.3f}",
            },
        )
        if r.status == "failed":
            first = r.findings[0].message if r.findings else f"{r.violations} violation(s)"
            failure = ET.SubElement(
                case,
                "failure",
                {"type": r.rule.id, "message": _clean(f"[{r.rule.id}] {first}")},
            )
            body = [f"{r.rule.id}: {r.rule.text}", f"{r.violations} of {r.checks} checks broke it"]
            for f in r.findings:
                body.append("")
                body.append(f.text)
            failure.text = _clean("\n".join(body))
        elif r.status == "skipped":
            ET.SubElement(case, "skipped", {"message": _clean(r.skip_reason or "")})
        out = ET.SubElement(case, "system-out")
        out.text = _clean(f"{r.rule.text} ({r.checks} checks; source: {r.rule.source})")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def write_junit(result: CheckResult, destination: str | os.PathLike[str] | IO[str]) -> None:
    _write(junit_xml(result) + "\n", destination)


# --------------------------------------------------------------------------- plumbing

Writer = Callable[[CheckResult, "str | os.PathLike[str] | IO[str]"], None]

WRITERS: dict[str, Writer] = {"json": write_json, "junit": write_junit}


def write_report(
    kind: str, result: CheckResult, destination: str | os.PathLike[str] | IO[str]
) -> None:
    """Write `result` as `kind` (a key of `WRITERS`)."""
    writer = WRITERS.get(kind)
    if writer is None:
        raise ValueError(f"unknown report kind {kind!r}; known: {', '.join(WRITERS)}")
    writer(result, destination)


def _write(text: str, destination: str | os.PathLike[str] | IO[str]) -> None:
    if isinstance(destination, str | os.PathLike):
        path = Path(destination)
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    else:
        destination.write(text)
