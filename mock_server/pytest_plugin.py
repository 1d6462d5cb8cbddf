"""The pytest plugin (entry point `plangrep_mock`): fixtures and hooks only.

- `plangrep_mock`: a fresh mock server per test (background thread, manual clock, a ready
  project), configured by `@pytest.mark.plangrep_mock(...)`; strict by default: a test that broke
  Plangrep's client contract, or during which the server raised, fails with a report.
- `plangrep_webhook_receiver`: a verifying webhook receiver per test.
- `--plangrep-coverage`: a table of the statuses, events, transitions and delivery outcomes the
  session's tests exercised, and those they never did.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import pytest

# the server, client and coverage modules are imported when a fixture is first used, so pytest
# sessions that never touch the fixture do not pay for aiohttp and the engine
if TYPE_CHECKING:
    from .contract.coverage import MachineCoverage
    from .testing import MockOptions, PlangrepMock, PlangrepWebhookReceiver

__all__ = [
    "plangrep_mock",
    "plangrep_webhook_receiver",
    "pytest_addoption",
    "pytest_configure",
    "pytest_runtest_call",
    "pytest_terminal_summary",
]

COVERAGE_KEY: pytest.StashKey[MachineCoverage] = pytest.StashKey()
MARKER_HELP = (
    "plangrep_mock(scenario='happy', credits=10000, polling='enforce', clock='manual', "
    "speed=1.0, strict=True, api_key=..., webhook_timeout=10.0, webhook_retries=0, "
    "content_packs=()): configure the plangrep_mock fixture for this test. scenario: a built-in "
    "or registered scenario name, or a scenario object (dict); credits: the project's "
    "organisation's balance; polling: enforce|record|off; clock: manual|realtime; speed: "
    "realtime speed factor; strict: fail the test when the contract was violated or the server "
    "raised; content_packs: content pack files fixing the extracted content of files by name."
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("plangrep-mock")
    group.addoption(
        "--plangrep-coverage",
        action="store_true",
        default=False,
        help="after the session, show which job statuses, events, transitions and webhook "
        "delivery outcomes the plangrep_mock fixtures exercised and which never",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    if config.getoption("plangrep_coverage", False):
        from .contract.coverage import MachineCoverage

        config.stash[COVERAGE_KEY] = MachineCoverage()


def _options(request: pytest.FixtureRequest) -> MockOptions:
    from .testing import MARKER_OPTIONS, MockOptions

    marker = request.node.get_closest_marker("plangrep_mock")
    if marker is None:
        return MockOptions()
    if marker.args:
        raise TypeError(
            "@pytest.mark.plangrep_mock takes keyword arguments only "
            f"({', '.join(MARKER_OPTIONS)}), got positional {marker.args!r}"
        )
    return MockOptions.from_kwargs(marker.kwargs, where="@pytest.mark.plangrep_mock")


@pytest.fixture
def plangrep_mock(request: pytest.FixtureRequest) -> Iterator[PlangrepMock]:
    """A Plangrep mock server for this test: `base_url`, `api_key`, `project_id`,
    `create_job()`, `advance()`/`sleep()`/`asleep()`, `force()`, `fault()`, `requests`,
    `violations`, `deliveries`, `check()`."""
    from .testing import PlangrepMock

    mock = PlangrepMock(_options(request)).start()
    try:
        yield mock
    finally:
        coverage = request.config.stash.get(COVERAGE_KEY, None)
        try:
            if coverage is not None:
                coverage.merge(mock.coverage())
        finally:
            mock.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    result = yield
    mock = getattr(item, "funcargs", {}).get("plangrep_mock")
    if mock is not None and getattr(getattr(mock, "options", None), "strict", False):
        __tracebackhide__ = True
        mock.check()
    return result


@pytest.fixture
def plangrep_webhook_receiver(request: pytest.FixtureRequest) -> Iterator[PlangrepWebhookReceiver]:
    """A webhook receiver on 127.0.0.1 that verifies every delivery: `url`, `events`,
    `rejected`, `wait_for(job_id, status, timeout)`, `latest(job_id)`. With `plangrep_mock` in
    the same test it knows every job's secret by itself."""
    from .testing import PlangrepWebhookReceiver

    lookup = None
    if "plangrep_mock" in request.fixturenames:
        lookup = request.getfixturevalue("plangrep_mock").webhook_secret
    receiver = PlangrepWebhookReceiver(secret_lookup=lookup)
    receiver.start_in_thread()
    try:
        yield receiver
    finally:
        receiver.stop_thread()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    coverage = config.stash.get(COVERAGE_KEY, None)
    if coverage is not None:
        terminalreporter.write_sep("-", "plangrep-mock coverage")
        terminalreporter.write_line(coverage.table())
