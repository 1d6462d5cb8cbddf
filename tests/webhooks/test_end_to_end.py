"""Webhooks through the real server (create_app), driven over HTTP."""

from __future__ import annotations

import asyncio
import time

from standardwebhooks.webhooks import Webhook

from mock_server import STATE_KEY
from mock_server.webhooks import WebhookReceiver

from .support import HAPPY, arun, black_hole, fixed_answer, mock_server


def test_a_job_through_the_api_delivers_one_verified_event_per_transition() -> None:
    async def main() -> None:
        async with mock_server() as srv, WebhookReceiver() as receiver:
            project = await srv.ready_project()
            job_id, secret = await srv.create_job(project, receiver.url)
            assert secret.startswith("wss_")
            receiver.register(job_id, secret)
            await srv.upload_and_complete(job_id)
            await srv.advance(4 * 3600)  # hours of virtual time
            event = await receiver.wait_for_async(job_id, "completed", timeout=10)
            events = receiver.events_for(job_id)
            assert [e.status for e in events] == HAPPY
            assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
            assert [e.previous_status for e in events] == ["provisioning", *HAPPY[:-1]]
            assert receiver.rejected == []
            # the event carries the public Job object as of that transition
            status, body = await srv.call("GET", f"/jobs/{job_id}")
            assert status == 200
            assert set(event.job) == set(body["job"])
            assert event.job == body["job"]
            assert events[2].job["status"] == "preflighting"
            assert events[2].job["completedAt"] is None

    arun(main())


def test_stock_verifier_accepts_every_delivery_from_the_server() -> None:
    async def main() -> None:
        async with mock_server() as srv, fixed_answer(204) as (url, seen):
            project = await srv.ready_project()
            job_id, secret = await srv.create_job(project, url)
            await srv.upload_and_complete(job_id)
            await srv.advance(10 * 3600)
            assert await srv.app[STATE_KEY].webhooks.drain(10)
            assert len(seen) == 5
            for headers, body in seen:
                Webhook("whsec_" + secret.removeprefix("wss_")).verify(body, headers)

    arun(main())


def test_control_routes_list_and_redeliver() -> None:
    async def main() -> None:
        async with mock_server() as srv, WebhookReceiver() as receiver:
            project = await srv.ready_project()
            job_id, secret = await srv.create_job(project, receiver.url)
            receiver.register(job_id, secret)
            other_id, other_secret = await srv.create_job(project, receiver.url)
            receiver.register(other_id, other_secret)
            await receiver.wait_for_async(job_id, "awaiting_uploads", timeout=10)
            assert await srv.app[STATE_KEY].webhooks.drain(10)

            status, body = await srv.call(
                "GET", f"/_mock/webhooks/deliveries?jobId={job_id}", public=False
            )
            assert status == 200
            (delivery,) = body["deliveries"]
            assert delivery["jobId"] == job_id and delivery["state"] == "delivered"
            assert delivery["attempts"][0]["httpStatus"] == 200
            status, body = await srv.call("GET", "/_mock/webhooks/deliveries", public=False)
            assert {d["jobId"] for d in body["deliveries"]} == {job_id, other_id}

            # deliveries inside GET /_mock/jobs/{jobId}
            status, body = await srv.call("GET", f"/_mock/jobs/{job_id}", public=False)
            assert status == 200
            assert [d["id"] for d in body["deliveries"]] == [delivery["id"]]

            status, body = await srv.call(
                "POST", f"/_mock/webhooks/deliveries/{delivery['id']}/redeliver", public=False
            )
            assert status == 202
            assert body["delivery"]["id"] == delivery["id"]
            assert await srv.app[STATE_KEY].webhooks.drain(10)
            first, again = receiver.events_for(job_id)
            assert again.event_id == first.event_id and again.duplicate

            status, body = await srv.call(
                "POST", "/_mock/webhooks/deliveries/dlv_nope/redeliver", public=False
            )
            assert status == 404 and body["error"]["code"] == "not_found"
            status, body = await srv.call(
                "GET", "/_mock/webhooks/deliveries?jobId=job_nope", public=False
            )
            assert status == 404 and body["error"]["code"] == "job_not_found"

    arun(main())


