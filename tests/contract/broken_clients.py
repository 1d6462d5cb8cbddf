"""A catalogue of clients an integrator might write first, each wrong in one way, with the rule
`check_client` must catch it by; and two right ones (the docs-style loop, an exactly-5 s loop).

Every client has check_client's shape: `client(base_url, api_key, job_id, sleep) -> job`.
They use `requests`, as Plangrep's own example does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

TERMINAL = {"completed", "completed_with_errors", "failed", "cancelled", "expired"}
Job = dict[str, Any]
Sleep = Callable[[float], None]


def _get(base_url: str, api_key: str, job_id: str) -> requests.Response:
    return requests.get(
        f"{base_url}/jobs/{job_id}", headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )


def _post(base_url: str, api_key: str, path: str) -> requests.Response:
    return requests.post(
        f"{base_url}{path}", headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )


# --------------------------------------------------------------------------- right


def docs_style_loop(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Plangrep's example client: GET, return at a terminal status, else sleep 15 s;
    TimeoutError after 600 s (counted in sleeps, so it works on virtual time)."""
    for _ in range(600 // 15 + 1):
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL:
            return job
        sleep(15)
    raise TimeoutError(f"job {job_id} still {job['status']} after 600 s")


def exactly_5s_loop(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Polls at Plangrep's floor, exactly 5 s, honouring Retry-After and backing off on 5xx."""
    waited = 0.0
    while waited < 900:
        resp = _get(base_url, api_key, job_id)
        delay = 5.0
        if resp.status_code == 200:
            job: Job = resp.json()["job"]
            if job["status"] in TERMINAL:
                return job
        elif resp.status_code == 429 or resp.status_code >= 500:
            delay = max(5.0, float(resp.headers.get("Retry-After", "10")))
        else:
            resp.raise_for_status()
        sleep(delay)
        waited += delay
    raise TimeoutError(job_id)


# --------------------------------------------------------------------------- wrong


def polls_every_2s(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Wrong interval: 2 s between polls."""
    while True:
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL:
            return job
        sleep(2)


def forgets_to_sleep(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """A busy loop: no wait at all between polls."""
    while True:
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL:
            return job


def ignores_retry_after(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Retries a 429/503 after 5 s, whatever Retry-After says."""
    for _ in range(200):
        resp = _get(base_url, api_key, job_id)
        if resp.status_code == 200 and resp.json()["job"]["status"] in TERMINAL:
            job: Job = resp.json()["job"]
            return job
        sleep(5 if resp.status_code in (429, 503) else 15)
    raise TimeoutError(job_id)


def retries_errors_at_once(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """On a 5xx it tries again after one second."""
    for _ in range(200):
        resp = _get(base_url, api_key, job_id)
        if resp.status_code >= 500:
            sleep(1)
            continue
        job: Job = resp.json()["job"]
        if job["status"] in TERMINAL:
            return job
        sleep(15)
    raise TimeoutError(job_id)


def only_completed_or_failed_end_a_job(
    base_url: str, api_key: str, job_id: str, sleep: Sleep
) -> Job:
    """A wrong idea of which statuses end a job: it keeps polling a cancelled, expired or
    completed_with_errors job."""
    for _ in range(40):
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in ("completed", "failed"):
            return job
        sleep(15)
    raise TimeoutError(job_id)


def blocked_ends_a_job(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Takes blocked_insufficient_credits for an end and returns it."""
    for _ in range(40):
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL or job["status"] == "blocked_insufficient_credits":
            return job
        sleep(15)
    raise TimeoutError(job_id)


def gives_up_after_a_minute(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Gives up too early: TimeoutError after 60 s."""
    for _ in range(4):
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL:
            return job
        sleep(15)
    raise TimeoutError(f"{job_id} took longer than a minute")


def returns_the_first_answer(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Does not wait at all: returns whatever the first poll said."""
    job: Job = _get(base_url, api_key, job_id).json()["job"]
    return job


def raises_on_failed(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Turns a failed job into an exception instead of returning it."""
    for _ in range(40):
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] == "failed":
            raise RuntimeError(f"job {job_id} failed: {job['error']}")
        if job["status"] in TERMINAL:
            return job
        sleep(15)
    raise TimeoutError(job_id)


def fragile_error_handling(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Reads `["job"]` from every answer: a transient 503 body has none (KeyError)."""
    for _ in range(40):
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL:
            return job
        sleep(15)
    raise TimeoutError(job_id)


def resumes_whenever_not_done(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Reacts with the wrong call: sends resume whenever the job is not done yet."""
    for _ in range(40):
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL:
            return job
        if job["status"] != "processing":
            _post(base_url, api_key, f"/jobs/{job_id}/resume")
        sleep(15)
    raise TimeoutError(job_id)


def cancels_what_did_not_complete(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Cleans up by cancelling every job that did not complete, terminal or not."""
    for _ in range(40):
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL:
            if job["status"] != "completed":
                _post(base_url, api_key, f"/jobs/{job_id}/cancel")
            return job
        sleep(15)
    raise TimeoutError(job_id)


def waits_forever(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """No timeout at all: a job blocked for credits that nobody tops up is polled for days."""
    while True:
        job: Job = _get(base_url, api_key, job_id).json()["job"]
        if job["status"] in TERMINAL:
            return job
        sleep(15)


def waits_for_the_result_instead(base_url: str, api_key: str, job_id: str, sleep: Sleep) -> Job:
    """Spins on GET /jobs/{id}/result (409 until completed) without ever sleeping."""
    while True:
        resp = requests.get(
            f"{base_url}/jobs/{job_id}/result",
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=30,
        )
        if resp.status_code == 200:
            job: Job = resp.json()["job"]
            return job


@dataclass(frozen=True)
class Broken:
    client: Callable[[str, str, str, Sleep], Job]
    rule: str
    faults: bool = False


CATALOGUE: list[Broken] = [
    Broken(polls_every_2s, "polling_too_fast"),
    Broken(forgets_to_sleep, "polling_too_fast"),
    Broken(ignores_retry_after, "polling_too_fast", faults=True),
    Broken(retries_errors_at_once, "polling_too_fast", faults=True),
    Broken(only_completed_or_failed_end_a_job, "poll_after_terminal"),
    Broken(blocked_ends_a_job, "wrong_result"),
    Broken(gives_up_after_a_minute, "wrong_result"),
    Broken(returns_the_first_answer, "wrong_result"),
    Broken(raises_on_failed, "wrong_result"),
    Broken(fragile_error_handling, "wrong_result", faults=True),
    Broken(resumes_whenever_not_done, "resume_not_blocked"),
    Broken(cancels_what_did_not_complete, "cancel_not_cancellable"),
    Broken(waits_forever, "unbounded"),
    Broken(waits_for_the_result_instead, "unbounded"),
]
