"""Run a mock server in a background thread, for tests: `MockServerThread`.

The server gets its own event loop in its own thread and listens on 127.0.0.1 (port 0 picks a free
port, written back to `port`). Start and stop take milliseconds: nothing here waits by polling, the
threads hand over with `threading.Event` and `loop.call_soon_threadsafe`.

The engine is only ever touched from the server's thread: `call(fn, *args)` runs `fn` there and
hands back its result (or raises its exception in the caller). Errors raised inside the server's
handlers are collected by the server (`state.server_errors`); `check()` re-raises them in the test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from statemachine import Scenario, parse_scenario

from .app import PUBLIC_PREFIX, create_app
from .client import PlangrepClient
from .config import MockConfig
from .contract.coverage import MachineCoverage
from .contract.violations import ContractViolation
from .control.events import record_json
from .state import STATE_KEY, MockState
from .webhooks.receiver import WebhookReceiver

if TYPE_CHECKING:
    from .contract.reports import CheckResult

__all__ = [
    "FIXTURE_API_KEY",
    "MARKER_OPTIONS",
    "MockControlError",
    "MockOptions",
    "MockServerThread",
    "PlangrepMock",
    "PlangrepWebhookReceiver",
    "ServerError",
]

T = TypeVar("T")


class ServerError(AssertionError):
    """The server raised inside its thread; `errors` holds the exceptions, oldest first."""

    def __init__(self, errors: list[BaseException]) -> None:
        self.errors = list(errors)
        lines = [f"  {type(e).__name__}: {e}" for e in self.errors]
        super().__init__(
            f"the mock server raised {len(self.errors)} error(s) inside its thread "
            "(each answered the client with a 500; this is a bug in plangrep-mock):\n"
            + "\n".join(lines)
        )


class MockServerThread:
    """A mock server (or any aiohttp application) served from a background thread.

    `MockServerThread(config)` serves `create_app(config)`; `app=` serves a ready-made
    application instead. `prepare(app)` runs before the server starts (add routes or middlewares
    there). Use it as a context manager, or call `start()` and `stop()`.
    """

    def __init__(
        self,
        config: MockConfig | None = None,
        *,
        app: web.Application | None = None,
        prepare: Callable[[web.Application], None] | None = None,
    ) -> None:
        self.config = config or MockConfig(clock="manual", port=0)
        self.host = self.config.host
        self.port = self.config.port
        self.app = app if app is not None else create_app(self.config)
        if prepare is not None:
            prepare(self.app)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> MockServerThread:
        if self._thread is not None:
            raise RuntimeError("this MockServerThread was already started; make a new one")
        self._thread = threading.Thread(target=self._serve, name="plangrep-mock", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            raise self._startup_error
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start_site())
        except BaseException as exc:  # handed to start(), which re-raises it
            self._startup_error = exc
            loop.run_until_complete(self._cleanup())
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _start_site(self) -> None:
        # a short shutdown_timeout: stop() must not wait for a client's idle keep-alive socket
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=0.25
        )
        self._runner = runner
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        self.port = int(runner.addresses[0][1])  # what port 0 became

    async def _cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def stop(self) -> None:
        """Stop serving, run the application's cleanup, and join the thread."""
        thread, loop = self._thread, self.loop
        if thread is None or loop is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()

    def __enter__(self) -> MockServerThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's root, e.g. `http://127.0.0.1:40123`."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Plangrep's API root on this server (ends in `/api/open/v1`)."""
        return self.url + PUBLIC_PREFIX

    # -- the server's thread ----------------------------------------------------

    @property
    def state(self) -> MockState:
        """The server's state. Read it through `call()`: it belongs to the server's thread."""
        return self.app[STATE_KEY]

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` on the server's loop and return its result."""
        loop = self.loop
        if loop is None or not self._ready.is_set():
            raise RuntimeError("the server is not running; call start() first")
        if threading.current_thread() is self._thread:
            return fn(*args, **kwargs)
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result()

    def run(self, coro: Any) -> Any:
        """Run a coroutine on the server's loop and return its result."""
        loop = self.loop
        if loop is None:
            raise RuntimeError("the server is not running; call start() first")
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def server_errors(self) -> list[BaseException]:
        if STATE_KEY not in self.app:  # a plain application given with app=
            return []
        return self.call(lambda: list(self.state.server_errors))

    def check(self) -> None:
        """Raise `ServerError` if the server raised inside its thread."""
        errors = self.server_errors()
        if errors:
            raise ServerError(errors)


