"""Every webhook fault mode, observed at a real receiver over HTTP (issue 5, Must show)."""

from __future__ import annotations

import time
from typing import Any

from mock_server.webhooks import verify

from .support import HAPPY, Harness, arun, fixed_answer, harness, secret_of


def add(h: Harness, mode: str, **fields: Any) -> None:
    h.dispatcher.faults.add({"target": "webhooks", "mode": mode, **fields})


def test_drop_the_event_never_arrives() -> None:
    async def main() -> None:
        async with harness() as h:
            add(h, "drop")
            job = h.job()
            h.run_to_end(job)
            await h.drain()
            assert h.receiver.statuses(job.id) == HAPPY[1:]
            first = h.dispatcher.deliveries(job.id)[0]
            assert (first.state, first.faults) == ("dropped", ["drop"])
            assert [a.outcome for a in first.attempts] == ["dropped"]

    arun(main())


def test_duplicate_same_id_twice_both_verify() -> None:
    async def main() -> None:
        async with harness() as h:
            add(h, "duplicate")
            job = h.job()
            h.run_to_end(job)
            await h.drain()
            events = h.receiver.events_for(job.id)
            assert [e.status for e in events] == [HAPPY[0], *HAPPY]
            assert events[0].event_id == events[1].event_id
            assert [e.duplicate for e in events[:3]] == [False, True, False]
            delivery = h.dispatcher.deliveries(job.id)[0]
            assert [a.kind for a in delivery.attempts] == ["first", "duplicate"]

    arun(main())


def test_delay_holds_the_event_on_the_virtual_clock_and_keeps_job_order() -> None:
    async def main() -> None:
        async with harness() as h:
            add(h, "delay", seconds=120)
            job = h.job()
            h.upload_and_complete(job)
            await h.drain()
            assert h.receiver.statuses(job.id) == []  # held, and the later events wait
            delivery = h.dispatcher.deliveries(job.id)[0]
            assert delivery.state == "held"
            h.engine.advance(119)
            await h.drain()
            assert h.receiver.statuses(job.id) == []
            h.engine.advance(1)
            await h.drain()
            assert h.receiver.statuses(job.id) == HAPPY
            assert delivery.state == "delivered"

    arun(main())


def test_reorder_the_next_event_overtakes_this_one() -> None:
    async def main() -> None:
        async with harness() as h:
            add(h, "reorder")
            job = h.job()
            await h.drain()
            assert h.receiver.statuses(job.id) == []  # waiting for the job's next event
            h.run_to_end(job)
            await h.drain()
            events = h.receiver.events_for(job.id)
            assert [e.status for e in events] == [
                "uploading",
                "awaiting_uploads",
                "preflighting",
                "processing",
                "completed",
            ]
            assert [e.sequence for e in events] == [2, 1, 3, 4, 5]

    arun(main())


def test_reorder_passes_a_final_event_by() -> None:
    async def main() -> None:
        async with harness() as h:
            job = h.job()
            h.upload_and_complete(job)
            h.engine.advance(3)
            await h.drain()
            add(h, "reorder")
            h.engine.advance(3600)  # completed: nothing comes after it
            await h.drain()
            assert h.receiver.statuses(job.id) == HAPPY
            assert h.dispatcher.faults.faults()[0].remaining == 1

    arun(main())


def _rejection(mode: str, **fields: Any) -> tuple[str, Any]:
    async def main() -> tuple[str, Any]:
        async with harness() as h:
            add(h, mode, **fields)
            job = h.job()
            h.upload_and_complete(job)
            await h.drain()
            (rejected,) = h.receiver.rejected
            assert rejected.job_id == job.id
            # the fault hits one attempt of one event; the rest verify
            assert h.receiver.statuses(job.id) == HAPPY[1:3]
            delivery = h.dispatcher.deliveries(job.id)[0]
            assert delivery.faults == [mode]
            assert delivery.attempts[0].faults == (mode,)
            assert delivery.attempts[0].http_status == 400
            return rejected.reason, rejected

    return arun(main())


def test_wrong_secret_is_rejected_as_a_bad_signature() -> None:
    reason, _ = _rejection("wrong_secret")
    assert reason == "bad_signature"


def test_tampered_body_is_rejected_and_claims_another_status() -> None:
    reason, rejected = _rejection("tampered_body")
    assert reason == "bad_signature"
    assert b'"status":"completed"' in rejected.body


def test_stale_timestamp_is_rejected_as_too_old() -> None:
    reason, rejected = _rejection("stale_timestamp")
    assert reason == "timestamp_too_old"
    assert int(rejected.headers["webhook-timestamp"]) < time.time() - 500


def test_future_timestamp_is_rejected_as_too_new() -> None:
    reason, rejected = _rejection("future_timestamp", seconds=3600)
    assert reason == "timestamp_too_new"
    assert int(rejected.headers["webhook-timestamp"]) > time.time() + 3000


def test_malformed_signature_is_rejected() -> None:
    reason, rejected = _rejection("malformed_signature")
    assert reason == "malformed_signature"
    assert rejected.headers["webhook-signature"].startswith("v1=")
    assert "ValueError" in rejected.detail


def test_missing_header_is_rejected() -> None:
    reason, rejected = _rejection("missing_header")
    assert reason == "missing_header"
    assert "webhook-signature" not in rejected.headers


def test_rotated_secret_two_signatures_one_valid_is_accepted() -> None:
    async def main() -> None:
        async with harness() as h, fixed_answer(200) as (url, seen):
            add(h, "rotated_secret")
            job = h.job(url=url, register=False)
            await h.drain()
            ((headers, body),) = seen
            signatures = headers["webhook-signature"].split(" ")
            assert len(signatures) == 2
            secret = secret_of(job)
            # as a whole it verifies (one signature matches) ...
            verify(secret, body, headers)
            # ... but only thanks to the second one
            valid = []
            for sig in signatures:
                try:
                    verify(secret, body, {**headers, "webhook-signature": sig})
                    valid.append(True)
                except Exception:
                    valid.append(False)
            assert valid == [False, True]

    arun(main())


def test_a_fault_with_a_job_id_hits_only_that_job() -> None:
    async def main() -> None:
        async with harness() as h:
            other = h.job()
            target = h.job()
            add(h, "drop", jobId=target.id, count=10)
            h.run_to_end(other)
            h.run_to_end(target)
            await h.drain()
            assert h.receiver.statuses(other.id) == HAPPY
            assert h.receiver.statuses(target.id) == ["awaiting_uploads"]

    arun(main())


def test_a_faulted_first_attempt_is_retried_clean() -> None:
    async def main() -> None:
        async with harness(retries=1) as h:
            add(h, "wrong_secret")
            job = h.job()
            await h.drain()
            assert h.receiver.statuses(job.id) == []
            h.engine.advance(5)
            await h.drain()
            assert h.receiver.statuses(job.id) == ["awaiting_uploads"]
            delivery = h.dispatcher.deliveries(job.id)[0]
            assert [(a.kind, a.faults, a.outcome) for a in delivery.attempts] == [
                ("first", ("wrong_secret",), "failed"),
                ("retry", (), "delivered"),
            ]

    arun(main())
