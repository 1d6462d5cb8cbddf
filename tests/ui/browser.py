"""Headless Chromium for the dashboard's tests, screenshots and benchmark.

The browser is Debian's `chromium` package (installed by `.ci/run`), driven by Playwright with
`executable_path`: Playwright's own browser download is never used. Chromium starts headless with
its background networking off (this machine's closed network refuses those connections).
`PLANGREP_MOCK_CHROMIUM` names another binary.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["CHROMIUM_ARGS", "chromium", "find_chromium", "missing_browser"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    named = os.environ.get("PLANGREP_MOCK_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if find_chromium() is None:
        return (
            "no chromium binary on PATH (apt-get install chromium; .ci/run installs it) "
            "and PLANGREP_MOCK_CHROMIUM is not set"
        )
    return None


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on exit."""
    from playwright.sync_api import sync_playwright

    path = find_chromium()
    if path is None:
        raise RuntimeError(missing_browser() or "no chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
