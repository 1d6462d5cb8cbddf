"""GET /openapi.json: OpenAPI 3.1 generated from the models, covering every route and error."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis

from mock_server import MockConfig, create_app

from .harness import Server

_METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH"}


def _refs(node: Any) -> list[str]:
    out: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.append(v)
            else:
                out += _refs(v)
    elif isinstance(node, list):
        for v in node:
            out += _refs(v)
    return out


def test_document_is_served_and_loads(server: Server) -> None:
    r = server.request("GET", "/openapi.json", key=None)
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(doc)
    assert len(list(schema.get_all_operations())) >= 24


def test_every_route_is_described() -> None:
    app = create_app(MockConfig(clock="manual"))
    from mock_server.http.endpoints import ENDPOINTS_KEY
    from mock_server.http.openapi import build_openapi

    doc = build_openapi(app[ENDPOINTS_KEY])
    routes = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method in _METHODS and route.resource is not None
    }
    described = {(method, path) for path, item in doc["paths"].items() for method in item}
    routes.discard(("get", "/openapi.json"))
    assert routes <= described, routes - described


def test_every_operation_documents_its_errors_and_refs_resolve(server: Server) -> None:
    doc = server.request("GET", "/openapi.json", key=None).json()
    schemas = doc["components"]["schemas"]
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref
    for path, item in doc["paths"].items():
        for method, op in item.items():
            errors = {s for s in op["responses"] if s.startswith(("4", "5"))}
            assert "405" in errors, (method, path)
            for status in errors:
                content = op["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
            if path.startswith("/api/open/v1/artifact-downloads/"):
                # documented without a key: the download token is the credential
                assert op["security"] == [] and not {"401", "403"} & errors, (method, path)
            elif path.startswith("/api/open/v1"):
                assert {"401", "403"} <= errors, (method, path)
                assert "security" not in op
            elif path.startswith("/api/open-api/keys"):  # the app's session, not a bearer key
                assert "401" in errors, (method, path)
                assert op["security"] == [{"session": []}]
            else:
                assert op["security"] == []
    schemes = doc["components"]["securitySchemes"]
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": "plangrep_session"}
    search = doc["paths"]["/api/open/v1/projects/{projectId}/source-search"]["post"]
    assert "Retry-After" in search["responses"]["409"]["headers"]
    downloads = doc["paths"]["/api/open/v1/artifact-downloads/{token}"]
    assert set(downloads) == {"get", "head"}
    get_job = doc["paths"]["/api/open/v1/jobs/{jobId}"]["get"]["responses"]
    assert "Retry-After" in get_job["429"]["headers"]
    create = doc["paths"]["/api/open/v1/projects/{projectId}/jobs"]["post"]
    assert {p["name"] for p in create["parameters"]} >= {"projectId", "Idempotency-Key"}


def test_request_models_keep_their_limits(server: Server) -> None:
    doc = server.request("GET", "/openapi.json", key=None).json()
    schemas = doc["components"]["schemas"]
    assert schemas["CreateProjectRequest"]["properties"]["name"]["maxLength"] == 180
    assert schemas["ClockAdvanceRequest"]["properties"]["seconds"]["minimum"] == 0


@pytest.mark.parametrize("char", ["\x85", "\ufeff", "\u2028", "\xa0"])
def test_webhook_url_pattern_means_the_same_in_python_and_ecma_262(
    server: Server, char: str
) -> None:
    """`\\s` differs between the two engines (Python has \\x85 and not \\ufeff, ECMA-262 the
    other way round): the pattern spells its classes out, and the server agrees with it."""
    from mock_server.public.models import WEBHOOK_URL_PATTERN

    assert not re.search(r"\\[sSwWdDbB]", WEBHOOK_URL_PATTERN)
    url = f"http://receiver.example/hook{char}x"
    assert re.fullmatch(WEBHOOK_URL_PATTERN, url) is None
    pid = server.ready_project()
    r = server.api("POST", f"/projects/{pid}/jobs", json={"webhookUrl": url})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "webhookUrl"
