"""The example runner fails a page for every kind of broken example, and only for those."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .runner import PageResult, compare_output, parse_page, run_page, serving
from .support import require_shell_tools

F = "`" * 3


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with serving() as server:
        yield server.url


def run(text: str, origin: str, **options: float) -> PageResult:
    page = parse_page(text, "docs/broken.md")
    assert not page.problems, page.problems
    return run_page(page, origin, **options)


SETUP = f"""# A page

{F}bash
BASE=http://127.0.0.1:8080/api/open/v1
AUTH="Authorization: Bearer pgk_live_demo"
{F}
"""


def test_a_working_page_passes_and_its_blocks_share_one_shell(origin: str) -> None:
    require_shell_tools()
    text = (
        SETUP
        + f"""
{F}bash
curl -s -X POST "$BASE/projects" -H "$AUTH" -H 'Content-Type: application/json' \\
  -d '{{"name": "ok"}}' | jq -r .project.status
{F}

<!-- expected-output -->
{F}text
provisioning
{F}

<!-- not-executed: would fail if it ran -->
{F}bash
exit 3
{F}
"""
    )
    result = run(text, origin)
    assert result.ok, result.failures
    assert result.ran == 2


def test_sleep_advances_the_server_clock_instead_of_waiting(origin: str) -> None:
    require_shell_tools()
    text = f"""{F}bash
MOCK=http://localhost:8080/_mock
BEFORE=$(curl -s $MOCK/clock | jq .epochSeconds)
sleep 3600
AFTER=$(curl -s $MOCK/clock | jq .epochSeconds)
echo $(( ${{AFTER%.*}} - ${{BEFORE%.*}} ))
{F}

<!-- expected-output -->
{F}text
3600
{F}
"""
    result = run(text, origin)
    assert result.ok, result.failures


BROKEN_BASH = [
    pytest.param(
        f'{F}bash\ncurl -sf "$BASE/no/such/route" -H "$AUTH"\n{F}\n', 15, "exit status 22",
        id="a failing command",
    ),
    pytest.param(
        f'{F}bash\necho ok\ncurl -s "$BASE/jobs/$JOB" -H "$AUTH"\n{F}\n', 16,
        "JOB: unbound variable",
        id="an undefined variable",
    ),
    pytest.param(
        f"{F}bash\ncurl -s \"$BASE/projects\" -H \"$AUTH\" | jq -r '.projects[0.id'\n{F}\n", 15,
        "exit status",
        id="a pipeline whose last step fails",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("block", "line", "reason"), BROKEN_BASH)
def test_a_broken_bash_example_fails_the_page_at_its_line(
    origin: str, block: str, line: int, reason: str
) -> None:
    require_shell_tools()
    text = SETUP + "\nSome prose.\n\n" + f"{F}bash\necho first block\n{F}\n\n" + block
    result = run(text, origin)
    assert not result.ok
    (failure,) = result.failures
    assert failure.startswith(f"docs/broken.md:{line}:"), failure
    assert reason in failure


def test_a_python_exception_fails_the_page_and_names_the_line(origin: str) -> None:
    text = f"""# A page

{F}python
import requests

answer = requests.get("http://127.0.0.1:8080/_mock/health")
{F}

{F}python
status = answer.json()["status"]
assert status == "ok"
job = answer.json()["job"]
{F}
"""
    result = run(text, origin)
    assert not result.ok
    (failure,) = result.failures
    assert failure.startswith("docs/broken.md:12:"), failure
    assert "KeyError: 'job'" in failure
    assert result.ran == 1


def test_an_output_that_differs_from_the_page_fails(origin: str) -> None:
    text = f"""{F}python
print("status: completed")
print("pages: 3")
{F}

<!-- expected-output -->
{F}text
status: completed
pages: 4
{F}
"""
    result = run(text, origin)
    (failure,) = result.failures
    assert failure.startswith("docs/broken.md:2: the output differs"), failure
    assert "pages: 4" in failure and "pages: 3" in failure


def test_a_failing_pytest_block_fails_and_a_passing_one_counts(origin: str) -> None:
    text = f"""<!-- run: pytest -->
{F}python
def test_passes(plangrep_mock):
    assert plangrep_mock.create_job()["status"] == "preflighting"
{F}

<!-- run: pytest -->
{F}python
def test_fails(plangrep_mock):
    assert plangrep_mock.create_job()["status"] == "completed"
{F}
"""
    result = run(text, origin)
    (failure,) = result.failures
    assert failure.startswith("docs/broken.md:9: the test module did not pass"), failure
    assert result.ran == 1


def test_an_example_that_never_finishes_is_stopped_and_fails(origin: str) -> None:
    text = f"{F}python\nimport time\n\ntime.sleep(30)\n{F}\n"
    result = run(text, origin, timeout=1.0)
    (failure,) = result.failures
    assert "killed after 1 s" in failure


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"{F}\ncurl http://127.0.0.1:8080/\n{F}\n", "a fence without a language"),
        (f"{F}console\n$ ls\n{F}\n", "unknown fence language 'console'"),
        (f"<!-- not-executed -->\n{F}bash\nexit 1\n{F}\n", "needs a reason"),
        (f"<!-- not-executed: -->\n{F}bash\nexit 1\n{F}\n", "needs a reason"),
        (f"<!-- run: pytest -->\n{F}bash\nexit 1\n{F}\n", "only before a python block"),
        (f"Prose.\n\n<!-- expected-output -->\n{F}text\nok\n{F}\n", "must come right after"),
        (f"{F}bash\necho\n{F}\n\n<!-- expected-output -->\n{F}json\n{{}}\n{F}\n", "```text"),
        (f"{F}python\nprint(1)\n", "never closed"),
    ],
)
def test_markup_mistakes_are_reported(text: str, problem: str) -> None:
    page = parse_page(text, "docs/broken.md")
    assert any(problem in p for p in page.problems), page.problems


def test_readme_s_quick_start_may_be_unlabelled_and_nothing_else() -> None:
    text = f"## Quick start\n\n{F}\npip install -e .\n{F}\n\n{F}\nls\n{F}\n"
    page = parse_page(text, "README.md", bare_allowed=frozenset({3}))
    (problem,) = page.problems
    assert problem.startswith("README.md:7: a fence without a language")


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ('{"id":"job_...","status":"completed"}', '{"id":"job_01abc","status":"completed"}', True),
        ('{"id":"job_...","status":"completed"}', '{"id":"job_01abc","status":"failed"}', False),
        ("first\n...\nlast", "first\na\nb\nlast\n", True),
        ("first\n...\nlast", "first\nlast", True),
        ("first\nlast", "first\nmiddle\nlast", False),
        ("a...b", "a\nb", False),  # `...` inside a line does not cross lines
        ("ok", "ok   \n\n", True),
    ],
)
def test_expected_output_wildcards(expected: str, actual: str, matches: bool) -> None:
    assert (compare_output(expected, actual) == "") is matches
