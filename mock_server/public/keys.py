"""Workspace API keys (API.md part A, "Workspace API keys"): `/api/open-api/keys`.

Documented by Plangrep: these routes belong to the Plangrep app's API settings page and take its
session cookie (`plangrep_session`), not a bearer key. `POST` creates a key (`label` <= 120
characters, `scopes` one or more of jobs:read, jobs:write, artifacts:read, optional future
`expiresAt`) and answers 201 `{key, plaintextKey}`, the plaintext shown this once; `GET` answers
`{keys, profile}`; `POST /{keyId}/revoke` answers `{key}` with `revokedAt`; `POST /revoke-all`
answers `{keys}`. Revoked and expired keys get 401 on their next request.

Defined by the mock: the keys given to `serve --api-key` are listed and revocable here too (one
registry, `keys.py`); the session's organisation comes from the control API
(`PUT /_mock/sessions/{cookieValue}`); `expiresAt` is RFC 3339 and runs on the virtual clock;
an invalid body is 422 `validation_error` with `details`; an unknown key id (or another
organisation's) is 404 `key_not_found`. These routes are not under `/api/open/v1`: the request
journal does not record them and API faults do not apply to them.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from statemachine import format_time

from ..control.accounts import profile_json
from ..errors import NotFound, field_error, json_response, short
from ..http.body import read_json
from ..http.endpoints import Endpoint
from ..keys import MAX_LABEL_CHARS, Session
from ..state import STATE_KEY, MockState

__all__ = [
    "ENDPOINTS",
    "EXPIRES_AT_PATTERN",
    "CreateKeyRequest",
    "KeyCreateResponse",
    "KeyListResponse",
    "KeyResponse",
    "KeysResponse",
    "parse_expires_at",
]

K = "/api/open-api/keys"
ScopeName = Literal["jobs:read", "jobs:write", "artifacts:read"]
# RFC 3339 date-time, years 0000-8999 (the virtual clock never passes 9000-01-01); the handler
# parses with the same pattern, so the OpenAPI document and the server agree
EXPIRES_AT_PATTERN = (
    r"^([0-8][0-9]{3})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_EXPIRES_AT = re.compile(EXPIRES_AT_PATTERN)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FUTURE = "must be a time in the future"


class CreateKeyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    label: str = Field(min_length=1, max_length=MAX_LABEL_CHARS)
    scopes: list[ScopeName] = Field(min_length=1, max_length=10, description="repeats ignored")
    expiresAt: str | None = Field(
        None,
        description="RFC 3339, in the future; omitted: the key never expires",
        json_schema_extra={"pattern": EXPIRES_AT_PATTERN, "format": "date-time"},
    )


class KeyModel(BaseModel):
    id: str = Field(pattern=r"^key_[a-z0-9]{26}$")
    label: str
    keyPrefix: str
    scopes: list[ScopeName]
    createdByUserId: str
    hashVersion: Literal["v1"]
    createdAt: str
    expiresAt: str | None
    lastUsedAt: str | None
    lastUsedIp: str | None
    revokedAt: str | None


class KeyProfile(BaseModel):
    model_config = ConfigDict(extra="allow")

    drawingCreditsPerPage: int
    documentCreditsPerPage: int
    jobPageLimit: int
    retentionDays: int
    enabled: bool
    updatedAt: str


class KeyCreateResponse(BaseModel):
    key: KeyModel
    plaintextKey: str = Field(description="shown once; only its SHA-256 is kept")


class KeyListResponse(BaseModel):
    keys: list[KeyModel]
    profile: KeyProfile


class KeyResponse(BaseModel):
    key: KeyModel


class KeysResponse(BaseModel):
    keys: list[KeyModel]


def parse_expires_at(text: str, *, now: float) -> float:
    """`expiresAt` as virtual epoch seconds; a 422 unless it is an RFC 3339 date-time after
    `now`."""
    m = _EXPIRES_AT.match(text)
    if m is None:
        raise field_error(
            "expiresAt",
            f"must be an RFC 3339 date-time such as 2030-12-31T23:59:59Z; got {short(text, 40)!r}",
        )
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, offset = m.group(7), m.group(8)
    try:
        tz = UTC
        if offset not in ("Z", "z"):
            sign = 1 if offset[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        leap = second == 60  # RFC 3339 allows a leap second
        when = datetime(year, month, day, hour, minute, 59 if leap else second, tzinfo=tz)
    except ValueError as exc:
        if year == 0:  # RFC 3339 allows year 0000, which Python's datetime does not
            raise field_error("expiresAt", f"{_FUTURE}; got {short(text, 40)!r}") from None
        raise field_error("expiresAt", f"is not a valid date-time ({exc})") from None
    at = (when - _EPOCH).total_seconds() + (1 if leap else 0)
    if fraction:
        at += float("0" + fraction)
    if not math.isfinite(at) or at <= now:
        raise field_error(
            "expiresAt", f"{_FUTURE} (now is {format_time(now)}); got {short(text, 40)!r}"
        )
    return at


def _profile(state: MockState, org: str) -> dict[str, object]:
    return {
        **profile_json(state, org),
        "enabled": True,
        # the mock does not change an organisation's profile: it dates from the server's start
        "updatedAt": format_time(state.clock.origin),
    }


async def list_keys(request: web.Request, session: Session) -> web.Response:
    state = request.app[STATE_KEY]
    return json_response(
        {
            "keys": [k.wire() for k in state.keys.keys_of(session.org)],
            "profile": _profile(state, session.org),
        }
    )


async def create_key(request: web.Request, session: Session) -> web.Response:
    state = request.app[STATE_KEY]
    body = await read_json(request, CreateKeyRequest)
    now = state.engine.now
    expires = None if body.expiresAt is None else parse_expires_at(body.expiresAt, now=now)
    record, plaintext = state.keys.create(
        session.org,
        label=body.label,
        scopes=body.scopes,
        expires_at=expires,
        created_by=session.user_id,
        now=now,
    )
    return json_response({"key": record.wire(), "plaintextKey": plaintext}, status=201)


async def revoke_key(request: web.Request, session: Session) -> web.Response:
    state = request.app[STATE_KEY]
    key_id = request.match_info["keyId"]
    record = state.keys.get(session.org, key_id)
    if record is None:
        raise NotFound(
            code="key_not_found",
            message=f"no API key {short(key_id)} in this organisation; list them with GET {K}",
        )
    state.keys.revoke_record(record, now=state.engine.now)
    return json_response({"key": record.wire()})


async def revoke_all(request: web.Request, session: Session) -> web.Response:
    state = request.app[STATE_KEY]
    keys = state.keys.revoke_all(session.org, now=state.engine.now)
    return json_response({"keys": [k.wire() for k in keys]})


ENDPOINTS = [
    Endpoint(
        "GET", K, list_keys, "listKeys",
        "The session's organisation's API keys and its profile", 200, KeyListResponse,
        session=True, faultable=False,
    ),
    Endpoint(
        "POST", K, create_key, "createKey",
        "Create an API key (the plaintext is shown once)", 201, KeyCreateResponse,
        session=True, faultable=False, body=CreateKeyRequest, body_kind="json",
        body_required=True,
    ),
    Endpoint(
        "POST", K + "/revoke-all", revoke_all, "revokeAllKeys",
        "Revoke every API key of the organisation", 200, KeysResponse, session=True,
        faultable=False,
    ),
    Endpoint(
        "POST", K + "/{keyId}/revoke", revoke_key, "revokeKey", "Revoke one API key", 200,
        KeyResponse, session=True, faultable=False, errors=(404,),
    ),
]  # fmt: skip
