"""API keys and sessions: every bearer key the server accepts, in one registry.

Documented by Plangrep (API.md part A, "Basics" and "Workspace API keys"): keys look like
`pgk_live_...`; a signed-in session of the app (cookie `plangrep_session`) creates keys with a
label, scopes and an optional `expiresAt`, sees the plaintext once (Plangrep keeps a hash),
lists them with `lastUsedAt` / `lastUsedIp`, and revokes one or all; a revoked or expired key
gets 401 on its next request.

Defined by the mock (part B): the keys given to `serve --api-key` are in the same registry as the
keys created through a session (listed, revocable, audited alike); without configured keys any
other non-empty bearer token is accepted with every scope and is its own organisation ("open
mode"), while a created key always has exactly its own organisation and scopes, and a revoked or
expired one stays refused. Expiry runs on the virtual clock. A session is any non-empty `Cookie`
header: the value of its `plangrep_session` cookie (else the whole header) names it, the control
API maps it to an organisation (`PUT /_mock/sessions/{cookieValue}`), and an unknown one signs
into the default organisation (the first configured key's, else `default`), unless the server
was told to refuse unknown sessions.

What is kept of a created key is its SHA-256 digest (`hashVersion` "v1"), never the plaintext.
Every public request authenticates here, so `use` stays small: a dict lookup for configured and
open-mode keys, one SHA-256 (about 1 us) for created ones, one comparison for expiry and two
attribute writes for `lastUsedAt` / `lastUsedIp`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from statemachine import format_time
from statemachine.ids import ulid

from .config import ALL_SCOPES, KeySpec

__all__ = [
    "DEFAULT_ORG",
    "HASH_VERSION",
    "KEY_PREFIX",
    "MAX_COOKIE_CHARS",
    "MAX_LABEL_CHARS",
    "SESSION_COOKIE",
    "KeyRecord",
    "KeyRefused",
    "KeyRegistry",
    "ResolvedKey",
    "Session",
    "SessionBook",
    "session_value",
]

KEY_PREFIX = "pgk_live_"
HASH_VERSION = "v1"  # sha256 of the plaintext
SESSION_COOKIE = "plangrep_session"
DEFAULT_ORG = "default"
MAX_LABEL_CHARS = 120
MAX_COOKIE_CHARS = 1024
_PREFIX_CHARS = len(KEY_PREFIX) + 4  # keyPrefix: "pgk_live_abc1", as in the docs' example
_OPEN_CACHE = 100_000  # open mode accepts any token: the cache of resolved ones stays bounded

Refusal = Literal["unknown", "revoked", "expired"]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def _id_bits(data: bytes) -> int:
    """80 bits from a digest, for ids derived from a value (a configured key, a cookie)."""
    return int.from_bytes(data[:10], "big")


class Caller(Protocol):
    """Who sent a request: an aiohttp request has `remote`."""

    @property
    def remote(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """Who a bearer key is (who is calling): its organisation, the key as sent, its scopes."""

    org: str
    api_key: str
    scopes: frozenset[str]


class KeyRefused(Exception):
    """A bearer key the registry refuses: unknown, revoked (`at` its revocation) or expired
    (`at` its expiresAt), as of the virtual time it was used."""

    def __init__(self, reason: Refusal, at: float | None = None) -> None:
        self.reason = reason
        self.at = at
        super().__init__(reason if at is None else f"{reason} at {format_time(at)}")


class KeyRecord:
    """One key: what `GET /api/open-api/keys` lists. Mutable: use and revocation update it."""

    __slots__ = (
        "configured",
        "created_at",
        "created_by",
        "digest",
        "expires_at",
        "id",
        "key_prefix",
        "label",
        "last_used_at",
        "last_used_ip",
        "org",
        "resolved",
        "revoked_at",
        "scope_list",
        "scopes",
    )

    def __init__(
        self,
        *,
        key_id: str,
        org: str,
        label: str,
        key_prefix: str,
        digest: bytes,
        scopes: Iterable[str],
        created_by: str,
        created_at: float,
        expires_at: float | None,
        configured: bool,
    ) -> None:
        self.id = key_id
        self.org = org
        self.label = label
        self.key_prefix = key_prefix
        self.digest = digest
        self.scope_list = tuple(dict.fromkeys(scopes))  # as given, without repeats
        self.resolved: ResolvedKey | None = None  # its identity, once it has been used
        self.scopes = frozenset(self.scope_list)
        self.created_by = created_by
        self.created_at = created_at
        self.expires_at = expires_at
        self.configured = configured
        self.last_used_at: float | None = None
        self.last_used_ip: str | None = None
        self.revoked_at: float | None = None

    def refusal(self, now: float) -> KeyRefused | None:
        """Why the key cannot be used at `now` (revoked first), or None when it can."""
        if self.revoked_at is not None:
            return KeyRefused("revoked", self.revoked_at)
        if self.expires_at is not None and now >= self.expires_at:
            return KeyRefused("expired", self.expires_at)
        return None

    def wire(self) -> dict[str, Any]:
        """The documented key object (`OpenApiKey`)."""

        def when(t: float | None) -> str | None:
            return None if t is None else format_time(t)

        return {
            "id": self.id,
            "label": self.label,
            "keyPrefix": self.key_prefix,
            "scopes": list(self.scope_list),
            "createdByUserId": self.created_by,
            "hashVersion": HASH_VERSION,
            "createdAt": format_time(self.created_at),
            "expiresAt": when(self.expires_at),
            "lastUsedAt": when(self.last_used_at),
            "lastUsedIp": self.last_used_ip,
            "revokedAt": when(self.revoked_at),
        }


_CONFIGURED_BY = ulid("usr_", 0, _id_bits(_digest("plangrep-mock --api-key")))


def _configured_record(spec: KeySpec, created_at: float) -> KeyRecord:
    digest = _digest(spec.key)
    shown = min(_PREFIX_CHARS, len(spec.key) // 2)  # never the whole of a short key
    return KeyRecord(
        key_id=ulid("key_", int(created_at * 1000), _id_bits(digest)),
        org=spec.organisation,
        label="serve --api-key",
        key_prefix=spec.key[:shown],
        digest=digest,
        scopes=sorted(spec.scopes),
        created_by=_CONFIGURED_BY,
        created_at=created_at,
        expires_at=None,
        configured=True,
    )


class KeyRegistry:
    """Every key the server accepts: configured ones (`serve --api-key`), ones created through
    a session, and, in open mode (no configured key), any other non-empty token."""

    def __init__(self, specs: tuple[KeySpec, ...] = (), *, created_at: float = 0.0) -> None:
        self._specs = specs
        self._created_at = created_at
        self._open_mode = not specs
        self._default_org = specs[0].organisation if specs else DEFAULT_ORG
        self._records: dict[str, KeyRecord] = {}  # id -> record, in creation order
        self._by_digest: dict[bytes, KeyRecord] = {}
        self._configured: dict[str, KeyRecord] = {}  # plaintext -> record (the config has it)
        self._open: dict[str, ResolvedKey] = {}  # open-mode tokens seen
        self._revoked_open: dict[str, float] = {}
        self.reset()

    @property
    def open(self) -> bool:
        return self._open_mode

    @property
    def default_org(self) -> str:
        """The organisation an unknown session signs into."""
        return self._default_org

    def reset(self) -> None:
        """Forget created keys, revocations and use; the configured keys stay, as new."""
        self._records.clear()
        self._by_digest.clear()
        self._configured.clear()
        self._open.clear()
        self._revoked_open.clear()
        for spec in self._specs:
            record = _configured_record(spec, self._created_at)
            self._configured[spec.key] = record
            self._add(record)

    def _add(self, record: KeyRecord) -> None:
        self._records[record.id] = record
        self._by_digest[record.digest] = record

    # -- authentication (every public request) -------------------------------------------

    def use(self, token: str, *, now: float, caller: Caller) -> ResolvedKey:
        """Authenticate one request made at `now` by `caller` (its `remote` address): the key's
        identity, its use recorded (`lastUsedAt`, `lastUsedIp`); raises KeyRefused otherwise.
        The address is read only for a key that records it (reading it costs a system call)."""
        record = self._configured.get(token)
        if record is None:
            known = self._open.get(token)
            if known is not None:
                return known
            if not token:
                raise KeyRefused("unknown")
            record = self._by_digest.get(_digest(token))
            if record is None:
                return self._open_key(token)
        refused = record.refusal(now)
        if refused is not None:
            raise refused
        record.last_used_at = now
        record.last_used_ip = caller.remote
        resolved = record.resolved
        if resolved is None or resolved.api_key != token:  # built once per key
            resolved = record.resolved = ResolvedKey(record.org, token, record.scopes)
        return resolved

    def _open_key(self, token: str) -> ResolvedKey:
        if not self._open_mode:
            raise KeyRefused("unknown")
        revoked = self._revoked_open.get(token)
        if revoked is not None:
            raise KeyRefused("revoked", revoked)
        resolved = ResolvedKey(token, token, ALL_SCOPES)  # its own organisation
        if len(self._open) < _OPEN_CACHE:
            self._open[token] = resolved
        return resolved

    def resolve(self, token: str, *, now: float = 0.0) -> ResolvedKey | None:
        """The key's identity at `now` without recording a use, or None when it is refused."""
        record = self._record_of(token)
        if record is None:
            try:
                return self._open_key(token) if token else None
            except KeyRefused:
                return None
        if record.refusal(now) is not None:
            return None
        return ResolvedKey(record.org, token, record.scopes)

    def _record_of(self, token: str) -> KeyRecord | None:
        record = self._configured.get(token)
        if record is None and token and token not in self._open:
            record = self._by_digest.get(_digest(token))
        return record

    # -- the control API ---------------------------------------------------------------

    def organisation(self, token: str) -> str | None:
        """The organisation of a key whether or not it is revoked or expired."""
        record = self._record_of(token)
        if record is not None:
            return record.org
        return token if token and self._open_mode else None

    def revoke(self, token: str, *, now: float = 0.0) -> None:
        """Revoke a key by its plaintext (`POST /_mock/keys/{apiKey}/revoke`)."""
        record = self._record_of(token)
        if record is not None:
            if record.revoked_at is None:
                record.revoked_at = now
            return
        self._revoked_open.setdefault(token, now)
        self._open.pop(token, None)

    def is_revoked(self, token: str) -> bool:
        record = self._record_of(token)
        if record is not None:
            return record.revoked_at is not None
        return token in self._revoked_open

    # -- workspace keys (a session's organisation) ---------------------------------------

    def create(
        self,
        org: str,
        *,
        label: str,
        scopes: Iterable[str],
        expires_at: float | None,
        created_by: str,
        now: float,
    ) -> tuple[KeyRecord, str]:
        """A new key of `org` and its plaintext (shown once; only its digest is kept)."""
        plaintext = KEY_PREFIX + secrets.token_hex(20)
        record = KeyRecord(
            key_id=ulid("key_", int(now * 1000), secrets.randbits(80)),
            org=org,
            label=label,
            key_prefix=plaintext[:_PREFIX_CHARS],
            digest=_digest(plaintext),
            scopes=scopes,
            created_by=created_by,
            created_at=now,
            expires_at=expires_at,
            configured=False,
        )
        self._add(record)
        return record, plaintext

    def keys_of(self, org: str) -> list[KeyRecord]:
        """The organisation's keys, oldest first (configured ones included)."""
        return [r for r in self._records.values() if r.org == org]

    def get(self, org: str, key_id: str) -> KeyRecord | None:
        """A key of `org` by id; None for an unknown id or another organisation's key."""
        record = self._records.get(key_id)
        return record if record is not None and record.org == org else None

    def revoke_record(self, record: KeyRecord, *, now: float) -> KeyRecord:
        """Revoke one key (revoking it again keeps the first `revokedAt`)."""
        if record.revoked_at is None:
            record.revoked_at = now
        return record

    def revoke_all(self, org: str, *, now: float) -> list[KeyRecord]:
        """Revoke every key of `org` that is not revoked yet; returns all of its keys."""
        keys = self.keys_of(org)
        for record in keys:
            self.revoke_record(record, now=now)
        return keys


