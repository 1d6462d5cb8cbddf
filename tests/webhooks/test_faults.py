"""The fault registry: validation of `POST /_mock/faults` bodies and how faults are taken."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.faults import (
    API_FAULT_MODES,
    WEBHOOK_FAULT_MODES,
    FaultRegistry,
    FaultSpecError,
)


def test_every_documented_webhook_mode_is_known() -> None:
    assert set(WEBHOOK_FAULT_MODES) == {
        "drop",
        "duplicate",
        "delay",
        "reorder",
        "wrong_secret",
        "tampered_body",
        "stale_timestamp",
        "future_timestamp",
        "malformed_signature",
        "missing_header",
        "rotated_secret",
    }
    # issue 15 added rate_limited and lost_response (the whole-workflow contract kit)
    assert set(API_FAULT_MODES) == {"error", "latency", "rate_limited", "lost_response"}


@pytest.mark.parametrize("mode", WEBHOOK_FAULT_MODES)
def test_each_webhook_mode_registers(mode: str) -> None:
    reg = FaultRegistry()
    fault = reg.add({"target": "webhooks", "mode": mode})
    view = fault.as_json()
    assert view["id"].startswith("flt_")
    assert (view["mode"], view["count"], view["remaining"], view["applied"]) == (mode, 1, 1, 0)


def test_unknown_target_lists_the_valid_targets() -> None:
    with pytest.raises(FaultSpecError) as info:
        FaultRegistry().add({"target": "dns", "mode": "drop"})
    err = info.value
    assert "unknown fault target 'dns'" in err.message
    assert "webhooks, api" in err.message
    assert err.details == [{"field": "target", "message": "must be one of: webhooks, api"}]
    assert set(err.valid["validTargets"]) == {"webhooks", "api"}


def test_unknown_mode_lists_the_valid_modes_of_that_target() -> None:
    with pytest.raises(FaultSpecError) as info:
        FaultRegistry().add({"target": "webhooks", "mode": "explode"})
    assert "unknown fault mode 'explode' for target 'webhooks'" in info.value.message
    assert info.value.valid["validModes"] == list(WEBHOOK_FAULT_MODES)
    with pytest.raises(FaultSpecError) as info:
        FaultRegistry().add({"target": "api", "mode": "drop"})
    assert info.value.valid["validModes"] == ["error", "latency", "rate_limited", "lost_response"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"target": "webhooks", "mode": "drop", "count": 0}, "count"),
        ({"target": "webhooks", "mode": "drop", "count": "3"}, "count"),
        ({"target": "webhooks", "mode": "drop", "probability": 1.5}, "probability"),
        ({"target": "webhooks", "mode": "drop", "probability": float("nan")}, "probability"),
        ({"target": "webhooks", "mode": "delay", "seconds": -1}, "seconds"),
        ({"target": "webhooks", "mode": "drop", "seconds": 5}, "seconds"),
        ({"target": "webhooks", "mode": "drop", "colour": "red"}, "colour"),
        ({"target": "api", "mode": "error", "status": 502}, "status"),
        ({"target": "api", "mode": "error", "jobId": "job_x"}, "jobId"),
        ({"target": "api", "mode": "latency"}, "seconds"),
        ({"target": "api", "mode": "latency", "seconds": 0}, "seconds"),
        ({"target": "api", "mode": "latency", "seconds": 3600}, "seconds"),
    ],
)
def test_invalid_fields_are_named(body: dict[str, Any], field: str) -> None:
    with pytest.raises(FaultSpecError) as info:
        FaultRegistry().add(body)
    assert [d["field"] for d in info.value.details] == [field]


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(FaultSpecError, match="JSON object"):
        FaultRegistry().add(["drop"])


def test_seconds_default_per_mode() -> None:
    reg = FaultRegistry()
    assert reg.add({"target": "webhooks", "mode": "delay"}).seconds == 30.0
    assert reg.add({"target": "webhooks", "mode": "stale_timestamp"}).seconds == 600.0
    assert reg.add({"target": "webhooks", "mode": "future_timestamp", "seconds": 90}).seconds == 90
    assert reg.add({"target": "webhooks", "mode": "drop"}).seconds is None


def test_count_is_consumed_per_event_then_the_fault_is_spent() -> None:
    reg = FaultRegistry()
    reg.add({"target": "webhooks", "mode": "drop", "count": 2})
    assert [h.mode for h in reg.take_webhook_faults("job_a")] == ["drop"]
    assert [h.mode for h in reg.take_webhook_faults("job_b")] == ["drop"]
    assert reg.take_webhook_faults("job_a") == []
    (fault,) = reg.faults()
    assert (fault.remaining, fault.applied) == (0, 2)
    assert not reg.active()


def test_job_filter() -> None:
    reg = FaultRegistry()
    reg.add({"target": "webhooks", "mode": "drop", "jobId": "job_b"})
    assert reg.take_webhook_faults("job_a") == []
    assert [h.mode for h in reg.take_webhook_faults("job_b")] == ["drop"]


def test_several_faults_can_hit_one_event() -> None:
    reg = FaultRegistry()
    reg.add({"target": "webhooks", "mode": "wrong_secret"})
    reg.add({"target": "webhooks", "mode": "delay", "seconds": 10})
    hits = reg.take_webhook_faults("job_a")
    assert [(h.mode, h.seconds) for h in hits] == [("wrong_secret", None), ("delay", 10.0)]


def test_reorder_skips_a_jobs_final_event() -> None:
    reg = FaultRegistry()
    reg.add({"target": "webhooks", "mode": "reorder"})
    assert reg.take_webhook_faults("job_a", final=True) == []
    assert [h.mode for h in reg.take_webhook_faults("job_a")] == ["reorder"]


def _pattern(seed: int) -> list[bool]:
    reg = FaultRegistry()
    reg.add(
        {"target": "webhooks", "mode": "drop", "count": 1000, "probability": 0.5, "seed": seed}
    )
    return [bool(reg.take_webhook_faults("job_a")) for _ in range(200)]


def test_probability_is_seeded_and_reproducible() -> None:
    first = _pattern(1)
    assert first == _pattern(1)
    assert first != _pattern(2)
    assert 60 < sum(first) < 140


def test_probability_zero_never_hits_and_keeps_its_count() -> None:
    reg = FaultRegistry()
    reg.add({"target": "webhooks", "mode": "drop", "probability": 0.0})
    assert all(reg.take_webhook_faults("job_a") == [] for _ in range(50))
    assert reg.faults()[0].remaining == 1


def test_api_faults_are_taken_oldest_first_one_count_per_request() -> None:
    reg = FaultRegistry()
    reg.add({"target": "api", "mode": "error", "status": 500, "count": 2})
    reg.add({"target": "api", "mode": "latency", "seconds": 0.5})
    taken = [reg.take_api_fault("/api/open/v1/jobs/job_x") for _ in range(4)]
    assert [(f.mode, f.status, f.seconds) if f else None for f in taken] == [
        ("error", 500, None),
        ("error", 500, None),
        ("latency", None, 0.5),
        None,
    ]


def test_api_faults_default_to_503_and_spare_the_control_api() -> None:
    reg = FaultRegistry()
    reg.add({"target": "api", "mode": "error"})
    assert reg.take_api_fault("/_mock/clock") is None
    assert reg.take_api_fault("/openapi.json") is None
    fault = reg.take_api_fault("/api/open/v1/projects")
    assert fault is not None and fault.status == 503


def test_api_and_webhook_faults_do_not_consume_each_other() -> None:
    reg = FaultRegistry()
    reg.add({"target": "api", "mode": "error"})
    assert reg.take_webhook_faults("job_a") == []
    reg.add({"target": "webhooks", "mode": "drop"})
    assert reg.take_api_fault("/api/open/v1/projects") is not None
    assert reg.take_api_fault("/api/open/v1/projects") is None
    assert reg.take_webhook_faults("job_a")


def test_clear_removes_everything() -> None:
    reg = FaultRegistry()
    reg.add({"target": "api", "mode": "error"})
    reg.add({"target": "webhooks", "mode": "drop"})
    assert reg.clear() == 2
    assert reg.faults() == []
    assert reg.take_api_fault("/api/open/v1/projects") is None
