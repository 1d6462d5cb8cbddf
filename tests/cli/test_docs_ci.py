"""docs/ci.md shows the clients tests/cli runs (not copies that may drift), and its GitHub
Actions workflow is valid YAML whose `plangrep-mock` commands this version parses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from mock_server.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
CLIENTS = Path(__file__).parent / "clients"


def test_the_page_s_clients_are_the_tested_ones() -> None:
    written = dict(re.findall(r"cat > (\S+) <<'EOF'\n(.*?\n)EOF\n", PAGE, flags=re.S))
    assert set(written) == {
        "wait_for_job.mjs",
        "wait_for_job.sh",
        "workflow.mjs",
        "webhooks_only.mjs",
    }
    for name, text in written.items():
        assert text == (CLIENTS / name).read_text(encoding="utf-8"), f"docs/ci.md's {name} drifted"


def test_the_workflow_file_is_valid_and_its_commands_parse() -> None:
    (block,) = re.findall(r"```yaml\n(.*?)```", PAGE, flags=re.S)
    workflow = yaml.safe_load(block)
    steps = workflow["jobs"]["plangrep"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "plangrep-mock serve" in runs and "npm test" in runs
    assert any(step.get("uses", "").startswith("actions/upload-artifact@") for step in steps)
    # continuation lines joined; the shell's expansion of the run number done
    joined = runs.replace("\\\n", " ").replace('"$GITHUB_RUN_NUMBER"', "42")
    commands = [
        shlex.split(line) for line in re.findall(r"plangrep-mock (?:check|serve).*", joined)
    ]
    assert [c[1] for c in commands] == ["serve", "check"]
    for argv in commands:
        argv = [a for a in argv[1:] if a != "&"]
        if "--" in argv:
            argv, program = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
            assert program == ["node", "scripts/wait_for_job.mjs"]
        args = build_parser().parse_args(argv)
        if args.command == "check":
            assert args.junit == "reports/plangrep-check.xml" and args.faults
            assert args.seed == 42