def test_fault_routes_add_list_clear_and_validate() -> None:
    async def main() -> None:
        async with mock_server() as srv:
            status, body = await srv.call(
                "POST", "/_mock/faults", {"target": "webhooks", "mode": "drop", "count": 3},
                public=False,
            )  # fmt: skip
            assert status == 201
            fault = body["fault"]
            assert (fault["mode"], fault["remaining"]) == ("drop", 3)
            status, body = await srv.call("GET", "/_mock/faults", public=False)
            assert [f["id"] for f in body["faults"]] == [fault["id"]]

            status, body = await srv.call(
                "POST", "/_mock/faults", {"target": "webhooks", "mode": "explode"}, public=False
            )
            assert status == 422
            assert body["error"]["code"] == "validation_error"
            assert (
                "drop" in body["error"]["message"] and "rotated_secret" in body["error"]["message"]
            )
            assert "rotated_secret" in body["error"]["validModes"]
            assert body["error"]["details"][0]["field"] == "mode"

            status, body = await srv.call(
                "POST", "/_mock/faults", {"target": "smtp", "mode": "drop"}, public=False
            )
            assert status == 422 and set(body["error"]["validTargets"]) == {"webhooks", "api"}

            status, body = await srv.call(
                "POST", "/_mock/faults", {"target": "api", "mode": "error", "status": 418},
                public=False,
            )  # fmt: skip
            assert status == 422 and body["error"]["details"][0]["field"] == "status"

            status, body = await srv.call("POST", "/_mock/faults", [1, 2], public=False)
            assert status == 422

            async with srv.http.post(
                srv.url + "/_mock/faults", data=b"{not json",
                headers={"Content-Type": "application/json"},
            ) as resp:  # fmt: skip
                assert resp.status == 400
                assert (await resp.json())["error"]["code"] == "invalid_json"

            status, body = await srv.call("DELETE", "/_mock/faults", public=False)
            assert (status, body) == (200, {"deleted": 1})
            status, body = await srv.call("GET", "/_mock/faults", public=False)
            assert body == {"faults": []}

    arun(main())


def test_webhook_fault_through_the_control_api_reaches_the_receiver() -> None:
    async def main() -> None:
        async with mock_server() as srv, WebhookReceiver() as receiver:
            project = await srv.ready_project()
            status, _ = await srv.call(
                "POST", "/_mock/faults", {"target": "webhooks", "mode": "tampered_body"},
                public=False,
            )  # fmt: skip
            assert status == 201
            job_id, secret = await srv.create_job(project, receiver.url)
            receiver.register(job_id, secret)
            assert await srv.app[STATE_KEY].webhooks.drain(10)
            (rejected,) = receiver.rejected
            assert rejected.reason == "bad_signature"
            status, body = await srv.call("GET", "/_mock/faults", public=False)
            assert body["faults"][0]["applied"] == 1

    arun(main())


def test_api_faults_error_then_latency_then_normal() -> None:
    async def main() -> None:
        async with mock_server() as srv:
            for fault in (
                {"target": "api", "mode": "error", "status": 500, "count": 1},
                {"target": "api", "mode": "error", "count": 1},
                {"target": "api", "mode": "latency", "seconds": 0.05},
            ):
                status, _ = await srv.call("POST", "/_mock/faults", fault, public=False)
                assert status == 201
            # the control API is never faulted
            status, _ = await srv.call("GET", "/_mock/health", public=False)
            assert status == 200
            status, body = await srv.call("GET", "/projects")
            assert (status, body["error"]["code"]) == (500, "injected_fault")
            status, body = await srv.call("GET", "/projects")
            assert (status, body["error"]["code"]) == (503, "injected_fault")
            started = time.perf_counter()
            status, body = await srv.call("GET", "/projects")
            assert status == 200 and "projects" in body
            assert time.perf_counter() - started >= 0.045  # the fault's wait, not a speed check
            status, body = await srv.call("GET", "/projects")
            assert status == 200

    arun(main())


