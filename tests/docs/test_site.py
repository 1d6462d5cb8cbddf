"""The documentation site builds with `mkdocs build --strict`, and a broken link, anchor or page
fails that build; README's links point at files that exist."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mock_server import MockConfig
from mock_server.testing import MockServerThread
from statemachine import render_diagram

from .runner import ROOT

BUILD_TIMEOUT = 300


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.fail(
            "mkdocs is not installed: pip install -e '.[test]' (it includes the docs extra)"
        )
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's banner about MkDocs 2.0
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = build(ROOT / "mkdocs.yml", out)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


@pytest.fixture(scope="module")
def served_openapi() -> Iterator[dict[str, object]]:
    with MockServerThread(MockConfig(clock="manual", port=0)) as server:
        yield requests.get(f"{server.url}/openapi.json", timeout=10).json()


def test_every_page_is_built(site: Path) -> None:
    for page in sorted((ROOT / "docs").rglob("*.md")):
        rel = page.relative_to(ROOT / "docs").with_suffix("")
        html = site / ("index.html" if rel.name == "index" else rel / "index.html")
        assert html.exists(), f"{page} was not built"


def test_the_http_reference_is_the_served_openapi_document(
    site: Path, served_openapi: dict[str, object]
) -> None:
    html = (site / "reference" / "http-api" / "index.html").read_text(encoding="utf-8")
    paths = served_openapi["paths"]
    assert isinstance(paths, dict) and paths
    for path, item in paths.items():
        for method in item:
            assert f"{method.upper()} {path}" in html, f"{method.upper()} {path} is missing"
    components = served_openapi["components"]
    assert isinstance(components, dict)
    for name in components["schemas"]:
        assert f'id="schema-{name}"' in html, f"schema {name} is missing"
    published = json.loads((site / "reference" / "openapi.json").read_text(encoding="utf-8"))
    assert published == served_openapi


def test_the_python_reference_documents_the_public_api(site: Path) -> None:
    html = (site / "reference" / "python" / "index.html").read_text(encoding="utf-8")
    for name in (
        "mock_server.testing.PlangrepMock",
        "mock_server.testing.PlangrepMock.advance",
        "mock_server.testing.MockServerThread",
        "mock_server.client.PlangrepClient",
        "mock_server.client.wait_for_job",
        "mock_server.contract.check_client",
        "mock_server.contract.ContractViolation",
        "statemachine.simulate",
        "statemachine.InvalidTransition",
    ):
        assert f'id="{name}"' in html, f"{name} is not in the Python reference"


def test_the_lifecycle_diagram_is_rendered_by_mermaid(site: Path) -> None:
    html = (site / "lifecycle" / "index.html").read_text(encoding="utf-8")
    block = re.search(r'<pre class="mermaid"><code>(.*?)</code></pre>', html, re.S)
    assert block is not None, "the lifecycle page has no mermaid diagram"
    edges = render_diagram("mermaid").count(" --> ")
    assert block[1].replace("&gt;", ">").count(" --> ") == edges


def test_a_broken_link_anchor_or_unlisted_page_fails_the_strict_build(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copytree(ROOT / "tools", copy / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    page = copy / "docs" / "webhooks.md"
    page.write_text(
        page.read_text(encoding="utf-8")
        + "\nSee [the old page](no-such-page.md) and [a section](uploads.md#no-such-section).\n",
        encoding="utf-8",
    )
    (copy / "docs" / "orphan.md").write_text("# Not in the nav\n", encoding="utf-8")
    proc = build(copy / "mkdocs.yml", tmp_path / "site")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "no-such-page.md" in out
    assert "no-such-section" in out
    assert "orphan.md" in out
    assert "strict mode" in out


# --------------------------------------------------------------------------- README's links

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def broken_links(text: str, base: Path) -> list[str]:
    """Relative links of a Markdown text whose file does not exist under `base`."""
    broken = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (base / target.split("#", 1)[0]).exists():
            broken.append(target)
    return broken


def test_readme_links_point_at_files_that_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert _LINK.search(text), "README.md links nowhere"
    assert broken_links(text, ROOT) == []


def test_a_broken_readme_link_is_found() -> None:
    text = "[ok](docs/index.md) [gone](docs/gone.md#x) [web](https://plangrep.com) [here](#quick)"
    assert broken_links(text, ROOT) == ["docs/gone.md#x"]


def test_readme_links_into_the_docs_reach_pages_of_the_site() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for target in _LINK.findall(text):
        if target.startswith("docs/") and target.split("#", 1)[0].endswith(".md"):
            page = target.split("#", 1)[0].removeprefix("docs/")
            assert re.search(rf":\s+{re.escape(page)}\s*$", nav, re.M), f"{page} is not in the nav"
