"""Reports of a contract check: a text summary, JUnit XML, versioned JSON and GitHub Actions.

A checker (`check_receiver`, `plangrep-mock check` for programs in any language) fills a
`CheckResult`: one `RuleResult` per rule of the registry it judged, each with how many times it
was checked and the findings (a message, a readable block, and machine-readable details); a
checker that runs examples (one run of a program each) also lists them as `CaseResult`s. The
writers below know nothing about receivers or programs. A new output format is one function
`(result, destination) -> None` added to `WRITERS`.

JSON report, schema version 1 (`JSON_SCHEMA` is its JSON Schema):

    {"schemaVersion": 1, "tool": "plangrep-mock", "toolVersion": "0.1.0",
     "check": "receiver", "target": "http://127.0.0.1:8000/webhooks",
     "passed": false, "seed": 1234, "startedAt": "2024-11-02T09:00:00.000Z", "seconds": 1.92,
     "stats": {...checker-specific counts...}, "notes": ["..."], "replay": "...",
     "rules": [{"id": "forged_accepted", "family": "receiver", "source": "mock",
                "text": "...", "status": "failed", "checks": 210, "violations": 3,
                "skipReason": null,
                "findings": [{"message": "...", "text": "...", "details": {...}}]}],
     "examples": [{"index": 1, "name": "example 1: completed", "status": "failed",
                   "seconds": 0.31, "rule": "polling_too_fast", "message": "...",
                   "text": "...", "output": "...", "stderr": "...", "details": {...}}]}

A rule's status is `passed`, `failed` (violations > 0) or `skipped` (not judged in this run;
`skipReason` says why). `examples` is empty for a check that does not run examples (the
receiver check); an example's status is `passed` or `failed`, and `rule` is the rule a failed
one broke. Fields are only ever added within a schema version (`examples` was added in 1).

GitHub Actions (`write_github`): one `::error` workflow command per failed example (or per
broken rule), and, when `GITHUB_STEP_SUMMARY` names a file, a Markdown summary appended to it.
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
    "CaseResult",
    "CheckResult",
    "Finding",
    "RuleResult",
    "github_annotations",
    "github_summary",
    "json_report",
    "junit_xml",
    "text_report",
    "write_github",
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


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One example of a check that runs examples: its own JUnit test case. `rule` is the rule
    it broke (None: it passed); `message` one line, `text` the readable block; `output` what
    happened (the outcome, the requests), `stderr` the program's own error output."""

    index: int
    name: str
    seconds: float
    rule: str | None = None
    message: str = ""
    text: str = ""
    output: str = ""
    stderr: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.rule is None


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
    cases: list[CaseResult] = field(default_factory=list)  # the examples, when it runs some

    @property
    def passed(self) -> bool:
        return not any(r.violations for r in self.rules) and all(c.passed for c in self.cases)

    @property
    def failed_cases(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.passed]

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
    if result.cases:
        failed = result.failed_cases
        line = f"  examples: {len(result.cases) - len(failed)} passed, {len(failed)} failed"
        if failed:
            shown = ", ".join(f"{c.index} ({c.rule})" for c in failed[:10])
            rest = f", ... {len(failed) - 10} more" if len(failed) > 10 else ""
            line += f": {shown}{rest}"
        lines.append(line)
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
        "examples": [
            {
                "index": c.index,
                "name": c.name,
                "status": "passed" if c.passed else "failed",
                "seconds": round(c.seconds, 3),
                "rule": c.rule,
                "message": c.message,
                "text": c.text,
                "output": c.output,
                "stderr": c.stderr,
                "details": dict(c.details),
            }
            for c in result.cases
        ],
    }


_EXAMPLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["index", "name", "status", "seconds", "rule", "message", "details"],
    "properties": {
        "index": {"type": "integer", "minimum": 0},
        "name": {"type": "string"},
        "status": {"enum": ["passed", "failed"]},
        "seconds": {"type": "number", "minimum": 0},
        "rule": {"type": ["string", "null"]},
        "message": {"type": "string"},
        "text": {"type": "string"},
        "output": {"type": "string"},
        "stderr": {"type": "string"},
        "details": {"type": "object"},
    },
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
        "examples": {"type": "array", "items": _EXAMPLE_SCHEMA},
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
    """One `<testsuite>` (in a `<testsuites>` root). A check that ran examples has one
    `<testcase>` per example: a failed one is a `<failure>` whose type is the rule it broke and
    whose message starts `[rule]`. Otherwise one `<testcase>` per rule: a broken rule is a
    `<failure>` whose type is the rule id and whose message is the first finding; a rule not
    judged is `<skipped>`."""
    if result.cases:
        tests = len(result.cases)
        failures = len(result.failed_cases)
        skipped = 0
    else:
        tests = len(result.rules)
        failures = sum(1 for r in result.rules if r.status == "failed")
        skipped = sum(1 for r in result.rules if r.status == "skipped")
    suite_name = f"plangrep-mock check-{result.check}"
    attrs = {
        "name": suite_name,
        "tests": str(tests),
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
        *((f"note{i}", note) for i, note in enumerate(result.notes, 1)),
    ):
        ET.SubElement(props, "property", {"name": name, "value": _clean(value)})
    if result.cases:
        _junit_cases(suite, result)
    else:
        _junit_rules(suite, result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _junit_rules(suite: ET.Element, result: CheckResult) -> None:
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


def _junit_cases(suite: ET.Element, result: CheckResult) -> None:
    texts = {r.rule.id: r.rule.text for r in result.rules}
    for c in result.cases:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"plangrep_mock.{result.check}",
                "name": c.name,
                "time": f"{c.seconds:.3f}",
            },
        )
        if c.rule is not None:
            failure = ET.SubElement(
                case, "failure", {"type": c.rule, "message": _clean(f"[{c.rule}] {c.message}")}
            )
            rule_text = texts.get(c.rule, "")
            failure.text = _clean(f"{c.rule}: {rule_text}\n\n{c.text}".strip())
        if c.output:
            ET.SubElement(case, "system-out").text = _clean(c.output)
        if c.stderr:
            ET.SubElement(case, "system-err").text = _clean(c.stderr)


