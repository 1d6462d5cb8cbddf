"""How to use the fixture from async code.

The server runs in its own thread, so the fixture works the same in async tests. Inject
`plangrep_mock.asleep` where your code awaits `asyncio.sleep`: it moves the virtual clock without
blocking your event loop. (This example drives its coroutine with `asyncio.run`; with
pytest-asyncio or anyio, write `async def test_...` and `await` directly.)
"""

from __future__ import annotations

import asyncio
from typing import Any

from mock_server.client import AsyncPlangrepClient, wait_for_job_async
from mock_server.testing import PlangrepMock, PlangrepWebhookReceiver


def test_async_client(plangrep_mock: PlangrepMock) -> None:
    job = plangrep_mock.create_job()

    async def main() -> dict[str, Any]:
        return await wait_for_job_async(
            plangrep_mock.base_url, plangrep_mock.api_key, job["id"], plangrep_mock.asleep
        )

    assert asyncio.run(main())["status"] == "completed"


def test_async_waiting_for_a_webhook(
    plangrep_mock: PlangrepMock, plangrep_webhook_receiver: PlangrepWebhookReceiver
) -> None:
    job = plangrep_mock.create_job(webhook_url=plangrep_webhook_receiver.url)

    async def main() -> str:
        async with AsyncPlangrepClient(plangrep_mock.base_url, plangrep_mock.api_key):
            await plangrep_mock.asleep(60)
            event = await plangrep_webhook_receiver.wait_for_async(job["id"], "completed", 5)
            return event.status

    assert asyncio.run(main()) == "completed"
