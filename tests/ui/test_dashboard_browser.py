"""The dashboard in a real browser: headless Chromium (Debian's package) driven by Playwright.

One server, one webhook receiver and one browser serve the whole module; each test resets the
server and opens its own pages. Every test fails on a console error or an uncaught exception in
a page. The tests find controls by their accessible names (labels, roles), as a screen reader
would. Without Chromium or Playwright the module is skipped, except under CI (`CI` set), where
that is a failure: `.ci/run` installs both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from mock_server import MockConfig
from mock_server.testing import MockServerThread
from mock_server.webhooks import WebhookReceiver
from statemachine import allowed_events

from .browser import chromium, missing_browser
from .scene import Scene

_missing = missing_browser()
if _missing is not None:
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"the dashboard's browser tests cannot run: {_missing}", pytrace=False)
    pytest.skip(
        f"the dashboard's browser tests need a browser: {_missing}", allow_module_level=True
    )

from playwright.sync_api import Browser, Page, expect  # noqa: E402

expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver().start_in_thread()
    yield r
    r.stop_thread()


@pytest.fixture(scope="module")
def served() -> Iterator[MockServerThread]:
    # no seed: a reset between tests must not hand out the same job ids to the receiver again
    with MockServerThread(MockConfig(clock="manual", port=0)) as server:
        yield server
        server.check()


@pytest.fixture
def scene(served: MockServerThread, receiver: WebhookReceiver) -> Iterator[Scene]:
    scene = Scene(served, receiver)
    scene.control("POST", "/reset")
    receiver.clear()
    yield scene
    served.check()


class Pages:
    """Opens dashboard pages; every console error or page exception fails the test."""

    def __init__(self, browser: Browser, url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.url = url
        self.errors: list[str] = []
        self.allowed: list[re.Pattern[str]] = []

    def open(self, route: str = "#/jobs") -> Page:
        page = self.context.new_page()
        page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.goto(f"{self.url}/_mock/ui/{route}")
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        return page

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def close(self) -> list[str]:
        self.context.close()
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def pages(browser: Browser, served: MockServerThread) -> Iterator[Pages]:
    p = Pages(browser, served.url)
    yield p
    errors = p.close()
    assert not errors, "the dashboard logged errors:\n" + "\n".join(errors)


def row(page: Page, job_id: str) -> Any:
    return page.locator(f'#jobs-body tr[data-job="{job_id}"]')


# --------------------------------------------------------------------------- jobs


def test_jobs_appear_without_reload_and_filter(scene: Scene, pages: Pages) -> None:
    page = pages.open()
    expect(page.get_by_role("table", name=re.compile("^Jobs"))).to_contain_text("No jobs yet")
    scene.project("Tower")
    first = scene.job("north-wing", "Tower", upload=False)
    second = scene.job("south-wing", "Tower")  # uploaded and completed: preflighting
    expect(row(page, first)).to_contain_text("north-wing")
    expect(row(page, second)).to_contain_text("preflighting")
    expect(page.locator("#jobs-body tr")).to_have_count(2)
    expect(page.get_by_role("navigation")).to_contain_text("Jobs 2")

    page.get_by_label("Status").select_option("awaiting_uploads")
    expect(page.locator("#jobs-body tr")).to_have_count(1)
    expect(row(page, first)).to_be_visible()
    page.get_by_label("Status").select_option("")
    page.get_by_label("Search job id or external id").fill("SOUTH")
    expect(page.locator("#jobs-body tr")).to_have_count(1)
    expect(row(page, second)).to_be_visible()
    page.get_by_label("Search job id or external id").fill(first[-10:])
    expect(row(page, first)).to_be_visible()
    expect(page.locator("#jobs-body tr")).to_have_count(1)
    # the project list, and its button that filters the table
    page.get_by_label("Search job id or external id").fill("")
    expect(page.locator("#projects-body")).to_contain_text("Tower")
    page.get_by_role("button", name="Show the jobs of project Tower").click()
    expect(page.locator("#jobs-body tr")).to_have_count(2)


def test_advancing_the_clock_from_the_page_moves_statuses_in_another_open_page(
    scene: Scene, pages: Pages
) -> None:
    scene.project("Tower")
    job_id = scene.job("plans", "Tower")
    table = pages.open()
    expect(row(table, job_id)).to_contain_text("preflighting")
    clock = pages.open("#/clock")
    clock.get_by_label("seconds").fill("100")
    clock.get_by_role("button", name="Advance").click()
    expect(clock.locator("#advance-result")).to_contain_text("2 transitions fired")
    # the other page was not reloaded: the feed moved the row and the header clock
    expect(row(table, job_id)).to_contain_text("completed")
    expect(row(table, job_id)).to_contain_text("5 / 5")
    now = scene.control("GET", "/clock")["now"]
    expect(table.locator("#clock-now")).to_have_attribute("datetime", now)


def test_a_jobs_page_paginates(scene: Scene, pages: Pages) -> None:
    scene.project("Tower")
    for n in range(105):
        scene.call(
            "POST",
            f"/api/open/v1/projects/{scene.projects['Tower']}/jobs",
            json={"externalId": f"j{n}"},
        )
    page = pages.open()
    expect(page.locator("#jobs-range")).to_have_text("Rows 1-100 of 105")
    expect(page.get_by_role("button", name="Previous page")).to_be_disabled()
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#jobs-range")).to_have_text("Rows 101-105 of 105")
    expect(page.locator("#jobs-body tr")).to_have_count(5)
    expect(page.locator("#jobs-body")).to_contain_text("j0")
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()


# --------------------------------------------------------------------------- a job's page


def test_a_job_page_shows_timeline_deliveries_and_forces_an_allowed_event(
    scene: Scene, pages: Pages, receiver: WebhookReceiver
) -> None:
    scene.project("Tower")
    job_id = scene.job("plans", "Tower", scenario="slow", webhook=True)
    receiver.wait_for(job_id, "preflighting", timeout=5)
    page = pages.open(f"#/jobs/{job_id}")
    expect(page.get_by_role("heading", name=f"Job {job_id}")).to_be_visible()
    timeline = page.get_by_role("table", name="Timeline")
    expect(timeline.locator("tbody tr")).to_have_count(3)
    expect(timeline).to_contain_text("complete_uploads")
    deliveries = page.locator("#webhooks article")
    expect(deliveries).to_have_count(3)
    expect(deliveries.first).to_contain_text("uploading -> preflighting")
    expect(deliveries.first).to_contain_text("signed correctly")
    expect(deliveries.first.locator("tbody")).to_contain_text("200")
    # the diagram: current status and the path taken
    expect(page.locator('#diagram [data-status="preflighting"]')).to_have_class(
        re.compile("current")
    )
    expect(page.locator("#diagram .edge.taken")).to_have_count(3)

    force = page.get_by_role("group", name="Force an event")
    names = [b.inner_text() for b in force.get_by_role("button").all()]
    assert names == list(allowed_events("preflighting"))
    force.get_by_role("button", name="cancel").click()
    expect(page.locator("#force-result")).to_contain_text("preflighting -> cancelled")
    expect(timeline.locator("tbody tr")).to_have_count(4)
    expect(timeline.locator("tbody tr").last).to_contain_text("forced")
    expect(page.locator("#job-facts")).to_contain_text("cancelled")
    expect(force).to_contain_text("cancelled is terminal")
    expect(force.get_by_role("button")).to_have_count(0)
    expect(deliveries).to_have_count(4)  # the cancel's webhook, pushed by the feed
    assert scene.control("GET", f"/jobs/{job_id}")["job"]["status"] == "cancelled"


def test_redeliver_a_webhook_from_the_page(
    scene: Scene, pages: Pages, receiver: WebhookReceiver
) -> None:
    scene.project("Tower")
    job_id = scene.job("plans", "Tower", webhook=True, upload=False)
    receiver.wait_for(job_id, "awaiting_uploads", timeout=5)
    page = pages.open(f"#/jobs/{job_id}")
    delivery = page.locator("#webhooks article").first
    expect(delivery.locator("tbody tr")).to_have_count(1)
    delivery.get_by_role("button", name=re.compile("^Redeliver")).click()
    expect(delivery.locator("tbody tr")).to_have_count(2)
    expect(delivery.locator("tbody tr").last).to_contain_text("redelivery")
    expect(delivery.locator("tbody tr").last).to_contain_text("delivered")
    assert [e.duplicate for e in receiver.events_for(job_id)] == [False, True]


def test_a_faulted_delivery_and_a_too_fast_poll_are_marked(
    scene: Scene, pages: Pages, receiver: WebhookReceiver
) -> None:
    scene.project("Tower")
    job_id = scene.job("plans", "Tower", webhook=True, upload=False)
    receiver.wait_for(job_id, "awaiting_uploads", timeout=5)
    page = pages.open(f"#/jobs/{job_id}")
    scene.control(
        "POST", "/faults", json={"target": "webhooks", "mode": "wrong_secret", "jobId": job_id}
    )
    scene.upload(job_id)  # start_upload: signed with a wrong secret, the receiver answers 400
    faulted = page.locator("#webhooks article").first
    expect(faulted).to_contain_text("awaiting_uploads -> uploading")
    expect(faulted.locator("tbody")).to_contain_text("faulted: wrong_secret")
    expect(faulted.locator("tbody")).to_contain_text("400")
    scene.poll(job_id, want=200)
    scene.poll(job_id, want=429)
    broke = page.locator("#requests-body tr.broke")
    expect(broke).to_have_count(1)
    expect(broke).to_contain_text("429 polling_too_fast")
    expect(broke).to_contain_text("never poll one job more often than once per 5 s")


def test_a_finished_jobs_page_shows_its_result(scene: Scene, pages: Pages) -> None:
    scene.project("Tower")
    job_id = scene.job("plans", "Tower", scenario="with_errors")
    scene.advance(100)
    page = pages.open(f"#/jobs/{job_id}")
    result = page.locator("#result")
    expect(result).to_contain_text("A-101 plans.pdf")
    expect(result).to_contain_text("specs.pdf")
    expect(page.locator('#diagram [data-status="completed_with_errors"]')).to_have_class(
        re.compile("current")
    )


def test_a_job_gone_after_a_reset_is_said_so(scene: Scene, pages: Pages) -> None:
    scene.project("Tower")
    job_id = scene.job("plans", "Tower", upload=False)
    page = pages.open(f"#/jobs/{job_id}")
    expect(page.locator("#job-facts")).to_contain_text("awaiting_uploads")
    pages.allow(r"404 \(Not Found\)")  # the page asks for the job and is told it is gone
    scene.control("POST", "/reset")
    expect(page.locator("#job-missing")).to_contain_text(f"No job {job_id} on this server")


# --------------------------------------------------------------------------- clock, scenarios


def test_clock_view_queues_a_scenario_and_sets_credits(scene: Scene, pages: Pages) -> None:
    scene.project("Tower")
    page = pages.open("#/clock")
    page.get_by_label("Scenario", exact=True).select_option("slow")
    page.get_by_role("button", name="Queue scenario").click()
    expect(page.locator("#scenario-queued")).to_have_text("slow")
    assert scene.control("GET", "/scenarios")["queued"] == ["slow"]
    credits = page.get_by_role("table", name="Credits per organisation")
    expect(credits).to_contain_text("9,950")  # the project cost 50
    page.get_by_label("New balance for pgk_live_demo").fill("123")
    credits.get_by_role("button", name="Set").click()
    expect(credits).to_contain_text("123")
    account = scene.control("GET", "/accounts/pgk_live_demo/credits")
    assert account["balance"] == 123


def test_violations_and_faults_view_is_live_and_clears_faults(scene: Scene, pages: Pages) -> None:
    scene.project("Tower")
    job_id = scene.job("plans", "Tower", upload=False)
    page = pages.open("#/violations")
    faults = page.get_by_role("table", name="Faults")
    expect(faults).to_contain_text("No fault is active")
    expect(page.get_by_role("button", name="Clear all faults")).to_be_disabled()
    scene.control("POST", "/faults", json={"target": "webhooks", "mode": "drop", "count": 2})
    expect(faults).to_contain_text("drop")
    scene.poll(job_id, want=200)
    scene.poll(job_id, want=429)
    violations = page.get_by_role("table", name="Contract violations")
    expect(violations).to_contain_text("polling_too_fast")
    expect(violations).to_contain_text("documented by Plangrep")
    expect(page.locator("#badge-violations")).to_have_text("1")
    page.get_by_role("button", name="Clear all faults").click()
    expect(page.locator("#faults-result")).to_have_text("Cleared 1 fault.")
    expect(faults).to_contain_text("No fault is active")
    assert scene.control("GET", "/faults")["faults"] == []


# --------------------------------------------------------------------------- accessibility


def _axe(page: Page) -> list[str]:
    """axe-core's WCAG rules (the copy bundled by axe-playwright-python): the violated ones."""
    if not page.evaluate("typeof window.axe === 'object'"):
        from axe_playwright_python.sync_playwright import Axe

        page.evaluate(Axe().axe_script)  # once per document: the views change by their hash
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']}" for v in result["violations"]]


