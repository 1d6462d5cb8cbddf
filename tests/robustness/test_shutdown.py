"""Shutdown (issue 8, item 5): SIGTERM to `plangrep-mock serve` with requests in flight and
webhook deliveries pending. It exits 0 within 2 s, prints no traceback, and answers the requests
it was serving.

Two kinds of request are in flight when the signal arrives: a `POST /projects` whose body the
client sends half of before the signal and the rest once the server says it is stopping (so
the request is certainly mid-way), and GETs held by an API latency fault (the test waits until
the fault registry says each was taken). The deliveries go to a receiver that never answers, so
they are in flight (10 s webhook timeout) or queued behind them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.bench_storm import HostileReceivers

from .support import API, Api

KEY = "pgk_shutdown"
LATENCY = 0.3  # below serve's 0.5 s grace for handlers in flight
GETS_IN_FLIGHT = 4


class Serve:
    """`plangrep-mock serve` whose stderr is read line by line as it comes (so the test can wait
    for "stopping" on an event, not a sleep)."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PLANGREP_MOCK_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--clock", "manual",
             "--polling", "off", "--api-key", KEY],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )  # fmt: skip
        self.stderr: list[str] = []
        self.stopping = threading.Event()
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        assert self.proc.stdout is not None
        base = ""
        for line in self.proc.stdout:
            if "Plangrep API at " in line:
                base = line.split("Plangrep API at ", 1)[1].strip()
                break
        assert base, f"serve did not start: {''.join(self.stderr)}"
        self.url = base.removesuffix(API)
        self.port = int(self.url.rsplit(":", 1)[1])

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            if "stopping" in line:
                self.stopping.set()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def serve() -> Iterator[Serve]:
    s = Serve()
    try:
        yield s
    finally:
        s.close()


def _half_sent_post(port: int, body: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        f"POST {API}/projects HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {KEY}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    sock.sendall(head + body[: len(body) // 2])
    return sock


def _read_response(sock: socket.socket) -> tuple[int, dict[str, Any]]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed without an answer: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed mid-answer"
        rest += chunk
    return int(head.split(b" ", 2)[1]), json.loads(rest[:length])


def test_sigterm_answers_what_is_in_flight_and_exits_0_promptly(serve: Serve) -> None:
    api = Api(serve, KEY)
    with HostileReceivers() as hostile:
        project = api.ready_project("shutdown")
        jobs = []
        for _ in range(6):
            job = api.create_job(project, webhookUrl=hostile.urls["black_hole"])["job"]["id"]
            api.upload(job)
            api.complete(job)
            jobs.append(job)
        api.advance(10)
        deliveries = api.ok(api.control("GET", "/webhooks/deliveries"))["deliveries"]
        assert len(deliveries) >= 20
        assert any(not d["attempts"] for d in deliveries)  # in flight or queued: none finished

        # GETs held in flight by a latency fault
        api.ok(
            api.control(
                "POST",
                "/faults",
                json={"target": "api", "mode": "latency", "seconds": LATENCY,
                      "count": GETS_IN_FLIGHT},
            ),
            201,
        )  # fmt: skip
        answers: list[Any] = []

        def get() -> None:
            try:
                answers.append(api.api("GET", f"/jobs/{jobs[0]}", timeout=10).status_code)
            except Exception as exc:
                answers.append(repr(exc))

        getters = [threading.Thread(target=get) for _ in range(GETS_IN_FLIGHT)]
        for t in getters:
            t.start()
        deadline = time.monotonic() + 10  # a bound on a hang, not a speed check
        while time.monotonic() < deadline:  # until every GET has taken its latency
            faults = api.ok(api.control("GET", "/faults"))["faults"]
            if faults[0]["applied"] == GETS_IN_FLIGHT:
                break
        assert faults[0]["applied"] == GETS_IN_FLIGHT, faults
        body = json.dumps({"name": "sent across the shutdown"}).encode()
        sock = _half_sent_post(serve.port, body)

        sent = time.monotonic()
        serve.proc.send_signal(signal.SIGTERM)
        assert serve.stopping.wait(2), "serve did not say it is stopping"
        sock.sendall(body[len(body) // 2 :])
        status, answer = _read_response(sock)
        sock.close()
        rc = serve.proc.wait(timeout=max(0.0, 2.0 - (time.monotonic() - sent)))
        took = time.monotonic() - sent
        for t in getters:
            t.join(10)

    assert rc == 0
    assert (status, answer["project"]["name"]) == (202, "sent across the shutdown"), answer
    assert answers == [200] * GETS_IN_FLIGHT
    stderr = "".join(serve.stderr)
    assert "Traceback" not in stderr, stderr
    print(f"\nexit 0 {took:.2f} s after SIGTERM; stderr: {stderr.strip()!r}")
