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
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from .app import PUBLIC_PREFIX, create_app
from .config import MockConfig
from .state import STATE_KEY, MockState

__all__ = ["MockServerThread", "ServerError"]

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
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        self._runner = runner
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        # the bound socket tells which port 0 became
        sockets = getattr(site._server, "sockets", None) or ()
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

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