def test_every_view_passes_axe(scene: Scene, pages: Pages, receiver: WebhookReceiver) -> None:
    scene.build()
    receiver.wait_for(scene.jobs["tower-plans"], "completed", timeout=5)
    page = pages.open()
    for route, ready in [
        ("#/jobs", "#jobs-body tr[data-job]"),
        (f"#/jobs/{scene.jobs['tower-plans']}", "#webhooks article"),
        ("#/clock", "#credits-body tr"),
        ("#/violations", "#violations-body tr"),
    ]:
        page.evaluate("(route) => { location.hash = route; }", route)
        page.wait_for_selector(ready)
        assert _axe(page) == [], route
    # the check can fail: a field without its label is caught
    page.evaluate("location.hash = '#/clock'")
    expect(page.get_by_label("seconds")).to_be_visible()
    page.evaluate("document.querySelector('label[for=advance-seconds]').remove()")
    assert any(v.startswith("label:") for v in _axe(page))


# --------------------------------------------------------------------------- keyboard


def test_keyboard_only(scene: Scene, pages: Pages) -> None:
    page = pages.open()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Clock and scenarios":
            break
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name="Clock and scenarios", level=1)
    expect(heading).to_be_focused()  # moved to the new view's heading
    outline = page.evaluate(
        "(() => { const a = document.querySelector('[data-view=clock]'); a.focus();"
        " return getComputedStyle(a).outlineStyle; })()"
    )
    assert outline == "solid"  # focus is visible
    page.get_by_label("seconds").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("7")
    page.keyboard.press("Enter")  # submits the advance form
    expect(page.locator("#advance-result")).to_contain_text("Advanced 7 s")
