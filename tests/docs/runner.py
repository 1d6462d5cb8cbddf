"""Run the examples of a Markdown page against a real mock server, the way a reader would.

Every fenced ```bash / ```sh and ```python block of README.md and docs/ is executed, unless an
HTML comment directly before the fence says why not: `<!-- not-executed: REASON -->`. The rules
(docs/contributing.md repeats them for authors):

- Each page gets a fresh server (`plangrep-mock serve`'s defaults, except a **manual clock** and a
  free port) and a fresh temporary working directory.
- The examples are written for `http://127.0.0.1:8080` (the server's default address); the runner
  rewrites `127.0.0.1:8080` and `localhost:8080` to the test server's address in the examples and
  their expected outputs, and changes nothing else.
- The page's bash blocks run in order in one bash process (`set -euo pipefail`), so variables
  and files carry over; `sleep N` there advances the server's clock by N seconds instead of
  waiting, so an example written for the realtime clock takes milliseconds and gives the same
  answers. The page's python blocks run in order in one Python namespace (another process). The
  two languages do not share variables.
- `<!-- run: pytest -->` before a python block runs it as a test module with pytest (a test that
  uses the `plangrep_mock` fixture, say; a page's test modules share one pytest run); it must pass.
- `<!-- expected-output -->` before a ```text block makes it the expected standard output of the
  executed block just above it. `...` inside a line matches anything on that line; a line that is
  only `...` matches any number of lines.
- A page fails when a block exits non-zero (a failing command, an undefined variable, an exception,
  a failing pytest run), when an expected output differs, when the page's bash, python or pytest
  run does not finish within the time limit (two minutes each), or (checked by the caller, with
  the server's `server_errors()`) when the server raised while answering.

`python -m tests.docs.runner PAGE.md ...` runs pages by hand and prints what each block printed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mock_server import MockConfig
from mock_server.testing import MockServerThread

__all__ = [
    "BASH",
    "PYTHON",
    "Block",
    "Page",
    "PageResult",
    "parse_page",
    "run_page",
    "serving",
]

ROOT = Path(__file__).resolve().parents[2]
BASH = frozenset({"bash", "sh", "shell"})
PYTHON = frozenset({"python", "py", "python3"})
# what a fence may be labelled with: the executed kinds, and what is shown but never run
# shown, never run: data, and programs in other languages (their own tests run them, where a
# page says so)
SHOWN = frozenset(
    {"text", "json", "mermaid", "yaml", "toml", "ini", "dot", "http", "diff"}
    | {"javascript", "typescript", "ruby", "go", "java"}
)
DEFAULT_ORIGIN = re.compile(r"\b(?:127\.0\.0\.1|localhost):8080\b")
TIMEOUT = 120.0

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)[^\n]*$")
_MARKER = re.compile(
    r"^\s*<!--\s*(?P<kind>not-executed|run|expected-output)\b(?P<rest>.*?)-->\s*$"
)
_BLOCK_MARK = "__DOCS_BLOCK__"
_DONE_MARK = "__DOCS_DONE__"
_FAILED_MARK = "__DOCS_FAILED__"


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced block: `line` is the 1-based line of its first code line in the page."""

    page: str
    line: int
    lang: str
    code: str
    marker: str = ""  # the marker comment's kind (not-executed, run, expected-output), if any
    argument: str = ""  # what follows the kind: the reason, or `pytest`
    expected: str | None = None  # the expected-output block under it, if any

    @property
    def kind(self) -> str:
        if self.lang in BASH:
            return "bash"
        if self.lang in PYTHON:
            return "python"
        return self.lang or "plain"

    @property
    def executed(self) -> bool:
        return self.kind in ("bash", "python") and self.marker != "not-executed"

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass(frozen=True, slots=True)
class Page:
    path: str
    blocks: tuple[Block, ...]
    problems: tuple[str, ...]  # markup mistakes: an unlabelled fence, a marker without reason

    @property
    def executed(self) -> list[Block]:
        return [b for b in self.blocks if b.executed]

    @property
    def not_executed(self) -> list[Block]:
        return [b for b in self.blocks if b.kind in ("bash", "python") and not b.executed]


@dataclass
class PageResult:
    page: str
    failures: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # block.where -> what it printed
    ran: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


# --------------------------------------------------------------------------- parsing


