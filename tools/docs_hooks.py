"""MkDocs hooks (`hooks:` in mkdocs.yml): the HTTP API reference, generated at build time.

The routes are described once, in code: the server builds its OpenAPI document from the pydantic
models and the endpoint declarations and serves it at `GET /openapi.json`. This hook asks a server
for that document (in-process, on a loopback port; nothing leaves the machine), renders it as the
page `reference/http-api.md` and publishes it unchanged as `reference/openapi.json`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

REFERENCE_PAGE = "reference/http-api.md"
DOCUMENT_FILE = "reference/openapi.json"


def openapi_document() -> dict[str, Any]:
    """The document `GET /openapi.json` serves. The one place that knows how to obtain it: it
    goes through the public app factory, so moving the builder inside mock_server changes
    nothing here."""
    from aiohttp.test_utils import TestClient, TestServer

    from mock_server import MockConfig, create_app

    async def fetch() -> dict[str, Any]:
        app = create_app(MockConfig(clock="manual"))
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/openapi.json")
            response.raise_for_status()
            document: dict[str, Any] = await response.json()
            return document

    return asyncio.run(fetch())


def on_files(files: Files, config: MkDocsConfig) -> Files:
    document = openapi_document()
    files.append(File.generated(config, REFERENCE_PAGE, content=render_reference(document)))
    files.append(File.generated(config, DOCUMENT_FILE, content=json.dumps(document, indent=2)))
    return files


# --------------------------------------------------------------------------- rendering


def render_reference(doc: dict[str, Any]) -> str:
    info = doc.get("info", {})
    schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    out = [
        "# HTTP API reference",
        "",
        "Generated at build time from the OpenAPI "
        f"{doc.get('openapi', '')} document that the server serves at `GET /openapi.json` "
        f"({_cell(info.get('title', ''))} {_cell(info.get('version', ''))}; the document "
        "itself: [openapi.json](openapi.json)). Nothing on this page is written by hand: the "
        "routes, parameters and bodies come from the server's pydantic models and endpoint "
        "declarations.",
        "",
        _cell(info.get("description", "")),
        "",
    ]
    for tag in _tags(doc):
        operations = list(_operations(doc, tag["name"]))
        if not operations:
            continue
        title = tag["name"]
        if tag.get("description"):
            title += f": {tag['description']}"
        out += [f"## {_cell(title)}", "", "| method | path | summary |", "|---|---|---|"]
        for method, path, op in operations:
            out.append(
                f"| `{method.upper()}` | [`{path}`](#{_op_id(method, path, op)}) | "
                f"{_cell(op.get('summary', ''))} |"
            )
        out.append("")
        for method, path, op in operations:
            out += _operation(method, path, op, doc)
    out += ["## Schemas", ""]
    for name in sorted(schemas):
        out += _schema(name, schemas[name])
    return "\n".join(out) + "\n"


def _tags(doc: dict[str, Any]) -> list[dict[str, Any]]:
    tags = list(doc.get("tags", []))
    known = {t["name"] for t in tags}
    for item in doc.get("paths", {}).values():
        for op in item.values():
            for name in op.get("tags", ["other"]):
                if name not in known:
                    known.add(name)
                    tags.append({"name": name})
    return tags


def _operations(doc: dict[str, Any], tag: str) -> Any:
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if tag in op.get("tags", ["other"]):
                yield method, path, op


def _op_id(method: str, path: str, op: dict[str, Any]) -> str:
    name = op.get("operationId") or f"{method}-{path}"
    return "op-" + "".join(c if c.isalnum() else "-" for c in name)


def _operation(method: str, path: str, op: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    out = [f"### `{method.upper()} {path}` {{#{_op_id(method, path, op)}}}", ""]
    if op.get("summary"):
        out += [_cell(op["summary"]), ""]
    if op.get("description"):
        out += [op["description"], ""]
    security = op.get("security", doc.get("security", []))
    out += [
        "Authentication: "
        + ("`Authorization: Bearer <API key>`." if security else "none (not a bearer-key route).")
    ]
    out.append("")
    params = op.get("parameters", [])
    if params:
        out += ["| parameter | in | required | type | description |", "|---|---|---|---|---|"]
        for p in params:
            out.append(
                f"| `{p['name']}` | {p.get('in', '')} | {'yes' if p.get('required') else 'no'} "
                f"| {_type(p.get('schema', {}))} | {_cell(p.get('description', ''))} |"
            )
        out.append("")
    body = op.get("requestBody")
    if body:
        kinds = [
            f"`{ctype}` {_type(media.get('schema', {}))}"
            for ctype, media in body.get("content", {}).items()
        ]
        required = "required" if body.get("required") else "optional"
        out += [f"Request body ({required}): " + ", ".join(kinds) + ".", ""]
    out += ["| status | meaning | body |", "|---|---|---|"]
    for status, response in op.get("responses", {}).items():
        content = response.get("content", {})
        shape = ", ".join(_type(media.get("schema", {})) for media in content.values())
        out.append(f"| {status} | {_cell(response.get('description', ''))} | {shape} |")
    out.append("")
    return out


def _schema(name: str, schema: dict[str, Any]) -> list[str]:
    out = [f"### `{name}` {{#schema-{name}}}", ""]
    if schema.get("description"):
        out += [_cell(schema["description"]), ""]
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        out += [f"Type: {_type(schema)}.", ""]
        return out
    required = set(schema.get("required", []))
    out += ["| field | type | required | notes |", "|---|---|---|---|"]
    for field, sub in props.items():
        out.append(
            f"| `{field}` | {_type(sub)} | {'yes' if field in required else 'no'} "
            f"| {_notes(sub)} |"
        )
    out.append("")
    return out


def _type(schema: dict[str, Any]) -> str:
    """A schema as a short phrase for a table cell."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#schema-{name})"
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            sep = " and " if key == "allOf" else " or "
            return sep.join(_type(s) for s in schema[key])
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if "enum" in schema:
        return " or ".join(f"`{json.dumps(v)}`" for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(_type({**schema, "type": k}) for k in kind)
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {_type(schema['additionalProperties'])}"
    if kind == "string" and schema.get("format"):
        return f"string ({schema['format']})"
    return f"{kind}" if kind else "any"


_CONSTRAINTS = (
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minimum", "at least {}"),
    ("exclusiveMinimum", "greater than {}"),
    ("maximum", "at most {}"),
    ("exclusiveMaximum", "less than {}"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
)


def _notes(schema: dict[str, Any]) -> str:
    notes = []
    if schema.get("description"):
        notes.append(_cell(schema["description"]))
    branches = [schema, *schema.get("anyOf", [])]
    for key, text in _CONSTRAINTS:
        for branch in branches:
            if key in branch:
                notes.append(text.format(branch[key]))
    if any("pattern" in b for b in branches):
        notes.append("pattern-checked")
    if "default" in schema:
        notes.append(f"default `{json.dumps(schema['default'])}`")
    return "; ".join(notes)


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")
