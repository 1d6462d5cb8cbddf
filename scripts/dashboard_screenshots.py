"""Regenerate the dashboard's screenshots in docs/img/ (shown by docs/dashboard.md).

    python scripts/dashboard_screenshots.py

Starts a mock server (manual clock from a fixed origin, fixed seed) and a webhook receiver in
this process, builds the scene of `tests/ui/scene.py` over HTTP (two projects, jobs in eight
statuses, a webhook signed with a wrong secret and its redelivery, a poll that came too fast,
injected faults), then saves one PNG per view from headless Chromium at a laptop's 1366 px.
Needs Debian's `chromium` and Playwright (`pip install -e '.[test]'`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mock_server import MockConfig  # noqa: E402
from mock_server.testing import MockServerThread  # noqa: E402
from mock_server.webhooks import WebhookReceiver  # noqa: E402
from statemachine import parse_time  # noqa: E402
from tests.ui.browser import chromium  # noqa: E402
from tests.ui.scene import Scene  # noqa: E402

OUT = REPO / "docs" / "img"
ORIGIN = parse_time("2024-11-02T09:00:00.000Z")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    receiver = WebhookReceiver().start_in_thread()
    config = MockConfig(clock="manual", port=0, seed=7, clock_origin=ORIGIN)
    try:
        with MockServerThread(config) as server, chromium() as browser:
            scene = Scene(server, receiver).build()
            plans = scene.jobs["tower-plans"]
            time.sleep(0.5)  # let the webhooks of the scene land
            scene.redeliver_rejected(plans)
            time.sleep(0.3)
            page = browser.new_page(viewport={"width": 1366, "height": 860})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            base = f"{server.url}/_mock/ui/"
            shots = [
                ("dashboard-jobs.png", "#/jobs", "#jobs-body tr[data-job]", False),
                ("dashboard-job.png", f"#/jobs/{plans}", "#result table", True),
                ("dashboard-clock.png", "#/clock", "#credits-body tr", False),
                ("dashboard-violations.png", "#/violations", "#violations-body tr", False),
            ]
            for name, route, ready, full in shots:
                page.goto(base + route)
                page.wait_for_selector(ready)
                page.wait_for_selector('#live[data-state="live"]')
                page.wait_for_timeout(400)  # the feed's first pushes, the rows' flash
                page.evaluate("document.activeElement && document.activeElement.blur()")
                page.screenshot(path=str(OUT / name), full_page=full)
                print(f"wrote {(OUT / name).relative_to(REPO)}")
            page.close()
            server.check()
            if errors:
                print("the page logged errors:\n" + "\n".join(errors), file=sys.stderr)
                return 1
    finally:
        receiver.stop_thread()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
