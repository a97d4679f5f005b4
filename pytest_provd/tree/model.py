"""The plugin-tree model: families and build targets, found by reading ``build.py`` files.

A *family* is a directory holding ``build.py`` (``plugins/wazo_snom/`` today,
``plugins/wazo-snom/`` in the legacy layout).  Its build targets are read the way the plugins
repository's own builder reads them: ``build.py`` is executed with an injected
``target(target_id, plugin_id, std_dirs=True)`` decorator.  A target is selected by its
*plugin id* (``wazo-snom-10.1.215.13``), the name provd and the plugin server know it by.

Building targets lives in :mod:`.build`, packaging them for a plugin server in :mod:`.packaging`.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import json
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_provd.problems import Problem, SourceError

BUILD_FILENAME = "build.py"
PLUGIN_INFO = "plugin-info"
_SKIPPED_DIRS = {"_build", "_firmwares", "__pycache__"}


@dataclass
class Target:
    """One ``@target(...)`` of a family's ``build.py``."""

    family: Family
    target_id: str
    plugin_id: str
    std_dirs: bool
    build_py_line: int
    function_name: str
    source_dir: Path | None = None

    @property
    def build_py(self) -> Path:
        """The ``build.py`` that declares this target."""
        return self.family.path / BUILD_FILENAME

    def __repr__(self) -> str:
        return f"Target({self.plugin_id!r}, family={self.family.name!r})"


@dataclass
class Family:
    """A directory with a ``build.py`` and the targets it declares."""

    name: str
    path: Path
    layout: str
    targets: dict[str, Target] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Family({self.name!r}, {len(self.targets)} targets)"


@dataclass
class PluginTree:
    """Everything found under a ``plugins/`` directory."""

    root: Path
    families: dict[str, Family]
    targets: dict[str, Target]
    errors: list[Problem]

    def select(self, patterns: Iterable[str]) -> list[Target]:
        """Targets matching plugin ids, globs (``wazo-snom-*``) or ``all``, in tree order.

        Raises :class:`UnknownTargetError` for a pattern matching nothing.
        """
        chosen: dict[str, Target] = {}
        for pattern in patterns:
            if pattern == "all":
                matched = list(self.targets)
            else:
                matched = [pid for pid in self.targets if fnmatch.fnmatchcase(pid, pattern)]
            if not matched:
                raise UnknownTargetError(pattern, self)
            for pid in matched:
                chosen[pid] = self.targets[pid]
        return [self.targets[pid] for pid in self.targets if pid in chosen]


class UnknownTargetError(LookupError):
    """A requested plugin id does not exist; the message suggests the nearest ones."""

    def __init__(self, pattern: str, tree: PluginTree) -> None:
        close = difflib.get_close_matches(pattern, list(tree.targets), n=1, cutoff=0.6)
        message = f"no plugin {pattern} in {tree.root}"
        if close:
            message += f"; did you mean {', '.join(close)}?"
        elif not tree.targets:
            message += " (no build.py families found there)"
        super().__init__(message)
        self.pattern = pattern
        self.suggestions = close


def find_plugins_dir(*starts: Path) -> Path | None:
    """The first ``plugins/`` directory (or the start itself) holding ``*/build.py``."""
    for start in starts:
        for candidate in (start / "plugins", start):
            if candidate.is_dir() and any(candidate.glob(f"*/{BUILD_FILENAME}")):
                return candidate.resolve()
    return None


def discover(plugins_dir: Path) -> PluginTree:
    """Read every family of *plugins_dir*; broken ``build.py`` files become ``errors``."""
    root = Path(plugins_dir).resolve()
    if not root.is_dir():
        raise SourceError(root, "plugins directory does not exist")
    families: dict[str, Family] = {}
    targets: dict[str, Target] = {}
    errors: list[Problem] = []
    for path in sorted(p for p in root.iterdir() if (p / BUILD_FILENAME).is_file()):
        if path.name in _SKIPPED_DIRS or path.name.startswith("."):
            continue
        layout = "legacy" if "-" in path.name else "current"
        family = Family(path.name, path, layout)
        try:
            _load_targets(family)
        except SourceError as exc:
            errors.append(Problem(exc.path, exc.message, exc.line))
            continue
        families[family.name] = family
        for target in family.targets.values():
            if target.plugin_id in targets:
                other = targets[target.plugin_id]
                errors.append(
                    Problem(
                        target.build_py,
                        f"plugin id {target.plugin_id!r} is also built by "
                        f"{other.build_py}:{other.build_py_line}",
                        target.build_py_line,
                        fix="give each target a unique plugin id",
                    )
                )
                continue
            targets[target.plugin_id] = target
    return PluginTree(root, families, targets, errors)


def _load_targets(family: Family) -> None:
    build_py = family.path / BUILD_FILENAME
    source = build_py.read_text(encoding="utf-8")
    try:
        code = compile(source, str(build_py), "exec")
    except SyntaxError as exc:
        raise SourceError(build_py, f"does not compile: {exc.msg}", exc.lineno) from exc
    declared: list[tuple[str, str, bool, int]] = []

    def target(
        target_id: str, plugin_id: str, std_dirs: bool = True
    ) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
        line = sys._getframe(1).f_lineno

        def register(fun: Callable[[str], None]) -> Callable[[str], None]:
            declared.append((target_id, plugin_id, std_dirs, line))
            names.append(fun.__name__)
            return fun

        return register

    names: list[str] = []
    try:
        exec(code, {"target": target, "__file__": str(build_py), "__name__": "build"})
    except Exception as exc:
        line = _user_line(exc, str(build_py))
        raise SourceError(build_py, f"raised {type(exc).__name__}: {exc}", line) from exc
    sources = _function_sources(source)
    for (target_id, plugin_id, std_dirs, line), name in zip(declared, names, strict=True):
        if target_id in family.targets:
            first = family.targets[target_id]
            raise SourceError(
                build_py,
                f"target {target_id!r} redefined (first at line {first.build_py_line})",
                line,
            )
        tgt = Target(family, target_id, plugin_id, std_dirs, line, name)
        tgt.source_dir = _find_source_dir(family.path, sources.get(name, []))
        family.targets[target_id] = tgt


def _user_line(exc: BaseException, filename: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _function_sources(source: str) -> dict[str, list[str]]:
    """String constants used by each top-level function (rsync sources among them)."""
    found: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = [
                sub.value
                for sub in ast.walk(node)
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            ]
    return found


def _find_source_dir(family_dir: Path, strings: list[str]) -> Path | None:
    """The version directory a target copies: a referenced subdir holding plugin-info."""
    candidates = []
    for text in strings:
        name = text.rstrip("/")
        if not name or "/" in name or name.startswith((".", "-")):
            continue
        path = family_dir / name
        if path.is_dir() and (path / PLUGIN_INFO).is_file():
            candidates.append(path)
    return candidates[-1] if candidates else None


def model_variants(model: str) -> list[str]:
    """The models a capability name covers: ``T31(P)(G)`` → ``T31``, ``T31P``, ``T31G``."""
    base = re.sub(r"\([^)]*\)", "", model)
    return [base] + [base + suffix for suffix in re.findall(r"\(([^)]*)\)", model)]


def read_plugin_info(plugin_dir: Path) -> dict[str, Any]:
    """The parsed ``plugin-info`` of a built plugin (SourceError with line on bad JSON)."""
    path = plugin_dir / PLUGIN_INFO
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(path, "missing") from exc
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    if not isinstance(data, dict):
        raise SourceError(path, "must be a JSON object")
    return data
