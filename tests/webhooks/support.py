"""Helpers for the webhook tests: an engine + dispatcher + receiver harness and hostile servers."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

import aiohttp
from aiohttp import web

from mock_server.webhooks import WebhookDispatcher, WebhookReceiver, new_message_id, new_secret
from statemachine import Clock, Engine, FileSpec
from statemachine.engine import Job

T = TypeVar("T")

# A virtual origin far from the wall clock: signatures must not depend on virtual time.
ORIGIN = 1_700_000_000.0
HAPPY = [
    "awaiting_uploads",
    "uploading",
    "preflighting",
    "processing",
    "completed",
]


def arun(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run one async test body; the bound only turns a hang into a failure."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def render(job: Job, status: str) -> dict[str, Any]:
    """A stand-in for serialize.job_json: enough of the Job object for the tests."""
    return {"id": job.id, "status": status, "externalId": job.external_id}


def secret_of(job: Job) -> str:
    assert job.webhook_secret is not None
    secret: str = job.webhook_secret
    return secret


class Harness:
    """An engine on a manual clock, a started dispatcher, and a running receiver."""

    def __init__(self, engine: Engine, dispatcher: WebhookDispatcher, receiver: WebhookReceiver):
        self.engine = engine
        self.dispatcher = dispatcher
        self.receiver = receiver
        project, _ = engine.create_project("org_test", "webhooks")
        engine.advance(60)  # the project becomes ready
        self.project = project

    def job(self, *, url: str | None = None, register: bool = True, **kwargs: Any) -> Job:
        secret = new_secret()
        job = self.engine.create_job(
            self.project,
            webhook_url=url or self.receiver.url,
            webhook_secret=secret,
            **kwargs,
        )
        if register:
            self.receiver.register(job.id, secret)
        return job

    def upload_and_complete(self, job: Job) -> None:
        self.engine.add_files(job, [FileSpec("plan.pdf", 250_000, classification="plans")])
        self.engine.complete_uploads(job)

    def run_to_end(self, job: Job) -> None:
        self.upload_and_complete(job)
        self.engine.advance(3600)

    async def drain(self, timeout: float = 20.0) -> None:
        assert await self.dispatcher.drain(timeout), "webhook deliveries did not drain"


@contextlib.asynccontextmanager
async def harness(origin: float = ORIGIN, **dispatcher_kwargs: Any) -> AsyncIterator[Harness]:
    engine = Engine(Clock("manual", origin=origin), seed=7)
    dispatcher = WebhookDispatcher(engine, render, **dispatcher_kwargs)
    await dispatcher.start()
    receiver = WebhookReceiver()
    await receiver.start()
    try:
        yield Harness(engine, dispatcher, receiver)
    finally:
        await dispatcher.close()
        await receiver.stop()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@contextlib.asynccontextmanager
async def black_hole() -> AsyncIterator[str]:
    """Accepts connections, reads, never answers."""
    writers: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(Exception):
            while await reader.read(65536):
                pass

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        for w in writers:
            w.close()
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)


@contextlib.asynccontextmanager
async def fixed_answer(
    status: int, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    """An HTTP server answering every request with `status`; yields its URL and what it got
    (headers, raw body), verifying nothing."""
    seen: list[tuple[dict[str, str], bytes]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append(({k.lower(): v for k, v in request.headers.items()}, body))
        return web.Response(status=status, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/hook", seen
    finally:
        await runner.cleanup()


class MockServer:
    """`create_app` with webhooks, served on 127.0.0.1:0 in the test's own loop."""

    def __init__(self, app: web.Application, session: Any, url: str) -> None:
        self.app = app
        self.http = session
        self.url = url
        self.api = url + "/api/open/v1"
        self.headers = {"Authorization": "Bearer pgk_live_webhooks"}

    async def call(
        self, method: str, path: str, body: Any = None, *, public: bool = True, **kw: Any
    ) -> tuple[int, Any]:
        url = (self.api if public else self.url) + path
        headers = self.headers if public else {}
        async with self.http.request(method, url, json=body, headers=headers, **kw) as resp:
            return resp.status, await resp.json()

    async def advance(self, seconds: float) -> None:
        status, _ = await self.call(
            "POST", "/_mock/clock/advance", {"seconds": seconds}, public=False
        )
        assert status == 200

    async def ready_project(self) -> str:
        status, body = await self.call("POST", "/projects", {"name": new_message_id()})
        assert status == 202, body
        await self.advance(10)
        return str(body["project"]["id"])

    async def create_job(self, project_id: str, webhook_url: str | None) -> tuple[str, str]:
        payload = {"webhookUrl": webhook_url} if webhook_url else {}
        status, body = await self.call("POST", f"/projects/{project_id}/jobs", payload)
        assert status == 202, body
        return body["job"]["id"], body["webhookSigningSecret"]

    async def upload_and_complete(self, job_id: str) -> None:
        form = aiohttp.FormData()
        form.add_field(
            "metadata",
            json.dumps({"files": [{"partName": "file0", "fileName": "plan.pdf",
                                   "contentType": "application/pdf"}]}),
        )  # fmt: skip
        form.add_field(
            "file0", b"%PDF-1.4 " + b"x" * 2000, filename="plan.pdf",
            content_type="application/pdf",
        )  # fmt: skip
        async with self.http.post(
            f"{self.api}/jobs/{job_id}/files", data=form, headers=self.headers
        ) as resp:
            assert resp.status == 200, await resp.text()
        status, body = await self.call("POST", f"/jobs/{job_id}/uploads/complete", {})
        assert status == 202, body


@contextlib.asynccontextmanager
async def mock_server(**config: Any) -> AsyncIterator[MockServer]:
    from mock_server import MockConfig, create_app

    app = create_app(MockConfig(clock="manual", **config))
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with aiohttp.ClientSession() as session:
            yield MockServer(app, session, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()
