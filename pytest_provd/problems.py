"""One shape for every finding a check reports: where it is, what is wrong, how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """A defect found in a plugin tree, located precisely enough to fix without searching."""

    path: Path | str
    message: str
    line: int | None = None
    section: str | None = None
    fix: str | None = None

    def location(self) -> str:
        """``file:line [section]`` as far as known."""
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
        if self.section:
            where += f" [{self.section}]"
        return where

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text


class ProvdCheckFailed(Exception):
    """The problems a generated item found; reported one per line, without a traceback."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class ProvdHarnessError(Exception):
    """Base class of the harness's own user-facing errors."""


class SourceError(ProvdHarnessError):
    """Bad input: a file of the plugin tree, a plugin server or a phone sent something unusable."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
