"""The dashboard at `/_mock/ui/`: its live feed and its static page (defined by the mock).

Its endpoints are declared in `mock_server/control/ui.py`; `create_app` wires the feed.
"""

from __future__ import annotations

from pathlib import Path

from .feed import FEED_KEY, LiveFeed

__all__ = ["FEED_KEY", "STATIC_DIR", "LiveFeed"]

STATIC_DIR = Path(__file__).resolve().parent / "static"