# -- sessions ------------------------------------------------------------------------------


def session_value(cookie_header: str | None) -> str | None:
    """The session a `Cookie` header names: its `plangrep_session` cookie, else the whole
    header; None for a missing or blank header."""
    if cookie_header is None:
        return None
    header = cookie_header.strip()
    if not header:
        return None
    for part in header.split(";"):
        name, sep, value = part.partition("=")
        if sep and name.strip() == SESSION_COOKIE:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value or None
    return header


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in user of the app: the session's value, its organisation and user id."""

    value: str
    org: str
    user_id: str


def _user_id(value: str) -> str:
    """A stable user id per session value (`usr_` + 26 characters, like the docs' ids)."""
    return ulid("usr_", 0, _id_bits(_digest("session:" + value)))


class SessionBook:
    """Sessions by value: those the control API named, and (unless `strict`) any other one in
    the default organisation."""

    def __init__(self, default_org: str, *, strict: bool = False) -> None:
        self.default_org = default_org
        self.strict = strict
        self._orgs: dict[str, str] = {}

    def sign_in(self, value: str, org: str) -> Session:
        """Make `value` a session of `org` (`PUT /_mock/sessions/{cookieValue}`)."""
        self._orgs[value] = org
        return Session(value, org, _user_id(value))

    def resolve(self, value: str) -> Session | None:
        """The session `value` names; None for an unknown value when the book is strict."""
        org = self._orgs.get(value)
        if org is None:
            if self.strict:
                return None
            org = self.default_org
        return Session(value, org, _user_id(value))

    def known(self) -> dict[str, str]:
        return dict(self._orgs)

    def clear(self) -> None:
        self._orgs.clear()
