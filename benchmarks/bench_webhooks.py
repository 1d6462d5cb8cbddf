"""Signed webhook deliveries per second to a local aiohttp receiver, over real HTTP.

The receiver runs in a separate process (a minimal aiohttp app answering 204), so the figure is the
mock's side: render the Job, serialize once, sign with `standardwebhooks`, POST, log the attempt.
The timed span starts before the first job transition and ends when every event is delivered.

    python -m benchmarks.bench_webhooks [N]
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

__all__ = ["measure_webhook_deliveries_per_s"]

_RECEIVER = r"""
import sys
from aiohttp import web

async def hook(request):
    await request.read()
    return web.Response(status=204)

app = web.Application()
app.router.add_post("/hook", hook)

runner = web.AppRunner(app, access_log=None)

async def main():
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    import asyncio
    await asyncio.Event().wait()

import asyncio
asyncio.run(main())
"""

_STATUSES_PER_JOB = 5  # happy: awaiting_uploads, uploading, preflighting, processing, completed


async def _run(n: int, url: str) -> float:
    from mock_server.config import MockConfig
    from mock_server.state import MockState
    from mock_server.webhooks import new_secret
    from statemachine import FileSpec

    state = MockState(MockConfig(clock="manual", credits=10**12))
    engine = state.engine
    dispatcher = state.webhooks  # the server's own dispatcher, as `serve` runs it
    await dispatcher.start()
    try:
        project, _ = engine.create_project("org_bench", "bench")
        engine.advance(60)
        jobs_needed = -(-n // _STATUSES_PER_JOB)
        started = time.perf_counter()
        for _ in range(jobs_needed):
            job = engine.create_job(project, webhook_url=url, webhook_secret=new_secret())
            engine.add_files(job, [FileSpec("plan.pdf", 250_000, classification="plans")])
            engine.complete_uploads(job)
            await asyncio.sleep(0)  # let sends start while events are produced
        engine.advance(3600)
        if not await dispatcher.drain(600):
            raise RuntimeError("webhook deliveries did not finish within 600 s")
        elapsed = time.perf_counter() - started
        deliveries = dispatcher.deliveries()
        delivered = sum(1 for d in deliveries if d.state == "delivered")
        if delivered != len(deliveries):
            failed = [d.attempts[-1].error or d.attempts[-1].http_status for d in deliveries
                      if d.state != "delivered"][:5]  # fmt: skip
            raise RuntimeError(f"{len(deliveries) - delivered} deliveries failed, e.g. {failed}")
        return delivered / elapsed
    finally:
        await dispatcher.close()


def measure_webhook_deliveries_per_s(n: int = 2000) -> float:
    """Signed deliveries per second (about `n` events, rounded up to whole jobs)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    proc = subprocess.Popen(
        [sys.executable, "-c", _RECEIVER],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(f"the benchmark receiver did not start (said {line!r})")
        url = f"http://127.0.0.1:{line}/hook"
        return asyncio.run(_run(n, url))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"webhook_deliveries_per_s: {measure_webhook_deliveries_per_s(count):.0f}")
