"""`check_receiver` probes per second against a local aiohttp receiver.

The receiver is an integrator's: an aiohttp app verifying with the `standardwebhooks` library,
deduplicating by webhook-id, in its own process (`python -m benchmarks.bench_receiver serve
SECRET` prints `port N`). The checker runs in another child process (`python -m
benchmarks.bench_receiver [MAX_EXAMPLES]` prints JSON): the figure is probes over the campaign's
wall time (event generation, hypothesis's draws, signing, HTTP and judging included; the
receiver's start excluded), fixed seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

from benchmarks.child import REPO, run_child

__all__ = ["make_receiver", "measure_receiver", "time_receiver"]


def make_receiver(secret: str) -> Any:
    """A conforming receiver: verify first (any error: 400), then dedupe, then 2xx."""
    from aiohttp import web
    from standardwebhooks.webhooks import Webhook

    from mock_server.webhooks.signing import to_standard_secret

    hook = Webhook(to_standard_secret(secret))
    seen: set[str] = set()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            hook.verify(body, dict(request.headers))
        except Exception:
            return web.json_response({"error": "invalid delivery"}, status=400)
        seen.add(request.headers["webhook-id"])
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=8 * 1024 * 1024)
    app.router.add_post("/webhooks", handle)
    return app


def _serve(secret: str) -> None:
    import asyncio

    from aiohttp import web

    async def main() -> None:
        runner = web.AppRunner(make_receiver(secret), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(f"port {runner.addresses[0][1]}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def time_receiver(max_examples: int = 100, seed: int = 1) -> dict[str, float]:
    from mock_server.contract import run_receiver_check
    from mock_server.webhooks.signing import new_secret

    secret = new_secret()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_receiver", "serve", secret],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
        t0 = time.perf_counter()
        result = run_receiver_check(
            f"http://127.0.0.1:{port}/webhooks",
            secret=secret,
            max_examples=max_examples,
            seed=seed,
        )
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if not result.passed:
        raise RuntimeError("the benchmark's receiver broke a rule: " + str(result.failed_rules))
    probes = int(result.stats["probes"])
    return {
        "probes": probes,
        "seconds": result.seconds,
        "probes_per_s": probes / result.seconds,
        "call_probes_per_s": probes / wall,
    }


def measure_receiver(max_examples: int = 100) -> dict[str, float]:
    data: dict[str, float] = run_child(
        [sys.executable, "-m", "benchmarks.bench_receiver", str(max_examples)]
    )
    return data


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "serve":
        _serve(sys.argv[2])
    else:
        print(json.dumps(time_receiver(int(sys.argv[1]) if len(sys.argv) > 1 else 100)))
