"""Helpers for the documentation tests: the tools the shell examples need."""

from __future__ import annotations

import os
import shutil

import pytest

SHELL_TOOLS = ("bash", "curl", "jq")


def require_shell_tools() -> None:
    """The bash examples need bash, curl and jq. `.ci/run` installs them when they are missing,
    so in CI (CI set) a missing tool fails; on a developer's machine the page is skipped with
    the install hint instead of failing for a reason that is not the docs'."""
    missing = [tool for tool in SHELL_TOOLS if shutil.which(tool) is None]
    if not missing:
        return
    message = (
        f"the docs' shell examples need {', '.join(missing)} on PATH "
        "(Debian/Ubuntu: apt-get install curl jq)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