def write_junit(result: CheckResult, destination: str | os.PathLike[str] | IO[str]) -> None:
    _write(junit_xml(result) + "\n", destination)


# --------------------------------------------------------------------------- GitHub Actions

MAX_ANNOTATIONS = 10  # GitHub shows at most 10 error annotations per step


def _escape_data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped, as GitHub's toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(result: CheckResult) -> str:
    """`::error` workflow commands: one per failed example (or per broken rule), the first
    `MAX_ANNOTATIONS`; nothing when nothing failed."""
    lines = []
    name = f"plangrep-mock check-{result.check}"
    if result.cases:
        for c in result.failed_cases[:MAX_ANNOTATIONS]:
            title = f"{name}: {c.name} broke {c.rule}"
            body = c.text  # it starts with `[rule] message` when a checker wrote it
            if not body.startswith(f"[{c.rule}]"):
                body = f"[{c.rule}] {c.message}\n\n{body}".strip()
            lines.append(f"::error title={_escape_property(title)}::{_escape_data(body)}")
    else:
        for r in result.failed_rules[:MAX_ANNOTATIONS]:
            first = r.findings[0] if r.findings else None
            title = f"{name}: {r.rule.id} ({r.violations} violation(s))"
            body = f"[{r.rule.id}] {r.rule.text}"
            if first is not None:
                body += f"\n\n{first.text}"
            lines.append(f"::error title={_escape_property(title)}::{_escape_data(body)}")
    return "".join(line + "\n" for line in lines)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def github_summary(result: CheckResult, *, details: int = 5) -> str:
    """A Markdown job summary: the verdict, a row per rule, the failed examples, the notes."""
    verdict = "passed" if result.passed else "FAILED"
    icon = "\u2705" if result.passed else "\u274c"
    lines = [
        f"## {icon} plangrep-mock check-{result.check}: {verdict}",
        "",
        f"`{_md_cell(result.target)}` ({result.seconds:.1f} s)",
    ]
    summary = result.stats.get("summary")
    if summary:
        lines += ["", str(summary)]
    lines += ["", "| rule | status | checks | violations |", "| --- | --- | ---: | ---: |"]
    for r in result.rules:
        status = r.status if r.status != "skipped" else f"skipped ({r.skip_reason})"
        lines.append(f"| `{r.rule.id}` | {_md_cell(status)} | {r.checks} | {r.violations} |")
    failed = result.failed_cases
    if result.cases:
        lines += ["", f"{len(result.cases) - len(failed)} of {len(result.cases)} examples passed."]
    if failed:
        lines += ["", "| example | rule | what happened |", "| --- | --- | --- |"]
        for c in failed:
            lines.append(f"| {_md_cell(c.name)} | `{c.rule}` | {_md_cell(c.message)} |")
        for c in failed[:details]:
            lines += ["", f"<details><summary>{c.name}</summary>", "", "```text", c.text]
            if c.stderr:
                lines += ["", "stderr (tail):", c.stderr]
            lines += ["```", "", "</details>"]
    elif not result.cases:
        for r in result.failed_rules[:details]:
            if r.findings:
                lines += ["", f"<details><summary>{r.rule.id}</summary>", "", "```text"]
                lines += [r.findings[0].text, "```", "", "</details>"]
    if result.notes:
        lines += [""] + [f"- {note}" for note in result.notes]
    if result.replay:
        lines += ["", f"Replay: `{result.replay}`"]
    return "\n".join(lines) + "\n"


def write_github(result: CheckResult, destination: str | os.PathLike[str] | IO[str]) -> None:
    """The annotations to `destination` (a workflow step's standard output); the summary
    appended to the file `GITHUB_STEP_SUMMARY` names, when it is set."""
    _write(github_annotations(result), destination)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        with open(summary_file, "a", encoding="utf-8") as f:
            f.write(github_summary(result))


# --------------------------------------------------------------------------- plumbing

Writer = Callable[[CheckResult, "str | os.PathLike[str] | IO[str]"], None]

WRITERS: dict[str, Writer] = {"json": write_json, "junit": write_junit, "github": write_github}


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
