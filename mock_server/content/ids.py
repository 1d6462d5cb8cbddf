"""Seeds and entity ids: stable hashes, never Python's salted `hash()`.

Entity ids are a prefix plus 26 lowercase Crockford base32 characters, like Plangrep's other ids.
The docs only show placeholders (`sheet_001`, `region_001`, `spec_001`, `section_001`,
`facet_001`, `doc_001`, `ev_001`), so the prefixes follow those and the rest is defined by the
mock: 130 random bits drawn from a generator seeded per document.
"""

from __future__ import annotations

import hashlib
import random

from statemachine.ids import ulid

__all__ = ["IdSource", "stable_seed"]

_BITS_80 = (1 << 80) - 1


def stable_seed(*parts: object) -> int:
    """A 128-bit integer from `parts`, the same in every process and on every platform."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")


class IdSource:
    """Entity ids drawn in order from a generator seeded by `parts`: the same parts give the same
    ids in the same order."""

    __slots__ = ("_rng",)

    def __init__(self, *parts: object) -> None:
        self._rng = random.Random(stable_seed("ids", *parts))

    def new(self, prefix: str) -> str:
        bits = self._rng.getrandbits(130)
        # spelled as the server's ids are: 130 bits are 26 characters, the top 50 where a
        # ULID has its time (entity ids are random throughout)
        return ulid(prefix, bits >> 80, bits & _BITS_80)
