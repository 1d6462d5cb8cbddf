"""Organisations' credits (by one of their keys), key revocation, and sessions: which
organisation a session cookie of the Plangrep app signs into (for the workspace key routes)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from statemachine.billing import Account

from ..errors import NotFound, field_error, json_response, short
from ..http.body import read_json
from ..http.endpoints import Endpoint
from ..keys import MAX_COOKIE_CHARS
from ..state import STATE_KEY, MockState
from .models import (
    AccountCredits,
    CreditsRequest,
    RevokeResponse,
    SessionRequest,
    SessionResponse,
)
from .system import CONTROL_PREFIX

__all__ = ["ENDPOINTS", "profile_json"]


def _org_of(state: MockState, api_key: str) -> str:
    org = state.keys.organisation(api_key)
    if org is None:
        raise NotFound(
            code="not_found",
            message=f"no API key {short(api_key, 40)!r} is configured on this server",
        )
    return org


def profile_json(state: MockState, org: str) -> dict[str, int]:
    """An organisation's documented profile, in the API's names."""
    return profile_of(state.engine.account(org))


def profile_of(acct: Account) -> dict[str, int]:
    """An account's documented profile, in the API's names."""
    return {
        "drawingCreditsPerPage": acct.drawing_credits_per_page,
        "documentCreditsPerPage": acct.document_credits_per_page,
        "jobPageLimit": acct.job_page_limit,
        "retentionDays": acct.retention_days,
    }


def _credits_json(state: MockState, api_key: str, org: str) -> dict[str, Any]:
    return {
        "apiKey": api_key,
        "organisation": org,
        "balance": state.engine.account(org).balance,
        "profile": profile_json(state, org),
    }


async def get_credits(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    api_key = request.match_info["apiKey"]
    return json_response(_credits_json(state, api_key, _org_of(state, api_key)))


async def put_credits(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    api_key = request.match_info["apiKey"]
    org = _org_of(state, api_key)
    body = await read_json(request, CreditsRequest)
    state.engine.set_balance(org, body.balance)
    return json_response(_credits_json(state, api_key, org))


async def revoke_key(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    api_key = request.match_info["apiKey"]
    _org_of(state, api_key)
    state.keys.revoke(api_key, now=state.engine.now)
    return json_response({"apiKey": api_key, "revoked": True})


async def put_session(request: web.Request) -> web.Response:
    """Sign the session `cookieValue` (the value of the `plangrep_session` cookie) into an
    organisation; a session the control API never named signs into the default one."""
    state = request.app[STATE_KEY]
    value = request.match_info["cookieValue"]
    if len(value) > MAX_COOKIE_CHARS:
        raise field_error("cookieValue", f"must be at most {MAX_COOKIE_CHARS} characters")
    body = await read_json(request, SessionRequest)
    session = state.sessions.sign_in(value, body.org)
    return json_response(
        {"cookieValue": session.value, "org": session.org, "userId": session.user_id}
    )


ENDPOINTS = [
    Endpoint(
        "GET", CONTROL_PREFIX + "/accounts/{apiKey}/credits", get_credits, "mockGetCredits",
        "The credits of the key's organisation", 200, AccountCredits, tag="control",
        errors=(404,),
    ),
    Endpoint(
        "PUT", CONTROL_PREFIX + "/accounts/{apiKey}/credits", put_credits, "mockSetCredits",
        "Set the credits of the key's organisation", 200, AccountCredits, tag="control",
        errors=(404,), body=CreditsRequest, body_kind="json", body_required=True,
    ),
    Endpoint(
        "POST", CONTROL_PREFIX + "/keys/{apiKey}/revoke", revoke_key, "mockRevokeKey",
        "Revoke an API key", 200, RevokeResponse, tag="control", errors=(404,),
    ),
    Endpoint(
        "PUT", CONTROL_PREFIX + "/sessions/{cookieValue}", put_session, "mockPutSession",
        "Sign a session cookie of the Plangrep app into an organisation", 200,
        SessionResponse, tag="control", body=SessionRequest, body_kind="json",
        body_required=True,
    ),
]  # fmt: skip