def parse_page(text: str, path: str, *, bare_allowed: frozenset[int] = frozenset()) -> Page:
    """Split a page into its fenced blocks. `bare_allowed` holds the lines (of the opening
    fence) where an unlabelled fence is allowed: README's Quick start, which .ci/run reads."""
    lines = text.split("\n")
    raw: list[tuple[int, str, str, str, str]] = []  # (line, lang, code, marker, argument)
    problems: list[str] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = len(m["indent"]), m["fence"], m["lang"].lower()
        opening = i
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = lines[i]
            stripped = close.strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                break
            body.append(close[indent:] if close[:indent].strip() == "" else close.lstrip())
            i += 1
        else:
            problems.append(f"{path}:{opening + 1}: a fence that is never closed")
        i += 1
        marker, argument = _marker_before(lines, opening)
        if not lang and (opening + 1) not in bare_allowed:
            problems.append(
                f"{path}:{opening + 1}: a fence without a language; label it (bash, python, "
                f"text, json, ...) so the example runner knows whether to run it"
            )
        elif lang and lang not in BASH | PYTHON | SHOWN:
            problems.append(
                f"{path}:{opening + 1}: unknown fence language {lang!r}; use one of "
                f"{', '.join(sorted(BASH | PYTHON | SHOWN))}"
            )
        if marker == "not-executed" and not argument:
            problems.append(
                f"{path}:{opening + 1}: `<!-- not-executed: REASON -->` needs a reason after "
                "the colon"
            )
        if marker == "run" and (argument != "pytest" or lang not in PYTHON):
            problems.append(
                f"{path}:{opening + 1}: `<!-- run: pytest -->` is the only run marker, and only "
                "before a python block"
            )
        raw.append((opening + 2, lang, "\n".join(body) + "\n", marker, argument))

    blocks: list[Block] = []
    for line, lang, code, marker, argument in raw:
        if marker == "expected-output":
            previous = blocks[-1] if blocks else None
            if lang != "text":
                problems.append(f"{path}:{line - 1}: an expected output must be a ```text block")
            elif previous is None or not previous.executed or previous.expected is not None:
                problems.append(
                    f"{path}:{line - 1}: an expected output must come right after the executed "
                    "block whose output it shows"
                )
            else:
                blocks[-1] = Block(
                    previous.page,
                    previous.line,
                    previous.lang,
                    previous.code,
                    previous.marker,
                    previous.argument,
                    code,
                )
            continue
        blocks.append(Block(path, line, lang, code, marker, argument))
    return Page(path, tuple(blocks), tuple(problems))


def _marker_before(lines: list[str], fence_index: int) -> tuple[str, str]:
    j = fence_index - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    if j < 0:
        return "", ""
    m = _MARKER.match(lines[j])
    if not m:
        return "", ""
    return m["kind"], m["rest"].strip().removeprefix(":").strip()


# --------------------------------------------------------------------------- running


@contextmanager
def serving() -> Iterator[MockServerThread]:
    """A fresh mock server for one page: serve's defaults, but a manual clock and a free port."""
    server = MockServerThread(MockConfig(clock="manual", port=0))
    with server:
        yield server


def run_page(
    page: Page,
    origin: str,
    *,
    workdir: Path | None = None,
    timeout: float = TIMEOUT,
) -> PageResult:
    """Run the page's executed blocks against the server at `origin` (`http://host:port`)."""
    result = PageResult(page.path)
    with tempfile.TemporaryDirectory(prefix="plangrep-docs-") as tmp:
        cwd = workdir or Path(tmp)
        if workdir is None:
            # examples name the repository's data files as from its root (fixtures/...): a
            # copy, so an example that writes there cannot touch the repository
            shutil.copytree(ROOT / "fixtures", cwd / "fixtures")
        env = _environment(origin)
        bash = [b for b in page.executed if b.kind == "bash"]
        python = [b for b in page.executed if b.kind == "python" and b.marker != "run"]
        tests = [b for b in page.executed if b.kind == "python" and b.marker == "run"]
        if bash:
            script = _bash_script(bash, origin)
            _run_sequence(bash, script, ["bash"], ".sh", origin, cwd, env, timeout, result)
        if python:
            script = _python_script(python, origin)
            _run_sequence(
                python, script, [sys.executable], ".py", origin, cwd, env, timeout, result
            )
        if tests:
            _run_pytest(tests, origin, cwd, env, timeout, result)
    return result


