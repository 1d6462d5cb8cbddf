"""The content package's errors.

    ContentError
    ├── UnknownArtifactPath     a `path=` this scope never handed out
    ├── InvalidQuery            a filter value that cannot be used (field, message)
    └── ContentPackError        a content pack that cannot be loaded (also a ValueError)

Each keeps its context as attributes; the HTTP layer maps them to 404 / 400 / a startup error.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ContentError", "ContentPackError", "InvalidQuery", "UnknownArtifactPath"]


class ContentError(Exception):
    """Base of the content package's errors."""


class UnknownArtifactPath(ContentError):
    def __init__(self, *, path: str, scope: str) -> None:
        self.path = path
        self.scope = scope
        super().__init__(
            f"no artifact at path {path!r} in {scope}; use a path from an artifact URL that "
            f"{scope} handed out"
        )


class InvalidQuery(ContentError):
    def __init__(self, *, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class ContentPackError(ContentError, ValueError):
    """A pack that cannot be used; each line names the file and the field."""

    def __init__(self, path: Path | str, problems: list[tuple[str, str]]) -> None:
        self.path = str(path)
        self.problems = problems  # (field, message)
        super().__init__("\n".join(f"{self.path}: {f}: {m}" for f, m in problems))
