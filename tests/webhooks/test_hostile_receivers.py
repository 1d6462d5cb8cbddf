"""Hostile receivers never stall the clock, the engine or other jobs' deliveries (issue 5)."""

from __future__ import annotations

import asyncio

from .support import HAPPY, arun, black_hole, closed_port_url, fixed_answer, harness


def test_refused_connection_is_logged_as_refused() -> None:
    async def main() -> None:
        async with harness() as h:
            job = h.job(url=closed_port_url())
            await h.drain()
            (delivery,) = h.dispatcher.deliveries(job.id)
            (attempt,) = delivery.attempts
            assert (attempt.error, attempt.http_status, attempt.outcome) == (
                "refused",
                None,
                "failed",
            )
            assert delivery.state == "failed"

    arun(main())


def test_a_receiver_that_never_answers_times_out() -> None:
    async def main() -> None:
        async with harness(timeout=0.2) as h, black_hole() as url:
            job = h.job(url=url)
            await h.drain()
            (attempt,) = h.dispatcher.deliveries(job.id)[0].attempts
            assert (attempt.error, attempt.outcome) == ("timeout", "failed")

    arun(main())


def test_an_answer_after_the_timeout_counts_as_a_timeout() -> None:
    async def main() -> None:
        async with harness(timeout=0.2) as h:
            h.receiver.respond(200, delay=2)
            job = h.job()
            await h.drain()
            (attempt,) = h.dispatcher.deliveries(job.id)[0].attempts
            assert (attempt.error, attempt.http_status, attempt.outcome) == (
                "timeout",
                None,
                "failed",
            )
            # the receiver did get (and verify) the request: only its answer was late
            assert h.receiver.statuses(job.id) == ["awaiting_uploads"]

    arun(main())


def test_500_is_failed() -> None:
    async def main() -> None:
        async with harness() as h, fixed_answer(500) as (url, seen):
            job = h.job(url=url)
            await h.drain()
            (attempt,) = h.dispatcher.deliveries(job.id)[0].attempts
            assert (attempt.http_status, attempt.outcome) == (500, "failed")
            assert len(seen) == 1

    arun(main())


def test_redirects_are_not_followed() -> None:
    async def main() -> None:
        async with (
            harness() as h,
            fixed_answer(307, {"Location": h.receiver.url}) as (url, seen),
        ):
            job = h.job(url=url)
            await h.drain()
            (attempt,) = h.dispatcher.deliveries(job.id)[0].attempts
            assert (attempt.http_status, attempt.outcome) == (307, "failed")
            assert len(seen) == 1
            # following the redirect would have delivered it here
            assert h.receiver.events == [] and h.receiver.rejected == []

    arun(main())


def test_other_2xx_answers_are_delivered_and_3xx_4xx_are_not() -> None:
    async def main() -> None:
        async with harness() as h:
            outcomes = {}
            for status in (200, 201, 202, 204, 299, 301, 400, 404, 429):
                async with fixed_answer(status) as (url, _):
                    job = h.job(url=url)
                    await h.drain()
                    outcomes[status] = h.dispatcher.deliveries(job.id)[0].state
            assert outcomes == {
                200: "delivered",
                201: "delivered",
                202: "delivered",
                204: "delivered",
                299: "delivered",
                301: "failed",
                400: "failed",
                404: "failed",
                429: "failed",
            }

    arun(main())


def test_hostile_receivers_never_stall_the_clock_or_other_jobs() -> None:
    """Every kind of hostile receiver at once, with a long timeout so the black holes are still
    hanging while a well-behaved job's whole lifecycle is delivered."""

    async def main() -> None:
        async with (
            harness(timeout=60, concurrency=6, per_origin=2) as h,
            black_hole() as hole,
            fixed_answer(500) as (err_url, _),
            fixed_answer(410) as (gone_url, _),
        ):
            slow = h.receiver  # answers after 60 s: respond() below, for the slow job only
            async with fixed_answer(302, {"Location": h.receiver.url}) as (redirect_url, _):
                hostile = [
                    h.job(url=hole) for _ in range(6)
                ]  # without a per-origin bound these six would fill every slot
                hostile += [
                    h.job(url=closed_port_url()),
                    h.job(url=err_url),
                    h.job(url=gone_url),
                    h.job(url=redirect_url),
                ]
                slow_job = h.job()
                slow.respond(200, delay=60, job_id=slow_job.id)
                good = h.job()
                for job in [*hostile, slow_job, good]:
                    h.upload_and_complete(job)
                before = h.engine.now
                fired = h.engine.advance(3600)  # the clock moves: nothing waits for receivers
                assert h.engine.now == before + 3600
                assert len(fired) == 2 * 12  # pass_preflight, complete
                event = await h.receiver.wait_for_async(good.id, "completed", timeout=20)
                assert event.sequence == 5
                assert h.receiver.statuses(good.id) == HAPPY
                # ... while the black holes and the slow receiver still hold their first event
                for job in [*hostile[:6], slow_job]:
                    first = h.dispatcher.deliveries(job.id)[0]
                    assert first.attempts == [], job.id
                # and the server side can still be driven
                h.engine.advance(60)
                assert h.dispatcher.pending > 0
            # shutdown does not wait for the 60 s timeout
            await asyncio.wait_for(h.dispatcher.close(), 5)

    arun(main())


def test_a_slow_drip_of_headers_times_out() -> None:
    async def main() -> None:
        stop = asyncio.Event()

        async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(65536)
            writer.write(b"HTTP/1.1 200 OK\r\n")
            try:
                while not stop.is_set():
                    writer.write(b"X-Drip: 1\r\n")
                    await writer.drain()
                    await asyncio.sleep(0.05)
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(drip, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            async with harness(timeout=0.3) as h:
                job = h.job(url=f"http://127.0.0.1:{port}/hook")
                await h.drain()
                (attempt,) = h.dispatcher.deliveries(job.id)[0].attempts
                assert (attempt.error, attempt.outcome) == ("timeout", "failed")
        finally:
            stop.set()
            server.close()

    arun(main())


def test_a_huge_response_body_is_not_read_and_the_next_event_still_goes_out() -> None:
    async def main() -> None:
        from aiohttp import web

        big = b"x" * (10 * 1024 * 1024)

        async def handle(request: web.Request) -> web.Response:
            await request.read()
            return web.Response(body=big)

        app = web.Application()
        app.router.add_post("/hook", handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with harness(timeout=5) as h:
                job = h.job(url=f"http://127.0.0.1:{port}/hook")
                h.run_to_end(job)
                await h.drain()
                states = [d.state for d in h.dispatcher.deliveries(job.id)]
                assert states == ["delivered"] * 5
        finally:
            await runner.cleanup()

    arun(main())