def _environment(origin: str) -> dict[str, str]:
    env = dict(os.environ)
    # the examples call `plangrep-mock` and `python`: the ones of the interpreter running us
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["PLANGREP_DOCS_ORIGIN"] = origin
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("PYTEST_ADDOPTS", None)
    # the checks write GitHub Actions output by default there; the examples show their own
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
        env.pop(name, None)
    return env


def rewrite(code: str, origin: str) -> str:
    """The examples' default address (127.0.0.1:8080, localhost:8080) -> the test server's."""
    return DEFAULT_ORIGIN.sub(origin.removeprefix("http://"), code)


_BASH_PRELUDE = r"""set -Eeuo pipefail
# The page runs against a manual clock: waiting N seconds is advancing the clock N seconds.
sleep() {
    command curl -sSf -X POST "$PLANGREP_DOCS_ORIGIN/_mock/clock/advance" \
        -H 'Content-Type: application/json' -d "{\"seconds\": $1}" > /dev/null
}
trap 'printf "\n%s %s %s\n" __DOCS_FAILED__ "$LINENO" "$?" >&2' ERR
"""


def _bash_script(blocks: list[Block], origin: str) -> tuple[str, list[tuple[int, Block]]]:
    """The script, and where each block starts in it (to map a failing line back to the page)."""
    text = _BASH_PRELUDE
    starts: list[tuple[int, Block]] = []
    for n, block in enumerate(blocks):
        text += f"printf '\\n{_BLOCK_MARK} {n}\\n'\n"
        starts.append((text.count("\n") + 1, block))
        text += rewrite(block.code, origin)
    text += f"printf '\\n{_DONE_MARK}\\n'\n"
    return text, starts


def _python_script(blocks: list[Block], origin: str) -> tuple[str, list[tuple[int, Block]]]:
    payload = [
        {"file": str(ROOT / b.page), "line": b.line, "code": rewrite(b.code, origin)}
        for b in blocks
    ]
    text = f"""import sys
blocks = {json.dumps(payload)!r}
import json as _json
namespace = {{"__name__": "__main__"}}
for n, block in enumerate(_json.loads(blocks)):
    print("\\n{_BLOCK_MARK}", n, flush=True)
    # padded so that a traceback names the page and the line in it
    code = compile("\\n" * (block["line"] - 1) + block["code"], block["file"], "exec")
    try:
        exec(code, namespace)
    finally:
        sys.stdout.flush()
print("\\n{_DONE_MARK}", flush=True)
"""
    return text, []  # a traceback already names the page and the line


