"""How to check your own wait-for-job function against Plangrep's contract with hypothesis.

`check_client(fn)` runs `fn(base_url, api_key, job_id, sleep)` against an in-process mock, once
per generated server behaviour (every branch of the job machine, blocks and top-ups, cancels,
expiry; with `faults=True` also 429/500/503 and latency), and raises `ContractViolation` with a
shrunk example when a rule breaks. Use the `sleep` it passes: it moves virtual time.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_server.client import wait_for_job
from mock_server.contract import ContractViolation, check_client

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled", "expired"}


def my_wait_for_job(base_url: str, api_key: str, job_id: str, sleep: Any) -> dict[str, Any]:
    """Plangrep's example client, with its sleep injected."""
    for _ in range(40):
        job: dict[str, Any] = requests.get(
            f"{base_url}/jobs/{job_id}", headers={"Authorization": f"Bearer {api_key}"}
        ).json()["job"]
        if job["status"] in TERMINAL:
            return job
        sleep(15)
    raise TimeoutError(job_id)


def test_my_client_keeps_the_contract() -> None:
    report = check_client(my_wait_for_job, max_examples=30, seed=1)
    assert report.coverage.missing()["transitions"] == []  # every edge of the machine was hit


def test_the_reference_client_survives_faults() -> None:
    check_client(wait_for_job, max_examples=30, seed=1, faults=True)


def test_what_a_violation_looks_like() -> None:
    def impatient(base_url: str, api_key: str, job_id: str, sleep: Any) -> dict[str, Any]:
        for _ in range(40):
            job: dict[str, Any] = requests.get(
                f"{base_url}/jobs/{job_id}", headers={"Authorization": f"Bearer {api_key}"}
            ).json()["job"]
            if job["status"] in ("completed", "failed"):  # forgets three terminal statuses
                return job
            sleep(15)
        raise TimeoutError(job_id)

    with pytest.raises(ContractViolation) as info:
        check_client(impatient, max_examples=30, seed=1)
    assert info.value.rule == "poll_after_terminal"
    assert "was polled again" in str(info.value)
