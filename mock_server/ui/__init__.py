"""The dashboard at `/_mock/ui/`: a live page over the control API (defined by the mock)."""

from __future__ import annotations

from .feed import LiveFeed
from .routes import FEED_KEY, UI_PREFIX, setup_ui

__all__ = ["FEED_KEY", "UI_PREFIX", "LiveFeed", "setup_ui"]