def _run_sequence(
    blocks: list[Block],
    script: tuple[str, list[tuple[int, Block]]],
    command: list[str],
    suffix: str,
    origin: str,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    result: PageResult,
) -> None:
    text, starts = script
    with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, dir=cwd) as f:
        f.write(text)
        path = f.name
    try:
        proc = subprocess.run(
            [*command, path],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        stdout, stderr, code = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = _text(exc.stdout)
        stderr = _text(exc.stderr) + f"\n(killed after {timeout:.0f} s)"
        code = -1
    finally:
        os.unlink(path)
    outputs = _split_outputs(stdout)
    reached = len(outputs)
    for n, block in enumerate(blocks[:reached]):
        out = outputs[n]
        result.outputs[block.where] = out
        finished = n < reached - 1 or _DONE_MARK in stdout
        if finished:
            result.ran += 1
        if finished and block.expected is not None:
            mismatch = compare_output(rewrite(block.expected, origin), out)
            if mismatch:
                result.failures.append(f"{block.where}: the output differs from the page:\n"
                                       f"{mismatch}")  # fmt: skip
    if code != 0 or _DONE_MARK not in stdout:
        failed = blocks[reached - 1] if reached else blocks[0]
        where = failed.where
        if starts:  # bash: the failing line of the script -> the line of the page

            def page_line(script_line: int) -> str | None:
                for start, block in reversed(starts):
                    if script_line >= start:
                        return f"{block.page}:{block.line + script_line - start}"
                return None  # the prelude

            found = re.search(rf"{_FAILED_MARK} (\d+) \d+", stderr) or re.search(
                r"\.sh: line (\d+):", stderr
            )
            if found:
                where = page_line(int(found[1])) or where
            stderr = re.sub(
                r"\S+\.sh: line (\d+):",
                lambda m: f"{page_line(int(m[1])) or 'line ' + m[1]}:",
                stderr,
            )
        else:  # python: the traceback names the page and the line (the code is padded)
            frames = re.findall(r'File "([^"]+\.md)", line (\d+)', stderr)
            if frames:
                file, line_text = frames[-1]
                page_path = Path(file)
                if page_path.is_absolute() and page_path.is_relative_to(ROOT):
                    file = page_path.relative_to(ROOT).as_posix()
                where = f"{file}:{line_text}"
        stderr = re.sub(rf"\n?{_FAILED_MARK} \d+ \d+\n?", "\n", stderr).strip()
        result.failures.append(
            f"{where}: the example failed (exit status {code}) in the block starting at "
            f"{failed.where}\n--- what it printed ---\n{outputs[-1] if outputs else ''}"
            f"\n--- stderr ---\n{_tail(stderr)}"
        )


def _run_pytest(
    blocks: list[Block],
    origin: str,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    result: PageResult,
) -> None:
    """The page's `run: pytest` blocks, one test module each, in one pytest run (a pytest start
    costs seconds; the modules do not share anything)."""
    stem = re.sub(r"\W", "_", Path(blocks[0].page).stem)
    files = {f"test_docs_{stem}_{b.line}.py": b for b in blocks}
    for name, block in files.items():
        (cwd / name).write_text(rewrite(block.code, origin))
    command = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", *files]
    try:
        proc = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        out, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, code = _text(exc.stdout) + f"\n(killed after {timeout:.0f} s)", -1
    for block in blocks:
        result.outputs[block.where] = out
    if code == 0 and re.search(r"\b\d+ passed\b", out):
        result.ran += len(blocks)
        return
    named = [b for name, b in files.items() if re.search(rf"(FAILED|ERROR) {name}\b", out)]
    for block in named or blocks:
        result.failures.append(
            f"{block.where}: the test module did not pass with pytest (exit status {code})\n"
            f"{_tail(out)}"
        )
    result.ran += len(blocks) - len(named or blocks)


def _split_outputs(stdout: str) -> list[str]:
    """What each block printed, in order (the runner printed a marker before each block)."""
    stdout = stdout.split(f"\n{_DONE_MARK}\n", 1)[0]
    parts = re.split(rf"\n{_BLOCK_MARK} \d+\n", stdout)
    return parts[1:]


def compare_output(expected: str, actual: str) -> str:
    """'' when `actual` matches `expected` (with `...` wildcards), else a short explanation."""
    want = [line.rstrip() for line in expected.rstrip("\n").split("\n")]
    got = actual.rstrip("\n")
    got = "\n".join(line.rstrip() for line in got.split("\n")) + "\n"
    pattern = ""
    for line in want:
        if line.strip() == "...":
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += "[^\n]*?".join(re.escape(part) for part in line.split("...")) + r"\n"
    if re.fullmatch(pattern, got):
        return ""
    return "--- the page shows ---\n" + "\n".join(want) + "\n--- the example printed ---\n" + got


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _tail(text: str, lines: int = 40) -> str:
    rows = text.strip().split("\n")
    return "\n".join(rows[-lines:])


# --------------------------------------------------------------------------- the pages


def readme_quick_start_line(text: str) -> int:
    """The line of README's Quick start fence (its one unlabelled block)."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("## Quick start"))
    fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```"))
    return fence + 1


def load_page(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    rel = path.resolve().relative_to(ROOT).as_posix()
    bare = frozenset({readme_quick_start_line(text)}) if rel == "README.md" else frozenset()
    return parse_page(text, rel, bare_allowed=bare)


def doc_pages() -> list[Path]:
    """README.md and every Markdown page of the docs site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or doc_pages()
    failed = 0
    for path in paths:
        page = load_page(path)
        for problem in page.problems:
            print(problem)
        with serving() as server:
            result = run_page(page, server.url)
            errors = server.server_errors()
        for where, out in result.outputs.items():
            print(f"=== {where}\n{out}")
        for failure in result.failures:
            print(f"FAILED {failure}")
        if errors:
            print(f"FAILED {page.path}: the server raised: {errors!r}")
        status = "ok" if result.ok and not errors and not page.problems else "FAILED"
        print(f"--- {page.path}: {result.ran} block(s) run, "
              f"{len(page.not_executed)} not executed: {status}")  # fmt: skip
        failed += status != "ok"
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
