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
UNBUILT_MARKER = ".provd-unbuilt"
"""A file in a version directory that no target builds on purpose (its text says why)."""
_SKIPPED_DIRS = {"_build", "_firmwares", "__pycache__"}
_CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>")


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
    source_dirs: tuple[Path, ...] = ()
    """Every version directory the target function names, directly or through the
    top-level helpers it calls (a superset of :attr:`source_dir`)."""

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
    problems: list[Problem] = field(default_factory=list)
    """What is wrong with the family's ``build.py`` (a broken family has no targets)."""
    loaded: bool = True
    """False when ``build.py`` cannot be executed: its targets are unknown."""
    strings: frozenset[str] = frozenset()
    """Every string constant of ``build.py`` (for telling which directories it names)."""

    @property
    def build_py(self) -> Path:
        """The family's ``build.py``."""
        return self.path / BUILD_FILENAME

    @property
    def plugin_id_prefix(self) -> str:
        """How the plugin ids of this family start by convention (``wazo_snom`` and
        ``wazo-snom`` both build ``wazo-snom-*``)."""
        return plugin_id_prefix(self.name)

    def version_dirs(self) -> list[Path]:
        """The family's version directories: direct subdirectories holding a plugin-info."""
        return sorted(
            d
            for d in self.path.iterdir()
            if not d.name.startswith(".")
            and d.name not in _SKIPPED_DIRS
            and d.is_dir()
            and (d / PLUGIN_INFO).is_file()
        )

    def unbuilt_dirs(self) -> list[Path]:
        """Version directories that no target builds and ``build.py`` never names.

        A directory holding :data:`UNBUILT_MARKER` is left out on purpose.
        """
        if not self.loaded:
            return []
        built = {d for t in self.targets.values() for d in t.source_dirs}
        return [
            d
            for d in self.version_dirs()
            if d not in built
            and not (d / UNBUILT_MARKER).exists()
            and not any(s.rstrip("/") == d.name or s.startswith(d.name + "/") for s in self.strings)
        ]

    def __repr__(self) -> str:
        state = f"{len(self.targets)} targets" if self.loaded else "broken"
        return f"Family({self.name!r}, {state})"


@dataclass
class PluginTree:
    """Everything found under a ``plugins/`` directory."""

    root: Path
    families: dict[str, Family]
    """Families whose ``build.py`` executes (with their targets)."""
    targets: dict[str, Target]
    errors: list[Problem]
    """Every problem of every ``build.py`` (also on :attr:`Family.problems`)."""
    broken: dict[str, Family] = field(default_factory=dict)
    """Families whose ``build.py`` cannot be executed (``loaded`` is False)."""

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
    broken: dict[str, Family] = {}
    for path in sorted(p for p in root.iterdir() if (p / BUILD_FILENAME).is_file()):
        if path.name in _SKIPPED_DIRS or path.name.startswith("."):
            continue
        layout = "legacy" if "-" in path.name else "current"
        family = Family(path.name, path, layout)
        try:
            _load_targets(family)
        except SourceError as exc:
            family.loaded = False
            family.targets.clear()
            family.problems.append(Problem(exc.path, exc.message, exc.line, fix=_fix_of(exc)))
            errors.extend(family.problems)
            broken[family.name] = family
            continue
        families[family.name] = family
        for target in list(family.targets.values()):
            if target.plugin_id in targets:
                other = targets[target.plugin_id]
                problem = Problem(
                    target.build_py,
                    f"plugin id {target.plugin_id!r} is also built by "
                    f"{other.build_py}:{other.build_py_line}",
                    target.build_py_line,
                    fix="give each target a unique plugin id",
                )
                family.problems.append(problem)
                errors.append(problem)
                continue
            targets[target.plugin_id] = target
    return PluginTree(root, families, targets, errors, broken)


def _fix_of(exc: SourceError) -> str:
    if "merge conflict" in exc.message:
        return "resolve the merge conflict and remove the markers"
    if "does not compile" in exc.message:
        return "fix the syntax error"
    return "fix what build.py raises when it is executed"


def plugin_id_prefix(family_name: str) -> str:
    """The conventional plugin-id prefix of a family directory (``wazo_snom`` → ``wazo-snom-``)."""
    return family_name.replace("_", "-").rstrip("-") + "-"


