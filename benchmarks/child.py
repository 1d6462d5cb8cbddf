"""Measuring in a fresh child process: the repository on its path, its last stdout line JSON.

A figure measured in its own process starts from the same state every run (no warm caches, no
leftover threads of an earlier measurement) and can be pinned to one CPU.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def child_env() -> dict[str, str]:
    """This process's environment with the repository first on `PYTHONPATH`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def run_child(cmd: Sequence[str]) -> Any:
    """Run `cmd` in the repository and return the JSON object its last stdout line holds
    (raises `CalledProcessError` when it fails)."""
    out = subprocess.run(
        list(cmd), check=True, capture_output=True, text=True, env=child_env(), cwd=REPO
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
