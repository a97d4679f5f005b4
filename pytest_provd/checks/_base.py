"""What every static check receives: the target, its sources, its lazily built dir, options."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_provd import tree as tree_mod
from pytest_provd.capabilities import split_capability_key
from pytest_provd.problems import Problem

Builder = Callable[[tree_mod.Target], Path]


@dataclass
class CheckContext:
    """One target under check, plus what the checks may need about its surroundings.

    ``builder`` returns the built plugin directory (read-only for checks); by default the
    target is built once into ``build_root`` (a temp dir when unset).  ``repo_root`` is the
    git checkout holding the plugins dir, for ``version-bump``; ``base_ref`` its base ref.
    """

    target: tree_mod.Target
    base_ref: str | None = None
    repo_root: Path | None = None
    build_root: Path | None = None
    builder: Builder | None = None
    cache: dict[Any, Any] = field(default_factory=dict)
    _built: Path | None = field(default=None, repr=False)

    @property
    def family(self) -> tree_mod.Family:
        """The target's family."""
        return self.target.family

    @property
    def plugins_dir(self) -> Path:
        """The ``plugins/`` directory holding the family."""
        return self.target.family.path.parent

    def built_dir(self) -> Path:
        """The built plugin directory (built on first use)."""
        if self._built is None:
            if self.builder is not None:
                self._built = self.builder(self.target)
            elif self.build_root is not None:
                self._built = tree_mod.build(self.target, self.build_root)
            else:
                self._built = tree_mod.build_cached(self.target)
        return self._built

    def source_file(self, name: str) -> Path | None:
        """``<source dir>/<name>`` when the target has a source dir holding it."""
        if self.target.source_dir is None:
            return None
        path = self.target.source_dir / name
        return path if path.exists() else None

    def rel(self, path: Path) -> str:
        """*path* as the maintainer knows it: relative to the repository (``plugins/...``)."""
        path = Path(path)
        for base in (self.repo_root, self.plugins_dir.parent):
            if base is None:
                continue
            try:
                return path.resolve().relative_to(Path(base).resolve()).as_posix()
            except ValueError:
                continue
        return str(path)


def find_line(text: str, needle: str, start_line: int = 1) -> int | None:
    """1-based number of the first line at or after *start_line* containing *needle*."""
    if needle not in text:
        return None
    lines = _lines(text)
    for index in range(max(start_line, 1) - 1, len(lines)):
        if needle in lines[index]:
            return index + 1
    return None


@functools.lru_cache(maxsize=64)
def _lines(text: str) -> tuple[str, ...]:
    # A file's text is searched once per capability key or model: split it once.
    return tuple(text.splitlines())


@dataclass
class PluginInfo:
    """A parsed ``plugin-info`` with the line of each capability key."""

    path: Path
    text: str
    data: dict[str, Any]
    capability_lines: dict[str, int]

    @property
    def capabilities(self) -> dict[str, Any]:
        """The ``capabilities`` object ({} when absent or malformed)."""
        caps = self.data.get("capabilities")
        return caps if isinstance(caps, dict) else {}

    def capability_models(self) -> dict[str, list[tuple[str, str]]]:
        """``{model: [(version, key), ...]}`` from the well-formed capability keys."""
        out: dict[str, list[tuple[str, str]]] = {}
        for key in self.capabilities:
            parsed = split_capability_key(key)
            if parsed is not None:
                out.setdefault(parsed.model, []).append((parsed.version, key))
        return out


def load_plugin_info(path: Path) -> PluginInfo | Problem:
    """Parse *path*; a :class:`Problem` (with line) when it is unreadable or not an object."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Problem(path, f"cannot be read: {exc}", fix="restore the plugin-info file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Problem(
            path,
            f"invalid JSON: {exc.msg} (column {exc.colno})",
            line=exc.lineno,
            fix="fix the JSON syntax (trailing comma, missing quote or brace?)",
        )
    if not isinstance(data, dict):
        return Problem(path, "must be a JSON object", line=1, fix="wrap the content in { }")
    lines: dict[str, int] = {}
    caps = data.get("capabilities")
    if isinstance(caps, dict):
        start = find_line(text, '"capabilities"') or 1
        for key in caps:
            line = find_line(text, json.dumps(key), start)
            if line is not None:
                lines[key] = line
    return PluginInfo(path, text, data, lines)


def cached(ctx: CheckContext, key: Any, compute: Callable[[], Any]) -> Any:
    """Memoise *compute* in the context's cache under *key*."""
    if key not in ctx.cache:
        ctx.cache[key] = compute()
    return ctx.cache[key]
