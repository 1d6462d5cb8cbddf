"""What `check_receiver` sends: body styles, signature layouts, the mutation kinds, and the
request and answer records a report shows. Pure: no hypothesis, no I/O.

Every probe starts from a real event (API.md part B: `{"type": "job.status_changed",
"timestamp", "data": {"job", "previousStatus", "sequence"}}`) serialized in a `BodyStyle`, and
is either a valid delivery (signed with the job's secret now) or one mutation of it. Signatures
are HMAC-SHA256 over `id.timestamp.body` computed with the `standardwebhooks` library's
primitive; the checker signs bytes itself (rather than through `Webhook.sign`) because some
probes need what that method cannot express: a body that is not UTF-8, a timestamp in
milliseconds or one that is not a number.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from standardwebhooks.webhooks import hmac_data

from ..webhooks.signing import new_message_id, to_standard_secret

__all__ = [
    "ACCEPTED",
    "HEADER_CASES",
    "LAYOUTS",
    "MUTATIONS",
    "REJECTED",
    "TOLERANCE",
    "Answer",
    "BodyStyle",
    "Category",
    "Event",
    "Knobs",
    "Mutation",
    "Probe",
    "WireRequest",
    "build_request",
    "secret_key",
    "signature",
]

TOLERANCE = 300  # seconds either way (Standard Webhooks' default)
# stale and future probes stay a minute clear of the tolerance, so a receiver whose clock is a
# little off (or a slow run) is never judged on the edge
MARGIN = 60
USER_AGENT = "plangrep-mock-check-receiver/0.1"

Category = Literal["valid", "duplicate", "late", "forged", "stale", "future"]
Layout = Literal["single", "rotated_first", "rotated_last", "rotated_middle", "unknown_versions"]
LAYOUTS: tuple[Layout, ...] = (
    "single",
    "rotated_first",
    "rotated_last",
    "rotated_middle",
    "unknown_versions",
)
HeaderCase = Literal["lower", "title", "upper"]
HEADER_CASES: tuple[HeaderCase, ...] = ("lower", "title", "upper")


# --------------------------------------------------------------------------- secrets, signatures


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `wss_` (or `whsec_`) secret; `InvalidSecret` (a ValueError) if it is
    not one."""
    return base64.b64decode(to_standard_secret(secret).split("_", 1)[1])


