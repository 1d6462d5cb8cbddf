"""Must show (issue 3): a polling loop shaped like the example in Plangrep's docs -- `requests`,
sleep 15 s between polls, stop at the first terminal status, TimeoutError after 600 s -- changed
only in its base URL and a sleep scaled by the speed, runs against
`plangrep-mock serve --clock realtime --speed 100` to the scenario's terminal status with no
violation recorded."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from .harness import ServeProcess

SPEED = 100.0
KEY = "pgk_live_docs_example"
TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled", "expired"}


def docs_style_wait(base_url: str, job_id: str, api_key: str, timeout: float = 600) -> Any:
    """The docs' loop; edited only: base_url for plangrep.com, sleep and timeout / SPEED."""
    headers = {"Authorization": f"Bearer {api_key}"}
    began = time.time()
    while time.time() - began < timeout / SPEED:
        job = requests.get(f"{base_url}/jobs/{job_id}", headers=headers, timeout=10).json()["job"]
        print(f"Job status: {job['status']}")
        if job["status"] in TERMINAL:
            return job
        time.sleep(15 / SPEED)
    raise TimeoutError("Job did not complete in time")


def _start_job(base: str, scenario: str) -> str:
    auth = {"Authorization": f"Bearer {KEY}"}
    project = requests.post(
        f"{base}/projects", json={"name": scenario}, headers=auth, timeout=10
    ).json()["project"]
    while project["status"] != "ready":  # the docs: poll the project every 10 s
        time.sleep(10 / SPEED)
        project = requests.get(
            f"{base}/projects/{project['id']}", headers=auth, timeout=10
        ).json()["project"]
    r = requests.post(
        f"{base}/projects/{project['id']}/jobs",
        json={"externalId": "docs-loop"},
        headers={**auth, "X-Mock-Scenario": scenario},
        timeout=10,
    )
    job_id: str = r.json()["job"]["id"]
    files = {
        "metadata": (None, '{"files": [{"partName": "file0", "fileName": "A101.pdf", '
        '"contentType": "application/pdf", "classification": "plans"}]}'),
        "file0": ("A101.pdf", b"%PDF-1.7 " + b"0" * 250_000, "application/pdf"),
    }  # fmt: skip
    assert requests.post(f"{base}/jobs/{job_id}/files", files=files, headers=auth, timeout=10).ok
    done = requests.post(
        f"{base}/jobs/{job_id}/uploads/complete", json={}, headers=auth, timeout=10
    )
    assert done.status_code == 202
    return job_id


@pytest.mark.parametrize(
    ("scenario", "status"),
    [("happy", "completed"), ("slow", "completed"), ("with_errors", "completed_with_errors")],
)
def test_docs_polling_loop_reaches_terminal_with_no_violation(scenario: str, status: str) -> None:
    with ServeProcess("--port", "0", "--clock", "realtime", "--speed", str(int(SPEED))) as p:
        job_id = _start_job(p.base, scenario)
        job = docs_style_wait(p.base, job_id, KEY)
        assert job["status"] == status
        violations = requests.get(p.url + "/_mock/violations", timeout=10).json()["violations"]
        assert violations == []
        polls = [
            r
            for r in requests.get(p.url + "/_mock/requests", timeout=10).json()["requests"]
            if r["method"] == "GET" and r["jobId"] == job_id
        ]
        assert polls and all(r["status"] == 200 for r in polls)
        assert p.stop() == 0