def test_reset_forgets_deliveries_and_faults() -> None:
    async def main() -> None:
        async with mock_server() as srv, WebhookReceiver() as receiver:
            project = await srv.ready_project()
            job_id, secret = await srv.create_job(project, receiver.url)
            receiver.register(job_id, secret)
            await srv.call("POST", "/_mock/faults", {"target": "webhooks", "mode": "drop"},
                           public=False)  # fmt: skip
            assert await srv.app[STATE_KEY].webhooks.drain(10)
            status, _ = await srv.call("POST", "/_mock/reset", public=False)
            assert status == 200
            status, body = await srv.call("GET", "/_mock/webhooks/deliveries", public=False)
            assert body == {"deliveries": []}
            assert srv.app[STATE_KEY].faults.faults() == []
            # and the dispatcher follows the new engine
            project = await srv.ready_project()
            job_id, secret = await srv.create_job(project, receiver.url)
            receiver.register(job_id, secret)
            await receiver.wait_for_async(job_id, "awaiting_uploads", timeout=10)

    arun(main())


def test_a_black_hole_receiver_never_stalls_the_server_or_other_jobs() -> None:
    async def main() -> None:
        async with (
            mock_server(webhook_timeout=60) as srv,
            WebhookReceiver() as receiver,
            black_hole() as hole,
        ):
            project = await srv.ready_project()
            stuck = [(await srv.create_job(project, hole))[0] for _ in range(20)]
            job_id, secret = await srv.create_job(project, receiver.url)
            receiver.register(job_id, secret)
            for jid in [*stuck, job_id]:
                await srv.upload_and_complete(jid)
            await srv.advance(3600)  # the clock advance answers at once
            await receiver.wait_for_async(job_id, "completed", timeout=10)
            status, _ = await srv.call("GET", f"/jobs/{job_id}")
            assert status == 200
            status, body = await srv.call("GET", f"/_mock/jobs/{stuck[0]}", public=False)
            assert body["job"]["status"] == "completed"
            assert body["deliveries"][0]["attempts"] == []  # still hanging in the black hole
            # shutting down does not wait for the 60 s timeout
            await asyncio.wait_for(srv.app[STATE_KEY].webhooks.close(), 5)

    arun(main())


def test_openapi_describes_the_webhook_and_fault_routes() -> None:
    async def main() -> None:
        async with mock_server() as srv:
            status, doc = await srv.call("GET", "/openapi.json", public=False)
            assert status == 200
            paths = doc["paths"]
            assert "get" in paths["/_mock/webhooks/deliveries"]
            assert "post" in paths["/_mock/webhooks/deliveries/{deliveryId}/redeliver"]
            assert {"get", "post", "delete"} <= set(paths["/_mock/faults"])
            body = paths["/_mock/faults"]["post"]["requestBody"]["content"]["application/json"]
            schemas = doc["components"]["schemas"]
            ref = body["schema"]["$ref"].rsplit("/", 1)[1]
            assert "WebhookFaultRequest" in str(schemas[ref])
            assert "rotated_secret" in str(schemas["WebhookFaultRequest"])

    arun(main())


def test_every_webhook_route_is_described() -> None:
    from mock_server import MockConfig, create_app
    from mock_server.http.endpoints import ENDPOINTS_KEY
    from mock_server.http.openapi import build_openapi

    app = create_app(MockConfig(clock="manual"))
    doc = build_openapi(app[ENDPOINTS_KEY])
    described = {(m, p) for p, item in doc["paths"].items() for m in item}
    mine = {
        (r.method.lower(), r.resource.canonical)
        for r in app.router.routes()
        if r.resource is not None
        and r.resource.canonical.startswith(("/_mock/webhooks", "/_mock/faults"))
        and r.method != "HEAD"
    }
    assert len(mine) == 5
    assert mine <= described
