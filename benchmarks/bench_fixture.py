"""Start + stop of the `plangrep_mock` pytest fixture against pytest-httpserver's server.

The fixture side runs what the fixture runs per test: `PlangrepMock(options).start()` (the app,
a background thread with its own loop, a TCP site on port 0, the ready project) and `.stop()`.
The baseline is pytest-httpserver's `HTTPServer(port=0).start()` and `.stop()`, what its fixture
does when a test needs a server of its own. Each figure is the median of 20 after one warm-up
(imports excluded). Runs in a child process: `python -m benchmarks.bench_fixture [N]` prints JSON.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
import time
from collections.abc import Callable

from benchmarks.child import run_child

__all__ = ["measure_start_stop", "time_fixture", "time_httpserver"]


def _median_ms(once: Callable[[], None], n: int) -> float:
    once()  # warm-up: imports, first thread, first socket
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        once()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def time_fixture(n: int = 20) -> tuple[float, str]:
    """Median ms of one fixture start + stop, and what was measured."""
    try:
        from mock_server.testing import MockOptions, PlangrepMock
    except ImportError:
        return _time_bare_app(n), "create_app + AppRunner + TCPSite in a thread"

    def once() -> None:
        mock = PlangrepMock(MockOptions()).start()
        mock.stop()

    return _median_ms(once, n), "PlangrepMock(MockOptions()).start() + stop()"


def _time_bare_app(n: int) -> float:
    """Before the fixture existed: the app in a background thread, started and cleaned up."""
    import asyncio
    import threading

    from aiohttp import web

    from mock_server import create_app
    from mock_server.config import MockConfig

    def once() -> None:
        ready = threading.Event()
        holder: dict[str, object] = {}

        def serve() -> None:
            loop = asyncio.new_event_loop()

            async def start() -> web.AppRunner:
                runner = web.AppRunner(create_app(MockConfig(clock="manual", port=0)))
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", 0).start()
                return runner

            runner = loop.run_until_complete(start())
            holder["loop"] = loop
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        ready.wait()
        loop = holder["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        loop.call_soon_threadsafe(loop.stop)
        t.join()

    return _median_ms(once, n)


def time_httpserver(n: int = 20) -> float:
    from pytest_httpserver import HTTPServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    def once() -> None:
        server = HTTPServer(host="127.0.0.1", port=0)
        server.start()
        server.stop()

    return _median_ms(once, n)


def measure_start_stop(n: int = 20) -> dict[str, object]:
    """Both figures, measured in a fresh child process."""
    data: dict[str, object] = run_child([sys.executable, "-m", "benchmarks.bench_fixture", str(n)])
    return data


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    fixture_ms, what = time_fixture(count)
    print(
        json.dumps(
            {
                "fixture_start_stop_ms": fixture_ms,
                "fixture_measured": what,
                "pytest_httpserver_start_stop_ms": time_httpserver(count),
            }
        )
    )