# --------------------------------------------------------------------------- the fixture's handle

FIXTURE_API_KEY = "pgk_live_plangrepmockfixture"
SMALL_PDF = b"%PDF-1.4\n% plangrep-mock fixture file\n%%EOF\n"
MARKER_OPTIONS: tuple[str, ...] = (
    "scenario",
    "credits",
    "polling",
    "clock",
    "speed",
    "strict",
    "api_key",
    "webhook_timeout",
    "webhook_retries",
    "content_packs",
)


@dataclass(frozen=True, slots=True)
class MockOptions:
    """What `@pytest.mark.plangrep_mock(...)` can set (every field has the fixture's default)."""

    scenario: str | Mapping[str, Any] = "happy"
    credits: int = 10_000
    polling: str = "enforce"
    clock: str = "manual"
    speed: float = 1.0
    strict: bool = True
    api_key: str = FIXTURE_API_KEY
    webhook_timeout: float = 10.0
    webhook_retries: int = 0
    # content pack files (docs/content.md) fixing the content of files by name; relative
    # paths are taken from the working directory
    content_packs: tuple[str | Path, ...] | list[str | Path] = ()

    @classmethod
    def from_kwargs(
        cls, kwargs: Mapping[str, Any], *, where: str = "plangrep_mock"
    ) -> MockOptions:
        unknown = sorted(set(kwargs) - set(MARKER_OPTIONS))
        if unknown:
            raise TypeError(
                f"{where}: unknown option(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(MARKER_OPTIONS)}"
            )
        return cls(**kwargs)

    def config(self) -> MockConfig:
        scenario = self.scenario if isinstance(self.scenario, str) else "happy"
        return MockConfig(
            host="127.0.0.1",
            port=0,
            clock=self.clock,  # type: ignore[arg-type]  # MockConfig validates it
            speed=self.speed,
            scenario=scenario,
            credits=self.credits,
            polling=self.polling,  # type: ignore[arg-type]
            webhook_timeout=self.webhook_timeout,
            webhook_retries=self.webhook_retries,
            content_packs=tuple(Path(p) for p in self.content_packs),
        )


class MockControlError(AssertionError):
    """The control API refused a request the test made through the fixture."""


