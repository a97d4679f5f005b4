"""One shape for every finding a check reports: where it is, what is wrong, how to fix it."""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_MAX_SOURCE_BYTES = 4 * 1024 * 1024
_MAX_SOURCE_CHARS = 300


@dataclass(frozen=True)
class Problem:
    """A defect found in a plugin tree, located precisely enough to fix without searching.

    ``rule`` names the check that found it (the generated item fills in its own name when the
    check did not); ``source`` is the stripped text of ``path:line``, read when the problem is
    made if *path* is absolute and readable, so a baseline knows the defect by its line's
    content rather than its number (:mod:`pytest_provd.report.identity`).
    """

    path: Path | str
    message: str
    line: int | None = None
    section: str | None = None
    fix: str | None = None
    rule: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.source is None and self.line is not None and Path(str(self.path)).is_absolute():
            # Frozen: the field is set once, here, as the dataclass's own __init__ would.
            object.__setattr__(self, "source", read_source_line(Path(self.path), self.line))

    def location(self) -> str:
        """``file:line [section]`` as far as known."""
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
        if self.section:
            where += f" [{self.section}]"
        return where

    def summary(self) -> str:
        """``file:line [section]: first line of the message`` (one line)."""
        return f"{self.location()}: {(self.message.splitlines() or [''])[0]}"

    def __str__(self) -> str:
        text = f"{self.location()}: {self.message}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text


def read_source_line(path: Path, line: int) -> str | None:
    """The stripped text of line *line* (1-based) of *path*; None when unreadable."""
    try:
        stat = path.stat()
    except (OSError, ValueError):
        return None
    if not path.is_file() or stat.st_size > _MAX_SOURCE_BYTES or line < 1:
        return None
    lines = _lines_of(os.fspath(path), stat.st_mtime_ns, stat.st_size)
    if line > len(lines):
        return None
    return lines[line - 1].strip()[:_MAX_SOURCE_CHARS]


@lru_cache(maxsize=64)
def _lines_of(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    # mtime and size are part of the key: a file edited during the run is read again.
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return tuple(handle.read().splitlines())
    except OSError:
        return ()


def dedupe(problems: Iterable[Problem], key: Callable[[Problem], Hashable]) -> list[Problem]:
    """*problems* without the ones whose *key* was already seen, in their order."""
    seen: set[Hashable] = set()
    kept: list[Problem] = []
    for problem in problems:
        identity = key(problem)
        if identity not in seen:
            seen.add(identity)
            kept.append(problem)
    return kept


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
