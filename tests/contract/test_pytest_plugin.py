"""The pytest plugin, run in a pytester sandbox: marker, strict reports, coverage option."""

from __future__ import annotations

import pytest

# mock_server is imported already by this session, so the inner runs cannot rewrite it
QUIET = ("-W", "ignore::pytest.PytestAssertRewriteWarning")

TOO_FAST = """
import pytest
from mock_server.client import PlangrepClient

{marker}
def test_polls_twice(plangrep_mock):
    job = plangrep_mock.create_job()
    client = PlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key)
    client.get_job(job["id"])
    plangrep_mock.advance(2)
    client.get_job(job["id"])
"""


def test_plugin_is_registered_with_its_marker(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers", *QUIET)
    result.stdout.fnmatch_lines(["*plangrep_mock(scenario='happy', credits=10000*strict=True*"])
    result = pytester.runpytest("--help", *QUIET)
    result.stdout.fnmatch_lines(["*--plangrep-coverage*"])


def test_strict_mode_fails_a_test_that_polls_too_fast(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TOO_FAST.format(marker='@pytest.mark.plangrep_mock(polling="record")'))
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ContractViolation*",
            "*[[]polling_too_fast] job_* was polled twice within 2.0 s; Plangrep asks for at "
            "least 5.0 s between polls*",
            "*GET /api/open/v1/jobs/job_* -> 200*",
        ]
    )
    assert "errors" not in result.stdout.str().splitlines()[-1]  # a failure, not a teardown error


def test_strict_false_records_without_failing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        TOO_FAST.format(marker='@pytest.mark.plangrep_mock(polling="record", strict=False)')
        + """
    assert [v["rule"] for v in plangrep_mock.violations] == ["polling_too_fast"]
"""
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)


def test_enforced_polling_answers_429(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(TOO_FAST.format(marker=""))
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*PlangrepApiError*429 polling_too_fast*"])


def test_a_server_error_inside_the_thread_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
def test_server_raised(plangrep_mock):
    state = plangrep_mock.state
    plangrep_mock.server.call(state.server_errors.append, RuntimeError("boom in a handler"))
"""
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ServerError*", "*RuntimeError: boom in a handler*"])


def test_a_failing_test_keeps_its_own_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        TOO_FAST.format(marker='@pytest.mark.plangrep_mock(polling="record")')
        + "    assert False, 'the test failed first'\n"
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the test failed first*"])


def test_unknown_marker_option_is_an_error_naming_the_allowed_ones(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
import pytest

@pytest.mark.plangrep_mock(scenari="happy")
def test_typo(plangrep_mock):
    pass

@pytest.mark.plangrep_mock("happy")
def test_positional(plangrep_mock):
    pass
"""
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*unknown option(s) scenari; allowed: scenario, credits, polling*",
            "*keyword arguments only*",
        ]
    )


def test_fresh_state_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
seen = []

def test_one(plangrep_mock):
    seen.append(plangrep_mock.create_job()["id"])
    assert len(plangrep_mock.job(seen[0])["history"]) == 3

def test_two(plangrep_mock):
    assert plangrep_mock.requests == []
    import pytest
    from mock_server.testing import MockControlError
    with pytest.raises(MockControlError, match="job_not_found"):
        plangrep_mock.job(seen[0])
"""
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=2)


def test_coverage_option_prints_the_table(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
import pytest

def test_happy(plangrep_mock):
    job = plangrep_mock.create_job()
    plangrep_mock.advance(60)

@pytest.mark.plangrep_mock(scenario="preflight_fails")
def test_fails(plangrep_mock):
    plangrep_mock.create_job()
    plangrep_mock.advance(60)
"""
    )
    result = pytester.runpytest("--plangrep-coverage", *QUIET)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*plangrep-mock coverage*",
            "*coverage of the job machine (2 job(s))*",
            "statuses: 7/11 exercised",
            "*completed *1",
            "*expired *never",
            "*preflighting --fail--> failed *1",
            "*processing --fail--> failed *never",
            "delivery outcomes: 0/10 exercised",
        ]
    )
    assert "plangrep-mock coverage" not in pytester.runpytest(*QUIET).stdout.str()


def test_usable_from_an_async_test(pytester: pytest.Pytester) -> None:
    pytest.importorskip("anyio")
    pytester.makepyfile(
        """
import pytest
from mock_server.client import wait_for_job_async

@pytest.fixture
def anyio_backend():
    return "asyncio"

@pytest.mark.anyio
async def test_async(plangrep_mock, plangrep_webhook_receiver):
    job = plangrep_mock.create_job(webhook_url=plangrep_webhook_receiver.url)
    final = await wait_for_job_async(
        plangrep_mock.base_url, plangrep_mock.api_key, job["id"], plangrep_mock.asleep
    )
    assert final["status"] == "completed"
    event = await plangrep_webhook_receiver.wait_for_async(job["id"], "completed", 5)
    assert event.previous_status == "processing"
"""
    )
    pytester.runpytest(*QUIET).assert_outcomes(passed=1)


def test_the_plugin_loads_without_hypothesis() -> None:
    """hypothesis is a test extra; pytest loads the plugin in any environment with the package,
    so the plugin must not need it (check_client imports it on first use)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import mock_server.pytest_plugin, mock_server.testing\n"
        "from mock_server.contract import ContractViolation, MachineCoverage\n"
        "try:\n"
        "    from mock_server.contract import check_client\n"
        "except ImportError:\n"
        "    print('lazy')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "lazy"