def declared_targets(source: str, filename: str) -> list[tuple[str, str, bool, int, str]]:
    """Execute a ``build.py`` text and return its ``@target`` declarations in order:
    ``(target id, plugin id, std_dirs, line, function name)``.

    Raises :class:`SourceError` with the line for what cannot be compiled or executed.
    """
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        kind = type(exc).__name__
        marker = _conflict_marker(source)
        if marker is not None:
            raise SourceError(
                filename,
                f"does not compile: unresolved merge conflict (marker {marker[1]!r}); "
                f"Python says {kind}: {exc.msg} at line {exc.lineno}",
                marker[0],
            ) from exc
        raise SourceError(filename, f"does not compile: {kind}: {exc.msg}", exc.lineno) from exc
    declared: list[tuple[str, str, bool, int, str]] = []

    def target(
        target_id: str, plugin_id: str, std_dirs: bool = True
    ) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
        line = sys._getframe(1).f_lineno

        def register(fun: Callable[[str], None]) -> Callable[[str], None]:
            declared.append((target_id, plugin_id, std_dirs, line, fun.__name__))
            return fun

        return register

    try:
        exec(code, {"target": target, "__file__": filename, "__name__": "build"})
    except (Exception, SystemExit) as exc:  # SystemExit: a build.py calling sys.exit()
        line = _user_line(exc, filename)
        raise SourceError(filename, f"raised {type(exc).__name__}: {exc}", line) from exc
    return declared


def _conflict_marker(source: str) -> tuple[int, str] | None:
    for number, text in enumerate(source.splitlines(), 1):
        for marker in _CONFLICT_MARKERS:
            if text == marker or text.startswith(marker + " "):
                return number, marker
    return None


def _load_targets(family: Family) -> None:
    build_py = family.build_py
    try:
        source = build_py.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(build_py, f"cannot be read: {exc}") from exc
    declared = declared_targets(source, str(build_py))
    strings = _strings_of(source)
    family.strings = strings.everywhere
    known: dict[str, Path | None] = {}
    for target_id, plugin_id, std_dirs, line, name in declared:
        if target_id in family.targets:
            first = family.targets[target_id]
            raise SourceError(
                build_py,
                f"target {target_id!r} redefined (first at line {first.build_py_line})",
                line,
            )
        tgt = Target(family, target_id, plugin_id, std_dirs, line, name)
        # The version dir a target copies: the last one its own function names.
        direct = _version_dirs_named(family.path, strings.by_function.get(name, []), known)
        tgt.source_dir = direct[-1] if direct else None
        tgt.source_dirs = tuple(_version_dirs_named(family.path, strings.reachable(name), known))
        family.targets[target_id] = tgt


def _user_line(exc: BaseException, filename: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


@dataclass
class _Strings:
    """The string constants of a ``build.py``, per top-level function and in all."""

    by_function: dict[str, list[str]]
    calls: dict[str, set[str]]
    everywhere: frozenset[str]

    def reachable(self, name: str) -> list[str]:
        """Strings of *name* and of the top-level functions it calls, transitively."""
        seen, todo, out = {name}, [name], []
        while todo:
            current = todo.pop(0)
            out += self.by_function.get(current, [])
            for callee in sorted(self.calls.get(current, set()) - seen):
                seen.add(callee)
                todo.append(callee)
        return out


def _strings_of(source: str) -> _Strings:
    module = ast.parse(source)
    by_function: dict[str, list[str]] = {}
    calls: dict[str, set[str]] = {}
    everywhere: set[str] = set()
    # One walk of each top-level statement: discovery parses every family's build.py.
    for node in module.body:
        constants: list[str] = []
        called: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant):
                if isinstance(sub.value, str):
                    constants.append(sub.value)
            elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name):
                called.add(sub.func.id)
        everywhere.update(constants)
        if isinstance(node, ast.FunctionDef):
            by_function[node.name] = constants
            calls[node.name] = called
    return _Strings(by_function, calls, frozenset(everywhere))


def _version_dirs_named(
    family_dir: Path, strings: list[str], known: dict[str, Path | None]
) -> list[Path]:
    """Subdirectories holding a plugin-info that *strings* name (``'v1_0/'``), in order;
    *known* keeps what each name was found to be (a family's targets name the same ones)."""
    found: dict[Path, None] = {}
    for text in strings:
        name = text.rstrip("/")
        if not name or "/" in name or name.startswith((".", "-")):
            continue
        if name not in known:
            path = family_dir / name
            known[name] = path if path.is_dir() and (path / PLUGIN_INFO).is_file() else None
        version_dir = known[name]
        if version_dir is not None:
            found.pop(version_dir, None)
            found[version_dir] = None
    return list(found)


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