class PlangrepMock:
    """The `plangrep_mock` fixture: a mock server in a background thread, a ready project, and
    the control calls a test needs. Every engine call runs on the server's thread."""

    def __init__(self, options: MockOptions | None = None) -> None:
        self.options = options or MockOptions()
        self.api_key = self.options.api_key
        self.server = MockServerThread(self.options.config())
        self.project_id = ""
        self._secrets: dict[str, str] = {}
        self._own_requests: list[tuple[int, int]] = []  # journal ranges made by the fixture
        self._client: Any = None

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> PlangrepMock:
        self.server.start()
        try:
            self.project_id = self.server.call(self._setup)
        except BaseException:
            self.server.stop()
            raise
        return self

    def _setup(self) -> str:
        state = self.server.state
        engine = state.engine
        if not isinstance(self.options.scenario, str):
            self._register_default(parse_scenario(dict(self.options.scenario)))
        org = state.keys.organisation(self.api_key) or self.api_key
        project, _ = engine.create_project(org, "plangrep-mock fixture")
        if project.state != "ready":
            engine.force_project(project, "provision")
        engine.set_balance(org, self.options.credits)
        return project.id

    def _register_default(self, scenario: Scenario) -> None:
        state = self.server.state
        state.scenarios.register(scenario)
        state.engine.default_scenario = scenario

    def stop(self) -> None:
        self.server.stop()

    # -- addresses ------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def state(self) -> MockState:
        return self.server.state

    # -- jobs -------------------------------------------------------------------

    def _public(self) -> Any:
        if self._client is None:
            self._client = PlangrepClient(self.base_url, self.api_key)
        return self._client

    def _journal_total(self) -> int:
        return self.server.call(lambda: self.state.journal.total)

    def create_job(
        self,
        *,
        external_id: str | None = None,
        webhook_url: str | None = None,
        scenario: str | Mapping[str, Any] | None = None,
        file_name: str = "plans.pdf",
        content: bytes = SMALL_PDF,
        classification: str | None = "plans",
        complete: bool = True,
    ) -> dict[str, Any]:
        """Create a job in the ready project over the public API, upload one small file and
        complete the uploads (unless `complete=False`); return the job as the API shows it.
        A job still provisioning (a scenario with a provisioning delay) is returned as created:
        advance the clock, then upload yourself."""
        client = self._public()
        headers: dict[str, str] = {}
        if scenario is not None:
            name = scenario if isinstance(scenario, str) else self._register(scenario)
            headers["X-Mock-Scenario"] = name
        body = {"externalId": external_id, "webhookUrl": webhook_url}
        first = self._journal_total()
        try:
            answer = client.request(
                "POST",
                f"/projects/{self.project_id}/jobs",
                {k: v for k, v in body.items() if v is not None},
                headers=headers,
            )
            job: dict[str, Any] = answer["job"]
            self._secrets[job["id"]] = answer["webhookSigningSecret"]
            if job["status"] == "provisioning":
                return job
            uploaded = client.upload_file(
                job["id"], file_name, content, classification=classification
            )
            job = uploaded["job"]
            if complete:
                job = client.complete_uploads(job["id"])
        finally:
            self._own_requests.append((first, self._journal_total()))
        return job

    def _register(self, scenario: Mapping[str, Any]) -> str:
        parsed = parse_scenario(dict(scenario))
        self.server.call(self.server.state.scenarios.register, parsed)
        return parsed.name

    def webhook_secret(self, job_id: str) -> str | None:
        """The `webhookSigningSecret` of a job created through the public API."""
        secret = self._secrets.get(job_id)
        if secret is None:
            secret = self.server.call(self._job_secret, job_id)
        return secret

    def _job_secret(self, job_id: str) -> str | None:
        job = self.state.engine.jobs.get(job_id)
        return job.webhook_secret if job is not None else None

    # -- time -------------------------------------------------------------------

    def now(self) -> float:
        """The virtual time, epoch seconds."""
        return self.server.call(lambda: self.state.engine.now)

    async def _advance(self, seconds: float) -> list[dict[str, Any]]:
        fired = self.state.engine.advance(seconds)
        dispatcher = self.state.webhooks
        if dispatcher.pending:
            # let the deliveries this advance queued go out before returning
            await dispatcher.drain(timeout=min(self.options.webhook_timeout, 5.0) + 0.5)
        return [record_json(r) for r in fired]

    def advance(self, seconds: float) -> list[dict[str, Any]]:
        """Move the virtual clock; return the transitions fired (their webhooks have been sent
        by the time it returns, unless a receiver is slower than the webhook timeout)."""
        result: list[dict[str, Any]] = self.server.run(self._advance(seconds))
        return result

    def sleep(self, seconds: float) -> None:
        """`advance` shaped like `time.sleep`: inject it into the client under test."""
        self.advance(seconds)

    async def asleep(self, seconds: float) -> None:
        """`advance` shaped like `asyncio.sleep`; it does not block the caller's event loop."""
        loop = self.server.loop
        if loop is None:
            raise RuntimeError("the server is not running")
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._advance(seconds), loop))

    # -- control -----------------------------------------------------------------

    def use_scenario(self, scenario: str | Mapping[str, Any]) -> None:
        """Jobs created from now on follow `scenario` (a name, or a scenario object)."""

        def use() -> None:
            state = self.state
            if isinstance(scenario, str):
                state.engine.default_scenario = state.scenarios.get(scenario)
            else:
                self._register_default(parse_scenario(dict(scenario)))

        self.server.call(use)

    def set_credits(self, balance: int, api_key: str | None = None) -> None:
        """Set the balance of the organisation of `api_key` (default: the fixture's key)."""
        key = api_key or self.api_key

        def put() -> None:
            org = self.state.keys.organisation(key)
            if org is None:
                raise MockControlError(f"no API key {key!r} is configured on this server")
            self.state.engine.set_balance(org, balance)

        self.server.call(put)

    def force(self, job_id: str, event: str) -> dict[str, Any]:
        """Fire `event` on the job now, as `POST /_mock/jobs/{jobId}/events` does; returns the
        job. Raises `MockControlError` when the machine forbids the event."""
        answer: dict[str, Any] = self._control(
            "POST", f"/_mock/jobs/{job_id}/events", {"event": event}
        )
        return answer

    def job(self, job_id: str) -> dict[str, Any]:
        """`{"job", "history", "deliveries", "scenario"}` as `GET /_mock/jobs/{jobId}`."""
        answer: dict[str, Any] = self._control("GET", f"/_mock/jobs/{job_id}")
        return answer

    def fault(self, mode: str, *, target: str = "webhooks", **options: Any) -> dict[str, Any]:
        """Inject a fault (`POST /_mock/faults`): `fault("drop", count=1)`,
        `fault("error", target="api", status=503, count=2)`, `fault("rate_limited",
        target="api", retryAfter=20)`, `fault("lost_response", target="api",
        operation="createJob")` (the server commits, the answer is lost)."""
        answer: dict[str, Any] = self._control(
            "POST", "/_mock/faults", {"target": target, "mode": mode, **options}
        )
        return answer

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                err = json.loads(exc.read())["error"]
                text = f"{err['code']}: {err['message']}"
            except (ValueError, KeyError, TypeError):
                text = f"HTTP {exc.code}"
            raise MockControlError(f"{method} {path} was refused: {text}") from None

    # -- what happened -------------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The public API requests answered so far (the fixture's own create_job calls left
        out), oldest first, as `GET /_mock/requests` shows them."""

        def collect() -> list[dict[str, Any]]:
            journal = self.state.journal
            base = journal.total - len(journal)
            out = []
            for i, entry in enumerate(journal):
                n = base + i
                if not any(a <= n < b for a, b in self._own_requests):
                    out.append(entry.as_dict())
            return out

        return self.server.call(collect)

    @property
    def violations(self) -> list[dict[str, Any]]:
        """Contract violations the server recorded (`rule`, `jobId`, `message`, ...)."""
        return self.server.call(lambda: [v.as_dict() for v in self.state.violations])

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        """Every webhook delivery with its attempts, oldest first."""

        def collect() -> list[dict[str, Any]]:
            return [d.as_json() for d in self.state.webhooks.deliveries()]

        return self.server.call(collect)

    def coverage(self) -> MachineCoverage:
        """What this server's jobs and deliveries exercised of the machine."""
        cov = MachineCoverage()

        def collect() -> None:
            for job in self.state.engine.jobs.values():
                cov.add_job_history(job.history)

        self.server.call(collect)
        for delivery in self.deliveries:
            cov.add_delivery(delivery)
        return cov

    def check_receiver(
        self, target: str | web.Application, *, secret: str, **options: Any
    ) -> CheckResult:
        """Grade a webhook receiver (a URL, or an aiohttp app served in-process): see
        `mock_server.contract.check_receiver` for the options. Raises `ReceiverViolation` (a
        `ContractViolation`) when it breaks a receiver rule; returns the `CheckResult`."""
        # imported here: the receiver checker serves in-process apps with this module's
        # MockServerThread, so importing it at the top would be a cycle
        from .contract.receiver_checker import check_receiver

        return check_receiver(target, secret=secret, **options)

    def problems(self) -> tuple[list[dict[str, Any]], list[BaseException]]:
        return self.violations, self.server.server_errors()

    def check(self) -> None:
        """Raise when the server raised inside its thread (`ServerError`) or the code under
        test broke the contract (`ContractViolation`, with the report)."""
        __tracebackhide__ = True
        violations, errors = self.problems()
        if errors:
            raise ServerError(errors)
        if violations:
            raise ContractViolation.from_server(violations, self.requests)


class PlangrepWebhookReceiver(WebhookReceiver):
    """The webhook issue's `WebhookReceiver` plus `latest(job_id)`, so it can be handed to the
    reference client as its webhook inbox (`client.wait(job_id, events=receiver)`)."""

    def latest(self, job_id: str) -> Mapping[str, Any] | None:
        """The `data` object of the newest verified event (highest `sequence`) of a job."""
        newest: Mapping[str, Any] | None = None
        for event in self.events_for(job_id):
            data = event.payload.get("data")
            if isinstance(data, Mapping) and (
                newest is None or int(data.get("sequence", 0)) > int(newest.get("sequence", 0))
            ):
                newest = data
        return newest
