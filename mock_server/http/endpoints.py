"""Endpoints declared once: the route and its OpenAPI operation come from one `Endpoint`.

A resource module lists its endpoints (`ENDPOINTS = [Endpoint(...), ...]`); `create_app` installs
them (`install`), and `GET /openapi.json` describes exactly what was installed. An endpoint with a
`scope` is authenticated before its handler runs: the handler gets `(request, principal)`; one
with `session=True` (the workspace key routes) takes the app's session cookie instead and gets
`(request, session)`; one without either (the control API, signed storage) gets `(request)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel

from ..keys import Session
from .auth import Principal, authenticate, authenticate_session

__all__ = [
    "ENDPOINTS_KEY",
    "OPERATIONS_KEY",
    "BodyKind",
    "Endpoint",
    "Param",
    "install",
]

BodyKind = Literal["json", "multipart", "none"]
PublicHandler = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]
SessionHandler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
PlainHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Param:
    """A query or header parameter as the OpenAPI document shows it."""

    name: str
    description: str
    schema: tuple[tuple[str, Any], ...] = (("type", "string"),)
    required: bool = False

    def as_schema(self) -> dict[str, Any]:
        return dict(self.schema)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One route: what it does, what it takes and answers, and who may call it.

    `scope`: the bearer key's scope a public endpoint needs (401/403 are documented for it);
    None for routes that take no key. `session`: the route takes the app's session cookie
    (401 is documented for it). `errors`: the error statuses beyond the ones the declaration
    implies (auth, body, injected faults, 405). `retry_after`: error statuses whose answers
    carry `Retry-After` (429 always does).
    """

    method: str
    path: str
    handler: Callable[..., Awaitable[web.StreamResponse]]
    operation_id: str
    summary: str
    ok_status: int
    ok_model: type[BaseModel] | None
    scope: str | None = None
    tag: Literal["public", "control"] = "public"
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    body_kind: BodyKind = "none"
    body_required: bool = False
    headers: tuple[Param, ...] = ()
    query: tuple[Param, ...] = ()
    extra_models: tuple[type[BaseModel], ...] = ()
    ok_schema: dict[str, Any] | None = None
    # the success answer's media type (a tuple: one of these, e.g. an artifact's own type)
    ok_media_type: str | tuple[str, ...] = "application/json"
    # public API faults (500/503 from /_mock/faults) can answer it
    faultable: bool = True
    session: bool = False
    retry_after: tuple[int, ...] = ()
    # the aiohttp route when it must differ from the documented `path` (a regex on a parameter)
    route: str | None = None

    @property
    def auth(self) -> bool:
        return self.scope is not None or self.session

    def error_statuses(self) -> tuple[int, ...]:
        implied: set[int] = set(self.errors) | {405}
        if self.scope is not None:
            implied |= {401, 403}
            if self.faultable:
                implied |= {429, 500, 502, 503, 504}
        if self.session:
            implied |= {401}
        if self.body_kind == "json":
            implied |= {400, 413, 415, 422}
        return tuple(sorted(implied))

    def route_handler(self) -> PlainHandler:
        """The aiohttp handler: authenticates first when the endpoint takes a key or a
        session."""
        if self.session:
            with_session: SessionHandler = self.handler

            async def signed_in(request: web.Request) -> web.StreamResponse:
                return await with_session(request, authenticate_session(request))

            signed_in.__name__ = getattr(self.handler, "__name__", "handler")
            return signed_in
        if self.scope is None:
            plain: PlainHandler = self.handler
            return plain
        scope = self.scope
        handler: PublicHandler = self.handler

        async def authenticated(request: web.Request) -> web.StreamResponse:
            return await handler(request, authenticate(request, scope))

        authenticated.__name__ = getattr(handler, "__name__", "handler")
        return authenticated


ENDPOINTS_KEY: web.AppKey[list[Endpoint]] = web.AppKey("plangrep_mock_endpoints", list)
# (method, path template) -> operationId: which operation a request reached (API faults name one)
OPERATIONS_KEY: web.AppKey[dict[tuple[str, str], str]] = web.AppKey(
    "plangrep_mock_operations", dict
)


def install(app: web.Application, endpoints: Iterable[Endpoint]) -> None:
    """Route every endpoint and remember it for the OpenAPI document. A GET answers HEAD too
    (as aiohttp does by default) unless the same endpoints declare that path's HEAD."""
    if ENDPOINTS_KEY not in app:
        app[ENDPOINTS_KEY] = []
        app[OPERATIONS_KEY] = {}
    installed = app[ENDPOINTS_KEY]
    operations = app[OPERATIONS_KEY]
    router = app.router
    endpoints = list(endpoints)
    own_head = {ep.path for ep in endpoints if ep.method == "HEAD"}
    for ep in endpoints:
        handler = ep.route_handler()
        path = ep.route or ep.path
        if ep.method == "GET":
            allow_head = ep.path not in own_head
            router.add_get(path, handler, allow_head=allow_head)
            if allow_head:
                operations[("HEAD", path)] = ep.operation_id
        else:
            router.add_route(ep.method, path, handler)
        operations[(ep.method, path)] = ep.operation_id
        installed.append(ep)
