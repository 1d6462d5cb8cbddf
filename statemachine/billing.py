"""Organisations' credits and the page estimate (API.md "Credits" and part B "pages")."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_CREDITS",
    "PROJECT_CREATION_CHARGE",
    "Account",
    "estimate_pages",
    "split_pages",
]

DEFAULT_CREDITS = 10_000
PROJECT_CREATION_CHARGE = 50
BYTES_PER_ESTIMATED_PAGE = 100_000


@dataclass(slots=True)
class Account:
    """An organisation's balance and profile (the documented defaults)."""

    org: str
    balance: int = DEFAULT_CREDITS
    drawing_credits_per_page: int = 10
    document_credits_per_page: int = 1
    job_page_limit: int = 500
    retention_days: int = 30


def estimate_pages(size: int, pages_per_file: int | None = None) -> int:
    """Pages of one file: the scenario's fixed count, else max(1, ceil(bytes / 100 kB))."""
    if pages_per_file is not None:
        return pages_per_file
    return max(1, -(-size // BYTES_PER_ESTIMATED_PAGE))


def split_pages(pages: int, classification: str | None) -> tuple[int, int]:
    """(drawing, document) pages of a file: plans are drawings, mixed is half each."""
    if classification == "plans":
        return pages, 0
    if classification == "mixed":
        return pages // 2, pages - pages // 2
    return 0, pages
