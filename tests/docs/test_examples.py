"""Every example of README.md and docs/ runs against a real mock server (tests/docs/runner.py says
how), and README's Quick start works as a new user runs it."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from .runner import ROOT, doc_pages, load_page, readme_quick_start_line, run_page, serving
from .support import require_shell_tools

PAGES = doc_pages()


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", [p for p in PAGES if p.name != "README.md"], ids=_id)
def test_the_page_s_examples_run(path: Path) -> None:
    page = load_page(path)
    assert not page.problems, "\n".join(page.problems)
    if not page.executed:
        return
    if any(b.kind == "bash" for b in page.executed):
        require_shell_tools()
    with serving() as server:
        result = run_page(page, server.url)
        errors = server.server_errors()
    assert result.ok, "\n\n".join(result.failures)
    assert not errors, f"the server raised while {page.path}'s examples ran: {errors!r}"
    assert result.ran == len(page.executed)


# --------------------------------------------------------------------------- README


def quick_start() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.split("\n")
    fence = readme_quick_start_line(text) - 1
    end = next(i for i in range(fence + 1, len(lines)) if lines[i].startswith("```"))
    return [line for line in lines[fence + 1 : end] if line.strip()]


def test_the_quick_start_block_is_two_lines_install_and_serve_then_install_and_test() -> None:
    first, second = quick_start()
    assert first == "pip install -e . && plangrep-mock serve"
    assert second == "pip install -e '.[test]' && python -m pytest -q"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "README.md" in ci  # .ci/run reads line 2 from README, not a copy of it


@contextmanager
def quick_start_server() -> Iterator[str]:
    """README's line 1 as a new user runs it, on a free port (PLANGREP_MOCK_PORT, a documented
    setting): the package is installed (this test environment did `pip install -e`), then the
    server command, exactly as written, in a process of its own; stopped with Ctrl-C (SIGINT)."""
    install, _, serve = quick_start()[0].partition(" && ")
    assert install == "pip install -e ."
    importlib.metadata.distribution("plangrep-mock")  # installed, with its console script
    argv = shlex.split(serve)
    env = {**os.environ, "PLANGREP_MOCK_PORT": "0"}
    # where pip put the console script: the environment's bin directory
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    executable = shutil.which(argv[0], path=env["PATH"])
    assert executable, f"{argv[0]} is not on PATH after pip install -e ."
    proc = subprocess.Popen(
        [executable, *argv[1:]],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:
            banner.append(line)
            if "Ctrl-C" in line:
                break
        found = re.search(r"Plangrep API at (http://[\d.]+:\d+)/api/open/v1", "".join(banner))
        assert found, f"no address in the banner: {banner!r}"
        yield found[1]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0, "Ctrl-C should stop the server with status 0"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(15)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_readme_examples_run_against_the_server_of_the_quick_start() -> None:
    page = load_page(ROOT / "README.md")
    assert not page.problems, "\n".join(page.problems)
    assert page.executed, "README.md lost its examples"
    require_shell_tools()
    with quick_start_server() as origin:
        result = run_page(page, origin)
        answers = requests.get(f"{origin}/_mock/requests", timeout=10).json()["requests"]
    assert result.ok, "\n\n".join(result.failures)
    assert result.ran == len(page.executed)
    assert [r for r in answers if r["status"] >= 500] == []
    assert any(r["path"] == "/api/open/v1/projects" for r in answers)  # the curl example ran
