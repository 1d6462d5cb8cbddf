"""Ids: a prefix and a ULID of the virtual time in lowercase Crockford base32."""

from __future__ import annotations

__all__ = ["ulid"]

# Ids are ULIDs spelled in lowercase Crockford base32 (no i, l, o, u), like the docs' ids
# (job_01hy3m8qtn2e5r7k9p0w4x1def): 10 characters of milliseconds of virtual time, so ids sort by
# creation like the docs' examples, then 16 characters of 80 seeded random bits. Spelled 10 bits
# (two characters) at a time; the time part is spelled once per millisecond.
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_ID_PAIRS = [a + b for a in _ID_ALPHABET for b in _ID_ALPHABET]
_BITS_80 = (1 << 80) - 1


def ulid(prefix: str, ms: int, bits: int) -> str:
    """`prefix` + the ULID of `ms` (milliseconds since the epoch) and 80 random `bits`."""
    p = _ID_PAIRS
    return "".join(
        (
            prefix,
            p[(ms >> 40) & 1023],
            p[(ms >> 30) & 1023],
            p[(ms >> 20) & 1023],
            p[(ms >> 10) & 1023],
            p[ms & 1023],
            p[(bits >> 70) & 1023],
            p[(bits >> 60) & 1023],
            p[(bits >> 50) & 1023],
            p[(bits >> 40) & 1023],
            p[(bits >> 30) & 1023],
            p[(bits >> 20) & 1023],
            p[(bits >> 10) & 1023],
            p[bits & 1023],
        )
    )