def signature(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` over the exact bytes given."""
    mac = hmac_data(key, f"{msg_id}.{timestamp}.".encode() + body)
    return "v1," + base64.b64encode(mac).decode("ascii")


def _other_key() -> bytes:
    return secrets.token_bytes(24)


# --------------------------------------------------------------------------- bodies


_ASTRAL_OR_SEPARATOR = re.compile("[\u2028\u2029\U00010000-\U0010ffff]")
_HEX_ESCAPE = re.compile(r"(\\\\)|\\u([0-9a-f]{4})")


def _escape(match: re.Match[str]) -> str:
    return json.dumps(match.group(0))[1:-1]  # \u2028, or a surrogate pair for astral ones


def _upper_hex(match: re.Match[str]) -> str:
    if match.group(1):  # an escaped backslash: leave it (and what follows) alone
        return match.group(1)
    return "\\u" + match.group(2).upper()


@dataclass(frozen=True, slots=True)
class BodyStyle:
    """How an event is serialized: every style is valid JSON for the same value, and a receiver
    that verifies the raw bytes accepts them all. One that re-serializes before verifying does
    not."""

    escape: Literal["ascii", "utf8", "mixed"] = "ascii"  # mixed: raw UTF-8 except U+2028/9
    # and astral characters, escaped as JavaScript encoders do
    indent: int | str | None = None
    spaced: bool = False  # ", " and ": " between items (compact bodies only)
    key_order: Literal["sent", "reversed", "sorted", "shuffled"] = "sent"
    shuffle_seed: int = 0
    escape_slashes: bool = False  # "\/": valid JSON, never produced by Python's encoder
    upper_hex: bool = False  # "\u00E9" rather than "\u00e9"
    lead: str = ""  # JSON whitespace before and after the value
    trail: str = ""

    def __post_init__(self) -> None:
        for name in ("lead", "trail"):
            value = getattr(self, name)
            if value.strip(" \t\r\n"):
                raise ValueError(f"BodyStyle.{name} must be JSON whitespace, got {value!r}")

    def _order(self, value: Any, rng: random.Random) -> Any:
        if isinstance(value, dict):
            items = [(k, self._order(v, rng)) for k, v in value.items()]
            if self.key_order == "reversed":
                items.reverse()
            elif self.key_order == "sorted":
                items.sort()
            elif self.key_order == "shuffled":
                rng.shuffle(items)
            return dict(items)
        if isinstance(value, list):
            return [self._order(v, rng) for v in value]
        return value

    def render(self, payload: Mapping[str, Any]) -> bytes:
        value = self._order(dict(payload), random.Random(self.shuffle_seed))
        if self.indent is not None:
            separators = (",", ": ")
        else:
            separators = (", ", ": ") if self.spaced else (",", ":")
        text = json.dumps(
            value,
            ensure_ascii=self.escape == "ascii",
            indent=self.indent,
            separators=separators,
            allow_nan=False,
        )
        # the characters replaced below occur only inside strings, never in JSON's syntax
        if self.escape == "mixed":
            text = _ASTRAL_OR_SEPARATOR.sub(_escape, text)
        if self.upper_hex:
            text = _HEX_ESCAPE.sub(_upper_hex, text)
        if self.escape_slashes:
            text = text.replace("/", "\\/")
        return (self.lead + text + self.trail).encode("utf-8")

    def describe(self) -> str:
        parts = [
            {"ascii": "ASCII-escaped", "utf8": "raw UTF-8", "mixed": "mixed escapes"}[self.escape]
        ]
        if self.indent is not None:
            parts.append(f"indent {self.indent!r}")
        elif self.spaced:
            parts.append("spaced separators")
        else:
            parts.append("compact")
        if self.key_order != "sent":
            parts.append(f"keys {self.key_order}")
        if self.escape_slashes:
            parts.append("escaped slashes")
        if self.upper_hex:
            parts.append("upper-case \\u escapes")
        if self.lead or self.trail:
            parts.append(f"whitespace around ({self.lead!r}, {self.trail!r})")
        return ", ".join(parts)


# --------------------------------------------------------------------------- events and probes


@dataclass(frozen=True, slots=True, eq=False)
class Event:
    """One real event of one job, as the mock's dispatcher builds it."""

    job_id: str
    status: str
    previous_status: str
    sequence: int
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Knobs:
    """The drawn details of one probe; each mutation reads the fields it needs."""

    layout: Layout = "single"  # valid kinds: the signature list
    skew: int = 0  # valid kinds: seconds added to now in the signed timestamp
    header_case: HeaderCase = "lower"
    offset: int = 0  # stale/future: seconds beyond the tolerance; timestamp_swapped: +delta
    position: float = 0.0  # body_byte_changed: where, as a fraction of the body
    byte: int = 0  # body_byte_changed: the new byte (bumped when it equals the old one)
    variant: int = 0  # which form of a malformed header or body


@dataclass(frozen=True, slots=True)
class WireRequest:
    """An HTTP request exactly as sent: the body bytes and every header the checker set
    (aiohttp adds Host and Content-Length; neither is signed)."""

    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    method: str = "POST"

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def as_dict(self) -> dict[str, Any]:
        """For JSON reports: the body in full as base64, plus a readable head."""
        return {
            "method": self.method,
            "url": self.url,
            "headers": [[k, v] for k, v in self.headers],
            "bodyLength": len(self.body),
            "bodySha256": hashlib.sha256(self.body).hexdigest(),
            "bodyHead": _show(self.body, 300),
            "bodyBase64": base64.b64encode(self.body).decode("ascii"),
        }

    def lines(self, head: int = 300) -> list[str]:
        out = [f"{self.method} {self.url}"]
        out.extend(f"{k}: {v!r}" if _unsafe(v) else f"{k}: {v}" for k, v in self.headers)
        out.append(
            f"body: {len(self.body)} bytes, sha256 {hashlib.sha256(self.body).hexdigest()[:16]}"
            f"..., first {min(head, len(self.body))}: {_show(self.body, head)}"
        )
        return out


def _unsafe(value: str) -> bool:
    return not value.isascii() or not value.isprintable()


def _show(data: bytes, limit: int) -> str:
    shown = repr(data[:limit])
    return shown + (" ..." if len(data) > limit else "")


@dataclass(frozen=True, slots=True)
class Answer:
    """What the receiver did with one probe."""

    status: int | None  # None: no HTTP answer (see `error`)
    latency: float  # seconds until the status line and headers arrived (or the failure)
    error: str | None = None  # timeout | reset | refused | ... (dispatcher.classify_error)
    detail: str | None = None
    body_head: bytes = b""
    body_length: int = 0

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def crashed(self) -> bool:
        return self.status is None or self.status >= 500

    def describe(self) -> str:
        if self.status is None:
            return f"no answer ({self.error}: {self.detail}) after {self.latency * 1000:.1f} ms"
        body = f": {_show(self.body_head, 120)}" if self.body_head else ""
        return f"{self.status} after {self.latency * 1000:.1f} ms{body}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "latencyMs": round(self.latency * 1000, 3),
            "error": self.error,
            "errorDetail": self.detail,
            "bodyLength": self.body_length,
            "bodyHead": _show(self.body_head, 300),
        }


@dataclass(frozen=True, slots=True)
class Probe:
    """One request of the campaign: which mutation of which event, and the request itself."""

    index: int
    kind: str  # a key of MUTATIONS
    knobs: Knobs
    event: Event
    style: BodyStyle
    request: WireRequest
    example: int  # 0 for the canonical campaign, then hypothesis's examples from 1
    note: str = ""  # what exactly was changed

    @property
    def mutation(self) -> Mutation:
        return MUTATIONS[self.kind]

    def describe(self) -> str:
        what = self.kind if not self.note else f"{self.kind} [{self.note}]"
        return (
            f"{what} for {self.event.job_id}, event {self.event.sequence} "
            f"({self.event.previous_status} -> {self.event.status})"
        )


# --------------------------------------------------------------------------- building requests


@dataclass(slots=True)
class _Frame:
    """A delivery being built: headers by canonical name, the body, a note on the change."""

    msg_id: str
    timestamp: str
    body: bytes
    signature: str
    headers: dict[str, str | None] = field(default_factory=dict)
    note: str = ""


Builder = Callable[["_Context", _Frame], None]


@dataclass(frozen=True, slots=True)
class _Context:
    key: bytes
    now: int
    event: Event
    style: BodyStyle
    knobs: Knobs


def _layout(ctx: _Context, f: _Frame, valid: str) -> tuple[str, str]:
    def old() -> str:  # another (old) key's signature of the same content, as rotation sends
        return signature(_other_key(), f.msg_id, f.timestamp, f.body)

    layout = ctx.knobs.layout
    if layout == "rotated_first":
        return f"{valid} {old()}", "the valid signature first, then an old key's"
    if layout == "rotated_last":
        return f"{old()} {valid}", "an old key's signature first, the valid one last"
    if layout == "rotated_middle":
        return f"{old()} {valid} {old()}", "the valid signature between two old keys'"
    if layout == "unknown_versions":
        v1a = base64.b64encode(secrets.token_bytes(64)).decode("ascii")
        v2 = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        return f"v1a,{v1a} {valid} v2,{v2}", "v1a and v2 signatures beside the valid v1"
    return valid, ""


def _valid(ctx: _Context, f: _Frame) -> None:
    f.timestamp = str(ctx.now + ctx.knobs.skew)
    sig = signature(ctx.key, f.msg_id, f.timestamp, f.body)
    f.signature, f.note = _layout(ctx, f, sig)
    if ctx.knobs.skew:
        skew = f"timestamp {ctx.knobs.skew:+d} s"
        f.note = f"{f.note}; {skew}" if f.note else skew


def _resign(ctx: _Context, f: _Frame) -> None:
    f.signature = signature(ctx.key, f.msg_id, f.timestamp, f.body)


def _wrong_secret(ctx: _Context, f: _Frame) -> None:
    f.signature = signature(_other_key(), f.msg_id, f.timestamp, f.body)


def _body_byte_changed(ctx: _Context, f: _Frame) -> None:
    body = bytearray(f.body)
    i = min(int(ctx.knobs.position * len(body)), len(body) - 1)
    old = body[i]
    new = ctx.knobs.byte if ctx.knobs.byte != old else (old + 1) % 256
    body[i] = new
    f.body = bytes(body)
    f.note = f"byte {i} of {len(body)}: {bytes([old])!r} -> {bytes([new])!r}"


def _body_tampered(ctx: _Context, f: _Frame) -> None:
    payload = json.loads(json.dumps(ctx.event.payload))
    job = payload["data"]["job"]
    claimed = "completed" if job.get("status") != "completed" else "failed"
    job["status"] = claimed
    f.body = ctx.style.render(payload)
    f.note = f"the job's status changed to {claimed} after signing"


def _missing(header: str) -> Builder:
    def build(ctx: _Context, f: _Frame) -> None:
        f.headers[header] = None

    return build


_EMPTY_FORMS = ("", "v1,", "v1")


def _empty_signature(ctx: _Context, f: _Frame) -> None:
    f.signature = _EMPTY_FORMS[ctx.knobs.variant % len(_EMPTY_FORMS)]
    f.note = f"webhook-signature: {f.signature!r}"


def _bad_base64(ctx: _Context, f: _Frame) -> None:
    raw = f.signature.split(",", 1)[1]
    variant = ctx.knobs.variant % 3
    if variant == 0:  # characters replaced (not inserted: a lenient decoder must not skip them
        # back into the valid bytes)
        chars = list(raw)
        for i in (3, 11, 20):
            chars[i] = "!"
        f.signature = "v1," + "".join(chars)
    elif variant == 1:
        f.signature = "v1,%%%" + raw[3:-4] + "%%%="
    else:  # spaces: the header splits into entries that have no comma at all
        f.signature = "v1,not base64 at all"
    f.note = f"webhook-signature: {f.signature!r}"


def _wrong_length(ctx: _Context, f: _Frame) -> None:
    mac = base64.b64decode(f.signature.split(",", 1)[1])
    variant = ctx.knobs.variant % 3
    if variant == 0:
        short = mac[:16]
        f.signature, f.note = "v1," + base64.b64encode(short).decode(), "the first 16 bytes"
    elif variant == 1:
        long = mac + secrets.token_bytes(8)
        f.signature, f.note = "v1," + base64.b64encode(long).decode(), "32 bytes + 8 more"
    else:
        f.signature, f.note = "v1,AA==", "one zero byte"


def _non_ascii(ctx: _Context, f: _Frame) -> None:
    raw = f.signature.split(",", 1)[1]
    variant = ctx.knobs.variant % 2
    f.signature = "v1," + (raw[:5] + "é" + raw[6:] if variant == 0 else "☃" * 8)
    f.note = f"webhook-signature: {f.signature!r}"


def _v1_equals(ctx: _Context, f: _Frame) -> None:
    if ctx.knobs.variant % 2 == 0:
        f.signature = f.signature.replace("v1,", "v1=", 1)
        f.note = "the valid signature written v1=... (not the v1,... form)"
    else:
        f.signature = "v1=" + base64.b64encode(_other_key() + _other_key()[:8]).decode()
        f.note = "v1=<random bytes>"


def _id_swapped(ctx: _Context, f: _Frame) -> None:
    f.headers["webhook-id"] = new_message_id()
    f.note = "signed for another webhook-id"


def _timestamp_swapped(ctx: _Context, f: _Frame) -> None:
    delta = 1 + ctx.knobs.offset % 120
    if ctx.knobs.variant % 2:
        delta = -delta
    f.headers["webhook-timestamp"] = str(int(f.timestamp) + delta)
    f.note = f"signed at {f.timestamp}, sent with webhook-timestamp {delta:+d} s"


_NOT_NUMBERS = ("hello", "-1", "17e", "0x6553f100", "1.7e9", " ")


def _timestamp_not_a_number(ctx: _Context, f: _Frame) -> None:
    text = _NOT_NUMBERS[ctx.knobs.variant % len(_NOT_NUMBERS)]
    f.headers["webhook-timestamp"] = text
    f.note = f"webhook-timestamp: {text!r}"


def _garbage_body(ctx: _Context, f: _Frame) -> None:
    forms: tuple[tuple[bytes, str], ...] = (
        (b"", "an empty body"),
        (b"\xff\xfe\x00{not utf-8", "bytes that are not UTF-8"),
        (b"not json", "text that is not JSON"),
        (b"[" * 50_000 + b"]" * 50_000, "JSON nested 50,000 levels deep"),
        (b'{"type": "job.status_changed"', "truncated JSON"),
        (b"null", "JSON null"),
    )
    f.body, f.note = forms[ctx.knobs.variant % len(forms)]


def _stale(ctx: _Context, f: _Frame) -> None:
    age = TOLERANCE + MARGIN + ctx.knobs.offset
    f.timestamp = str(ctx.now - age)
    _resign(ctx, f)
    f.note = f"signed {age} s ago"


def _future(ctx: _Context, f: _Frame) -> None:
    ahead = TOLERANCE + MARGIN + ctx.knobs.offset
    f.timestamp = str(ctx.now + ahead)
    _resign(ctx, f)
    f.note = f"signed {ahead} s ahead"


def _milliseconds(ctx: _Context, f: _Frame) -> None:
    f.timestamp = str(ctx.now * 1000 + ctx.knobs.offset % 1000)
    _resign(ctx, f)
    f.note = f"webhook-timestamp {f.timestamp} (milliseconds), correctly signed"


@dataclass(frozen=True, slots=True)
class Mutation:
    """One kind of probe: its category decides the rules that judge it; `fix` tells the
    developer what a receiver that accepted it got wrong."""

    name: str
    category: Category
    description: str
    build: Builder
    fix: str = ""
    fresh_id: bool = True  # a new webhook-id (False: the event's own id, as a retry has)

    @property
    def expect_accept(self) -> bool:
        return self.category in ("valid", "duplicate", "late")


_ALL: tuple[Mutation, ...] = (
    Mutation("valid", "valid", "a valid delivery", _valid, fresh_id=False),
    Mutation(
        "duplicate",
        "duplicate",
        "the same event again: same webhook-id, fresh timestamp and signature (a retry)",
        _valid,
        fresh_id=False,
    ),
    Mutation(
        "late",
        "late",
        "a valid delivery of an older status, sent after a newer one",
        _valid,
        fresh_id=False,
    ),
    Mutation(
        "wrong_secret",
        "forged",
        "signed with another secret",
        _wrong_secret,
        "verify with the job's secret and compare the result with the signatures sent",
    ),
    Mutation(
        "body_byte_changed",
        "forged",
        "one byte of the body changed after signing",
        _body_byte_changed,
        "sign the raw body bytes as received",
    ),
    Mutation(
        "body_tampered",
        "forged",
        "the body re-serialized with another job status after signing",
        _body_tampered,
        "sign the raw body bytes as received, and trust nothing in it before it verifies",
    ),
    Mutation(
        "missing_webhook_id",
        "forged",
        "no webhook-id header",
        _missing("webhook-id"),
        "reject a delivery without webhook-id: the id is part of the signed content",
    ),
    Mutation(
        "missing_webhook_timestamp",
        "forged",
        "no webhook-timestamp header",
        _missing("webhook-timestamp"),
        "reject a delivery without webhook-timestamp: it is signed and bounds replays",
    ),
    Mutation(
        "missing_webhook_signature",
        "forged",
        "no webhook-signature header",
        _missing("webhook-signature"),
        "reject a delivery without a signature",
    ),
    Mutation(
        "empty_signature",
        "forged",
        "an empty webhook-signature",
        _empty_signature,
        "reject an empty signature",
    ),
    Mutation(
        "signature_bad_base64",
        "forged",
        "a signature that is not base64",
        _bad_base64,
        "decode the signature strictly and reject what does not decode",
    ),
    Mutation(
        "signature_wrong_length",
        "forged",
        "a signature of the wrong length",
        _wrong_length,
        "compare the whole 32-byte HMAC (hmac.compare_digest), never a prefix",
    ),
    Mutation(
        "signature_non_ascii",
        "forged",
        "a signature with non-ASCII characters",
        _non_ascii,
        "reject signatures that are not base64",
    ),
    Mutation(
        "signature_v1_equals",
        "forged",
        "a signature in the v1=... form",
        _v1_equals,
        "accept only `v1,<base64>` entries",
    ),
    Mutation(
        "id_swapped",
        "forged",
        "a webhook-id other than the one signed",
        _id_swapped,
        "sign `webhook-id.webhook-timestamp.body`, not the body alone",
    ),
    Mutation(
        "timestamp_swapped",
        "forged",
        "a webhook-timestamp other than the one signed (within the tolerance)",
        _timestamp_swapped,
        "sign `webhook-id.webhook-timestamp.body`, not the body alone",
    ),
    Mutation(
        "timestamp_not_a_number",
        "forged",
        "a webhook-timestamp that is not an integer",
        _timestamp_not_a_number,
        "parse the timestamp as an integer and reject anything else",
    ),
    Mutation(
        "garbage_body",
        "forged",
        "a body that is not the signed event (empty, not UTF-8, not JSON, deeply nested)",
        _garbage_body,
        "verify before parsing the body",
    ),
    Mutation(
        "stale_timestamp",
        "stale",
        "correctly signed, but the timestamp is more than 6 minutes old",
        _stale,
        "reject timestamps older than 5 minutes",
    ),
    Mutation(
        "future_timestamp",
        "future",
        "correctly signed, but the timestamp is more than 6 minutes ahead",
        _future,
        "reject timestamps more than 5 minutes ahead",
    ),
    Mutation(
        "millisecond_timestamp",
        "future",
        "correctly signed, but the timestamp is in milliseconds",
        _milliseconds,
        "webhook-timestamp is in seconds: a millisecond value lies thousands of years ahead",
    ),
)

MUTATIONS: Mapping[str, Mutation] = {m.name: m for m in _ALL}
ACCEPTED: tuple[str, ...] = tuple(m.name for m in _ALL if m.expect_accept)
REJECTED: tuple[str, ...] = tuple(m.name for m in _ALL if not m.expect_accept)
_HEADER_NAMES = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _case(name: str, case: HeaderCase) -> str:
    if case == "title":
        return "-".join(part.capitalize() for part in name.split("-"))
    return name.upper() if case == "upper" else name


def build_request(
    kind: str,
    event: Event,
    *,
    url: str,
    key: bytes,
    msg_id: str,
    now: int,
    style: BodyStyle,
    knobs: Knobs = Knobs(),  # frozen: a shared default is safe
    body: bytes | None = None,
) -> tuple[WireRequest, str]:
    """The request of one probe and a note on what it changed. `msg_id` is the event's own id;
    mutations with `fresh_id` get a new one. `body`: the event already rendered in `style`."""
    mutation = MUTATIONS[kind]
    rendered = style.render(event.payload) if body is None else body
    frame = _Frame(
        msg_id=new_message_id() if mutation.fresh_id else msg_id,
        timestamp=str(now),
        body=rendered,
        signature="",
    )
    ctx = _Context(key, now, event, style, knobs)
    if mutation.category in ("valid", "duplicate", "late"):
        mutation.build(ctx, frame)
    else:
        # every mutation starts from a correctly signed delivery of now and changes one thing
        _resign(ctx, frame)
        mutation.build(ctx, frame)
    values: dict[str, str | None] = {
        "webhook-id": frame.msg_id,
        "webhook-timestamp": frame.timestamp,
        "webhook-signature": frame.signature,
    }
    values.update(frame.headers)
    headers: list[tuple[str, str]] = [
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
    ]
    for name in _HEADER_NAMES:
        value = values[name]
        if value is not None:
            headers.append((_case(name, knobs.header_case), value))
    return WireRequest(url, tuple(headers), frame.body), frame.note
