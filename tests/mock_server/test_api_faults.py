"""The public API fault modes a whole submission meets (issue 15): `lost_response` (the server
commits, the answer is lost: a 502/504 or a closed connection), `rate_limited` (429 with
Retry-After), `error` with `retryAfter`, and `operation` to aim any API fault at one operation;
through `POST /_mock/faults` and the fixture's `fault()`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from mock_server.testing import SMALL_PDF, MockControlError, MockOptions, PlangrepMock


@pytest.fixture
def mock() -> Iterator[PlangrepMock]:
    m = PlangrepMock(MockOptions(strict=False)).start()
    try:
        yield m
    finally:
        m.stop()


def _auth(mock: PlangrepMock) -> dict[str, str]:
    return {"Authorization": f"Bearer {mock.api_key}"}


def _create(mock: PlangrepMock, **headers: str) -> requests.Response:
    return requests.post(
        f"{mock.base_url}/projects/{mock.project_id}/jobs",
        json={"externalId": "order-7"},
        headers={**_auth(mock), **headers},
        timeout=10,
    )


def _jobs(mock: PlangrepMock) -> list[dict[str, Any]]:
    answer = requests.get(
        f"{mock.base_url}/projects/{mock.project_id}/jobs", headers=_auth(mock), timeout=10
    )
    jobs: list[dict[str, Any]] = answer.json()["jobs"]
    return jobs


def test_lost_response_commits_then_closes_the_connection(mock: PlangrepMock) -> None:
    mock.fault("lost_response", target="api", operation="createJob")
    with pytest.raises(requests.ConnectionError):
        _create(mock)
    (job,) = _jobs(mock)  # the server committed: the job exists
    assert job["externalId"] == "order-7"
    lost = [r for r in mock.requests if r["method"] == "POST"]
    assert [(r["status"], r["errorCode"]) for r in lost] == [(0, "lost_response")]


@pytest.mark.parametrize(("status", "code"), [(502, "bad_gateway"), (504, "gateway_timeout")])
def test_lost_response_can_answer_like_a_gateway(
    mock: PlangrepMock, status: int, code: str
) -> None:
    mock.fault("lost_response", target="api", status=status, operation="createJob")
    answer = _create(mock)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert "may or may not have been processed" in answer.json()["error"]["message"]
    assert len(_jobs(mock)) == 1


def test_a_lost_get_is_not_run(mock: PlangrepMock) -> None:
    """A GET commits nothing: it is not run, so it is no poll for the polling rule."""
    job = mock.create_job()
    mock.fault("lost_response", target="api", operation="getJob")
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{mock.base_url}/jobs/{job['id']}", headers=_auth(mock), timeout=10)
    again = requests.get(f"{mock.base_url}/jobs/{job['id']}", headers=_auth(mock), timeout=10)
    assert again.status_code == 200  # the first poll never counted: no 429 polling_too_fast
    assert mock.violations == []


def test_a_replay_with_the_same_key_recovers_a_lost_create(mock: PlangrepMock) -> None:
    mock.fault("lost_response", target="api", status=504, operation="createJob")
    assert _create(mock, **{"Idempotency-Key": "k1"}).status_code == 504
    again = _create(mock, **{"Idempotency-Key": "k1"})
    assert again.status_code == 202 and again.json()["idempotent"] is True
    assert len(_jobs(mock)) == 1 and mock.violations == []


def test_rate_limited_answers_429_with_retry_after(mock: PlangrepMock) -> None:
    mock.fault("rate_limited", target="api", retryAfter=17)
    answer = _create(mock)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "17"
    assert answer.json()["error"]["code"] == "rate_limited"
    assert _jobs(mock) == []


def test_error_takes_a_retry_after(mock: PlangrepMock) -> None:
    mock.fault("error", target="api", status=503, retryAfter=9)
    answer = _create(mock)
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "9"
    mock.fault("error", target="api", status=500)
    assert "Retry-After" not in _create(mock).headers


def test_operation_aims_a_fault_at_one_operation(mock: PlangrepMock) -> None:
    mock.fault("error", target="api", status=503, operation="completeUploads")
    job = mock.create_job(complete=False)  # create and upload pass the fault by
    done = requests.post(
        f"{mock.base_url}/jobs/{job['id']}/uploads/complete",
        json={},
        headers=_auth(mock),
        timeout=10,
    )
    assert done.status_code == 503
    (fault,) = requests.get(mock.url + "/_mock/faults", timeout=10).json()["faults"]
    assert (fault["operation"], fault["remaining"], fault["applied"]) == ("completeUploads", 0, 1)


def test_an_unknown_operation_is_refused_with_the_known_ones(mock: PlangrepMock) -> None:
    answer = requests.post(
        mock.url + "/_mock/faults",
        json={"target": "api", "mode": "lost_response", "operation": "createJobs"},
        timeout=10,
    )
    err = answer.json()["error"]
    assert answer.status_code == 422 and "createJob" in err["validOperations"]
    assert err["details"] == [{"field": "operation", "message": "not a public operationId"}]
    assert requests.get(mock.url + "/_mock/faults", timeout=10).json()["faults"] == []
    with pytest.raises(MockControlError, match="unknown operation 'createJobs'"):
        mock.fault("rate_limited", target="api", operation="createJobs")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target": "api", "mode": "lost_response", "status": 500}, "status"),
        ({"target": "api", "mode": "rate_limited", "retryAfter": 0}, "retryAfter"),
        ({"target": "api", "mode": "error", "retryAfter": -1}, "retryAfter"),
        ({"target": "api", "mode": "lost_response", "seconds": 3}, "seconds"),
    ],
)
def test_invalid_new_fault_fields_are_named(
    mock: PlangrepMock, body: dict[str, Any], field: str
) -> None:
    answer = requests.post(mock.url + "/_mock/faults", json=body, timeout=10)
    assert answer.status_code == 422
    assert [d["field"] for d in answer.json()["error"]["details"]] == [field]


def test_the_openapi_document_shows_the_new_modes_and_statuses(mock: PlangrepMock) -> None:
    doc = requests.get(mock.url + "/openapi.json", timeout=10).json()
    schemas = doc["components"]["schemas"]
    lost = schemas["ApiLostResponseFaultRequest"]["properties"]
    assert lost["mode"]["const"] == "lost_response"
    operations = next(b for b in lost["operation"]["anyOf"] if b.get("type") == "string")
    assert "createJob" in operations["enum"] and "mockAddFault" not in operations["enum"]
    assert schemas["ApiRateLimitFaultRequest"]["properties"]["mode"]["const"] == "rate_limited"
    create = doc["paths"]["/api/open/v1/projects/{projectId}/jobs"]["post"]["responses"]
    assert {"429", "502", "503", "504"} <= set(create)
    assert "Retry-After" in create["503"]["headers"]


def test_an_upload_retried_with_its_flow_id_after_a_lost_answer_is_stored_once(
    mock: PlangrepMock,
) -> None:
    from mock_server.client import PlangrepClient, PlangrepConnectionError

    client = PlangrepClient(mock.base_url, mock.api_key)
    job = client.create_job(mock.project_id)["job"]
    mock.fault("lost_response", target="api", operation="uploadFiles")
    with pytest.raises(PlangrepConnectionError):
        client.upload_file(job["id"], "a.pdf", SMALL_PDF, flow_id="flow-1")
    again = client.upload_file(job["id"], "a.pdf", SMALL_PDF, flow_id="flow-1")
    assert again["status"] == "skipped" and len(again["job"]["files"]) == 1
