"""The HTTP servers the load generator hits, each run as its own process:

    python -m benchmarks.targets bare JOB_JSON_FILE API_KEY
    python -m benchmarks.targets bare-list LIST_JSON_FILE API_KEY PROJECT_ID [encoded]
    python -m benchmarks.targets httpserver JOB_JSON_FILE API_KEY
    python -m benchmarks.targets minimal JOB_JSON_FILE API_KEY [--uvloop]
    python -m benchmarks.targets mock-uvloop SERVE_ARGS...

`bare` is the baseline for the mock's GET /jobs/{jobId}: a minimal aiohttp app that does the same
bearer check (header present, scheme Bearer, a known key, the job belongs to the key's
organisation) and returns the same job JSON with `web.json_response`. `httpserver` serves the same
JSON with pytest-httpserver, as a test suite would (its defaults; werkzeug's per-request logging
off). `minimal` is the floor of aiohttp for this request (benchmarks/instructions.py): one route,
the Authorization header compared with the one expected value, the job's JSON bytes encoded once
at start. `mock-uvloop` is `plangrep-mock serve` on uvloop's event loop. `bare-list` is the
baseline for the mock's GET /projects/{projectId}/sheets: the same bearer check, the project must
be the key's organisation's, then the same list JSON with `web.json_response` (`encoded`: bytes
encoded once). `bare`, `bare-list`, `httpserver` and `minimal` print `port N` once they listen;
serve prints its banner.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

__all__ = [
    "JOB_PATH",
    "SHEETS_PATH",
    "main",
    "make_bare_app",
    "make_bare_list_app",
    "make_minimal_app",
    "run_bare",
    "run_bare_list",
    "run_httpserver",
    "run_mock_uvloop",
]

JOB_PATH = "/api/open/v1/jobs/{jobId}"
SHEETS_PATH = "/api/open/v1/projects/{projectId}/sheets"


def _load(path: str) -> dict[str, Any]:
    body = json.loads(Path(path).read_text(encoding="utf-8"))
    assert isinstance(body, dict) and "job" in body, "expected the body of GET /jobs/{jobId}"
    return body


def make_bare_app(body: dict[str, Any], api_key: str) -> web.Application:
    """The baseline: the same bearer check as the mock's, then the same JSON."""
    job = body["job"]
    keys = {api_key: "org_bench"}  # key -> organisation
    jobs = {job["id"]: ("org_bench", body)}  # job id -> (organisation, body)

    def unauthorized(message: str) -> web.Response:
        return web.json_response(
            {"error": {"code": "unauthorized", "message": message}},
            status=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def get_job(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization")
        if header is None:
            return unauthorized("the Authorization header is missing")
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return unauthorized("send Authorization: Bearer <API key>")
        org = keys.get(token)
        if org is None:
            return unauthorized("this API key is not valid")
        found = jobs.get(request.match_info["jobId"])
        if found is None or found[0] != org:
            return web.json_response(
                {"error": {"code": "job_not_found", "message": "no such job"}}, status=404
            )
        return web.json_response(found[1])

    app = web.Application()
    app.router.add_get(JOB_PATH, get_job)
    return app


def make_minimal_app(body: dict[str, Any], api_key: str) -> web.Application:
    """The floor: what aiohttp itself costs for this request, with the least work of ours."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    expected = f"Bearer {api_key}"

    async def get_job(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != expected:
            return web.Response(status=401)
        return web.Response(body=raw, content_type="application/json")

    app = web.Application()
    app.router.add_get(JOB_PATH, get_job)
    return app


def make_bare_list_app(
    body: dict[str, Any], api_key: str, project_id: str, *, encoded: bool = False
) -> web.Application:
    """The baseline of a project list: the same bearer check, the project's organisation, then
    the same JSON, serialized per request as `web.json_response` does (or, `encoded`, bytes
    serialized once: the stricter baseline)."""
    keys = {api_key: "org_bench"}
    projects = {project_id: "org_bench"}
    raw = json.dumps(body, separators=(",", ":")).encode()

    async def list_sheets(request: web.Request) -> web.Response:
        header = request.headers.get("Authorization")
        scheme, _, token = (header or "").strip().partition(" ")
        org = keys.get(token.strip()) if scheme.lower() == "bearer" else None
        if org is None:
            return web.json_response(
                {"error": {"code": "unauthorized", "message": "send a valid bearer key"}},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if projects.get(request.match_info["projectId"]) != org:
            return web.json_response(
                {"error": {"code": "project_not_found", "message": "no such project"}},
                status=404,
            )
        if encoded:
            return web.Response(body=raw, content_type="application/json")
        return web.json_response(body)

    app = web.Application()
    app.router.add_get(SHEETS_PATH, list_sheets)
    return app


def run_bare_list(list_file: str, api_key: str, project_id: str, *flags: str) -> None:
    body = json.loads(Path(list_file).read_text(encoding="utf-8"))
    _serve(make_bare_list_app(body, api_key, project_id, encoded="encoded" in flags))


def run_bare(job_file: str, api_key: str, *, minimal: bool = False) -> None:
    make = make_minimal_app if minimal else make_bare_app
    _serve(make(_load(job_file), api_key))


def _serve(app: web.Application) -> None:
    """Serve `app` on 127.0.0.1:0, print `port N`, stop at SIGINT or SIGTERM."""

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        print("port", int(runner.addresses[0][1]), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())


def run_httpserver(job_file: str, api_key: str) -> None:
    from pytest_httpserver import HTTPServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    body = _load(job_file)
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request(
        JOB_PATH.replace("{jobId}", body["job"]["id"]),
        method="GET",
        headers={"Authorization": f"Bearer {api_key}"},
    ).respond_with_json(body)
    server.start()
    print("port", server.port, flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(0.5):
        server.clear_log()  # its request log grows by one entry per request
    server.stop()


def run_mock_uvloop(serve_args: list[str]) -> int:
    import uvloop

    from mock_server.cli import main as cli_main

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return cli_main(["serve", *serve_args])


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    kind, rest = argv[0], argv[1:]
    if kind == "bare":
        run_bare(*rest)
        return 0
    if kind == "bare-list":
        run_bare_list(*rest)
        return 0
    if kind == "httpserver":
        run_httpserver(*rest)
        return 0
    if kind == "minimal":
        if "--uvloop" in rest:
            import uvloop

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        run_bare(*[a for a in rest if a != "--uvloop"], minimal=True)
        return 0
    if kind == "mock-uvloop":
        return run_mock_uvloop(rest)
    print(
        f"unknown target {kind!r}; use bare, bare-list, httpserver, minimal or mock-uvloop",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
