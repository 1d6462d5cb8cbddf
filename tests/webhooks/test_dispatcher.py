"""The delivery engine against a real HTTP receiver (issue 5, Build 2 and Must show)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from mock_server.webhooks import WebhookDispatcher, WebhookReceiver, new_secret
from statemachine import Clock, Engine, FileSpec, JobStatus, format_time
from statemachine.engine import Job, Project, TransitionRecord

from .support import HAPPY, ORIGIN, Harness, arun, fixed_answer, harness, render, secret_of


def test_one_event_per_transition_in_order_with_previous_status_and_sequence() -> None:
    async def main() -> None:
        async with harness() as h:
            jobs = [h.job() for _ in range(5)]
            for job in jobs:
                h.run_to_end(job)
            await h.drain()
            for job in jobs:
                events = h.receiver.events_for(job.id)
                assert [e.status for e in events] == HAPPY
                assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
                assert [e.previous_status for e in events] == ["provisioning", *HAPPY[:-1]]
                # the payload's timestamp is the virtual time of that transition
                assert [e.timestamp for e in events] == [format_time(r.at) for r in job.history]
                assert len({e.event_id for e in events}) == 5
                assert not any(e.duplicate for e in events)
            assert h.receiver.rejected == []
            assert all(d.state == "delivered" for d in h.dispatcher.deliveries())

    arun(main())


def test_deliveries_verify_with_the_stock_library_given_the_swapped_secret() -> None:
    async def main() -> None:
        async with harness(origin=time.time()) as h, fixed_answer(204) as (url, seen):
            secrets: dict[str, str] = {}
            jobs = []
            for hours in (0, 5, 30):
                h.engine.advance(hours * 3600)  # the virtual clock runs far ahead of the wall
                job = h.job(url=url, register=False)
                secrets[job.id] = secret_of(job)
                h.run_to_end(job)
                jobs.append(job)
            await h.drain()
            assert len(seen) == 15
            wall = time.time()
            for headers, body in seen:
                payload = json.loads(body)
                secret = secrets[payload["data"]["job"]["id"]]
                # standardwebhooks, unchanged; only the prefix swapped
                verified = Webhook("whsec_" + secret[len("wss_") :]).verify(body, headers)
                assert verified == payload
                assert headers["content-type"] == "application/json"
                # the signed timestamp is the wall clock, whatever the virtual time
                assert abs(int(headers["webhook-timestamp"]) - wall) < 300
            last = json.loads(seen[-1][1])
            assert last["timestamp"] == format_time(jobs[-1].history[-1].at)
            assert jobs[-1].history[-1].at > wall + 30 * 3600 - 600

    arun(main())


def test_a_wrong_secret_does_not_verify_so_the_check_above_can_fail() -> None:
    async def main() -> None:
        async with harness() as h, fixed_answer(204) as (url, seen):
            h.job(url=url, register=False)
            await h.drain()
            (headers, body), *_ = seen
            other = new_secret()
            with pytest.raises(Exception, match="No matching signature"):
                Webhook("whsec_" + other[4:]).verify(body, headers)

    arun(main())


def test_the_body_sent_is_exactly_the_bytes_logged_and_compact_ascii() -> None:
    async def main() -> None:
        async with harness() as h, fixed_answer(200) as (url, seen):
            job = h.job(url=url, register=False, external_id="Zürich-7")
            await h.drain()
            ((_, body),) = seen
            body.decode("ascii")
            assert b": " not in body and b", " not in body
            (delivery,) = h.dispatcher.deliveries(job.id)
            assert delivery.body == body
            assert json.loads(body)["data"]["job"]["externalId"] == "Zürich-7"

    arun(main())


def test_job_json_shows_the_status_of_its_own_transition_even_when_nested() -> None:
    """A subscriber that fires a transition from inside its callback: the dispatcher sees the
    nested record first, yet each event shows its own status and they go out in order."""

    async def main() -> None:
        engine = Engine(Clock("manual", origin=ORIGIN), seed=3)

        def meddler(record: TransitionRecord, obj: Job | Project) -> None:
            if isinstance(obj, Job) and record.dst == "uploading":
                engine.force_job(obj, "cancel")

        engine.subscribe(meddler)  # before the dispatcher: nested records reach it first
        dispatcher = WebhookDispatcher(engine, render)
        await dispatcher.start()
        async with WebhookReceiver() as receiver:
            h = Harness(engine, dispatcher, receiver)
            job = h.job()
            engine.add_files(job, [FileSpec("a.pdf", 1000)])
            assert job.state == "cancelled"
            assert await dispatcher.drain(10)
            events = receiver.events_for(job.id)
            assert [(e.sequence, e.status, e.previous_status) for e in events] == [
                (1, "awaiting_uploads", "provisioning"),
                (2, "uploading", "awaiting_uploads"),
                (3, "cancelled", "uploading"),
            ]
        await dispatcher.close()

    arun(main())


def test_the_renderer_gets_the_transitions_status() -> None:
    seen: list[tuple[str, str]] = []

    def spy(job: Job, status: str) -> dict[str, Any]:
        seen.append((job.state, status))
        return render(job, status)

    async def main() -> None:
        engine = Engine(Clock("manual", origin=ORIGIN), seed=3)
        dispatcher = WebhookDispatcher(engine, spy)
        project, _ = engine.create_project("o", "p")
        engine.advance(60)
        engine.create_job(project, webhook_url="http://127.0.0.1:9/x", webhook_secret=new_secret())
        assert seen == [("awaiting_uploads", "awaiting_uploads")]
        await dispatcher.close()

    arun(main())


def test_jobs_without_a_webhook_url_send_nothing() -> None:
    async def main() -> None:
        async with harness() as h:
            job = h.engine.create_job(h.project, webhook_url=None)
            job2 = h.engine.create_job(h.project)
            h.run_to_end(job)
            h.run_to_end(job2)
            await h.drain()
            assert h.dispatcher.deliveries() == []
            assert h.receiver.events == []

    arun(main())


def test_project_transitions_send_nothing() -> None:
    async def main() -> None:
        async with harness() as h:
            h.engine.create_project("org_test", "second")
            h.engine.advance(60)
            await h.drain()
            assert h.dispatcher.deliveries() == []

    arun(main())


def test_every_attempt_is_logged_with_ids_times_status_and_latency() -> None:
    async def main() -> None:
        async with harness() as h:
            job = h.job()
            await h.drain()
            (delivery,) = h.dispatcher.deliveries(job.id)
            data = delivery.as_json()
            assert data["id"].startswith("dlv_") and len(data["id"]) == 30
            assert data["eventId"].startswith("msg_") and len(data["eventId"]) == 30
            (attempt,) = data["attempts"]
            assert attempt["deliveryId"] == data["id"]
            assert attempt["eventId"] == data["eventId"]
            assert attempt["jobId"] == job.id
            assert attempt["attempt"] == 1 and attempt["kind"] == "first"
            assert attempt["httpStatus"] == 200 and attempt["error"] is None
            assert attempt["outcome"] == "delivered"
            assert attempt["latencyMs"] >= 0
            assert attempt["virtualTime"] == format_time(h.engine.now)
            assert attempt["wallTime"][:4] == time.strftime("%Y", time.gmtime())
            assert data["payload"]["data"]["job"]["id"] == job.id
            assert h.receiver.events[0].event_id == data["eventId"]

    arun(main())


def test_no_retries_by_default_a_failure_stays_failed() -> None:
    async def main() -> None:
        async with harness() as h:
            h.receiver.respond(500)
            job = h.job()
            await h.drain()
            h.engine.advance(7 * 86400)
            await h.drain()
            deliveries = h.dispatcher.deliveries(job.id)
            assert deliveries[0].state == "failed"
            assert len(deliveries[0].attempts) == 1
            assert deliveries[0].attempts[0].http_status == 500

    arun(main())


def test_retries_run_on_the_virtual_clock_with_a_stable_id_and_fresh_signature() -> None:
    async def main() -> None:
        async with harness(retries=3) as h:
            h.receiver.respond(503, count=2)
            job = h.job()
            await h.drain()
            (delivery,) = h.dispatcher.deliveries(job.id)
            assert delivery.state == "retrying"
            assert delivery.next_attempt_at == pytest.approx(h.engine.now + 5)
            h.engine.advance(4.9)
            await h.drain()
            assert len(delivery.attempts) == 1  # not due yet: wall time does not count
            h.engine.advance(0.1)
            await h.drain()
            assert [a.http_status for a in delivery.attempts] == [503, 503]
            assert delivery.next_attempt_at == pytest.approx(h.engine.now + 300)
            h.engine.advance(300)
            await h.drain()
            assert [a.http_status for a in delivery.attempts] == [503, 503, 200]
            assert [a.kind for a in delivery.attempts] == ["first", "retry", "retry"]
            assert delivery.state == "delivered" and delivery.next_attempt_at is None
            events = h.receiver.events_for(job.id)
            assert len(events) == 3
            assert {e.event_id for e in events} == {delivery.event_id}
            assert events[1].duplicate and events[2].duplicate

    arun(main())


def test_retries_stop_after_the_configured_number() -> None:
    async def main() -> None:
        async with harness(retries=2, retry_schedule=(1.0,)) as h:
            h.receiver.respond(500)
            job = h.job()
            for _ in range(5):
                await h.drain()
                h.engine.advance(1)
            await h.drain()
            (delivery,) = h.dispatcher.deliveries(job.id)
            assert len(delivery.attempts) == 3
            assert delivery.state == "failed"

    arun(main())


def test_a_410_disables_that_jobs_webhook_only() -> None:
    async def main() -> None:
        async with harness(retries=3) as h:
            gone = h.job()
            h.receiver.respond(410, job_id=gone.id)
            other = h.job()
            await h.drain()
            h.run_to_end(gone)
            h.run_to_end(other)
            await h.drain()
            assert h.dispatcher.is_disabled(gone.id)
            assert [d.state for d in h.dispatcher.deliveries(gone.id)] == ["failed"] + [
                "disabled"
            ] * 4
            assert h.receiver.statuses(gone.id) == ["awaiting_uploads"]
            assert h.receiver.statuses(other.id) == HAPPY
            h.engine.advance(86400)  # no retry of the 410
            await h.drain()
            assert len(h.dispatcher.deliveries(gone.id)[0].attempts) == 1

    arun(main())


def test_redeliver_sends_the_same_event_again_with_a_fresh_signature() -> None:
    async def main() -> None:
        async with harness() as h:
            job = h.job()
            await h.drain()
            (delivery,) = h.dispatcher.deliveries(job.id)
            h.dispatcher.redeliver(delivery.id)
            await h.drain()
            first, again = h.receiver.events_for(job.id)
            assert first.event_id == again.event_id == delivery.event_id
            assert again.duplicate and not first.duplicate
            assert [a.kind for a in delivery.attempts] == ["first", "redelivery"]
            with pytest.raises(KeyError):
                h.dispatcher.redeliver("dlv_nope")

    arun(main())


def test_a_renderer_that_raises_never_breaks_the_engine() -> None:
    errors: list[BaseException] = []

    def broken(job: Job, status: str) -> dict[str, Any]:
        raise RuntimeError("renderer bug")

    async def main() -> None:
        engine = Engine(Clock("manual", origin=ORIGIN), seed=3)
        dispatcher = WebhookDispatcher(engine, broken, on_error=errors.append)
        project, _ = engine.create_project("o", "p")
        engine.advance(60)
        job = engine.create_job(
            project, webhook_url="http://127.0.0.1:9/", webhook_secret=new_secret()
        )
        assert job.state == JobStatus.AWAITING_UPLOADS
        assert [str(e) for e in dispatcher.errors] == ["renderer bug"]
        assert errors == dispatcher.errors
        await dispatcher.close()

    arun(main())


def test_a_job_without_a_secret_is_logged_as_failed_not_sent() -> None:
    async def main() -> None:
        async with harness() as h:
            job = h.engine.create_job(h.project, webhook_url=h.receiver.url)
            await h.drain()
            (delivery,) = h.dispatcher.deliveries(job.id)
            assert delivery.state == "failed"
            assert delivery.attempts[0].error == "no_secret"
            assert h.receiver.events == [] and h.receiver.rejected == []

    arun(main())


def test_reset_forgets_deliveries_and_follows_a_new_engine() -> None:
    async def main() -> None:
        async with harness() as h:
            h.job()
            await h.drain()
            new_engine = Engine(Clock("manual", origin=ORIGIN), seed=8)
            h.dispatcher.reset(new_engine)
            assert h.dispatcher.deliveries() == []
            assert h.dispatcher.engine is new_engine
            h.engine = new_engine
            project, _ = new_engine.create_project("o", "p")
            new_engine.advance(60)
            h.project = project
            job = h.job()
            await h.drain()
            assert h.receiver.statuses(job.id) == ["awaiting_uploads"]

    arun(main())


def test_events_queued_before_start_are_sent_on_start() -> None:
    async def main() -> None:
        engine = Engine(Clock("manual", origin=ORIGIN), seed=3)
        dispatcher = WebhookDispatcher(engine, render)
        async with WebhookReceiver() as receiver:
            h = Harness(engine, dispatcher, receiver)
            job = h.job()
            assert dispatcher.pending == 1
            await dispatcher.start()
            assert await dispatcher.drain(10)
            assert receiver.statuses(job.id) == ["awaiting_uploads"]
        await dispatcher.close()

    arun(main())


def test_bad_configuration_is_refused() -> None:
    engine = Engine(Clock("manual", origin=ORIGIN))
    with pytest.raises(ValueError, match="timeout must be > 0"):
        WebhookDispatcher(engine, render, timeout=0)
    with pytest.raises(ValueError, match="retries must be >= 0"):
        WebhookDispatcher(engine, render, retries=-1)
    with pytest.raises(ValueError, match="concurrency"):
        WebhookDispatcher(engine, render, concurrency=0)


def test_many_jobs_deliver_concurrently_each_in_order() -> None:
    async def main() -> None:
        async with harness(concurrency=4) as h:
            h.receiver.respond(200, delay=0.01)
            jobs = [h.job() for _ in range(12)]
            for job in jobs:
                h.upload_and_complete(job)
            h.engine.advance(3600)
            await h.drain()
            for job in jobs:
                assert [e.sequence for e in h.receiver.events_for(job.id)] == [1, 2, 3, 4, 5]

    arun(main())


def test_drain_reports_a_timeout() -> None:
    async def main() -> None:
        async with harness(timeout=30) as h:
            h.receiver.respond(200, delay=5)
            h.job()
            assert await h.dispatcher.drain(0.05) is False

    arun(main())


def test_close_cancels_sends_in_flight_promptly() -> None:
    async def main() -> None:
        async with harness(timeout=60) as h:
            h.receiver.respond(200, delay=60)
            job = h.job()
            await h.receiver.wait_for_async(job.id, None, 10)
            # a close that waited for the receiver would take 60 s
            await asyncio.wait_for(h.dispatcher.close(), 5)

    arun(main())
