"""Failures located in the user's source tree: the template line behind a generated file's
line, and the ``build.py`` lines that decide which templates a build ships.

Every location is relative to the repository holding ``plugins/`` (``plugins/wazo_x/...``) or
to the built plugin (``<plugin id>/...``): no temporary dirs, no ports, so baselines keep
matching from one run to the next.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from pytest_provd import tree
from pytest_provd.problems import Problem
from pytest_provd.provd.plugins import renders
from pytest_provd.tree.rsync_shim import RsyncShimError, _parse, _Rule

_COLUMN = re.compile(r"\bcolumn (\d+)")
_SIMILAR = 0.75
"""How alike a family file must be to a built template (made by build.py with ``sed``) to be
named as its source."""


def repo_rel(target: tree.Target, path: Path | str) -> str:
    """*path* as the maintainer knows it: relative to the repository (``plugins/...``)."""
    base = target.family.path.parent.parent
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def built_rel(target: tree.Target, plugin_dir: Path, path: Path | str) -> str:
    """*path* inside a built copy of *target*, as ``<plugin id>/<path in the plugin>``."""
    try:
        return f"{target.plugin_id}/{Path(path).relative_to(plugin_dir).as_posix()}"
    except ValueError:
        return Path(path).name


@dataclass(frozen=True)
class SourceLine:
    """A line of the user's tree; *note* says how it was found when not simply copied."""

    path: str
    line: int
    note: str = ""


def source_line(target: tree.Target, plugin_dir: Path, filename: str, line: int) -> SourceLine:
    """Where line *line* of the built file *filename* (inside *plugin_dir*) comes from: the
    family file it was copied from, else the one build.py made it from (``sed``), else the
    built file itself."""
    built = Path(filename)
    try:
        rel = built.relative_to(plugin_dir).as_posix()
    except ValueError:
        return SourceLine(built.name, line)
    # Lazy: importing the checks package here would import this module again (checks.entry).
    from pytest_provd.checks._templates import source_of

    origin = source_of(target.family.path, plugin_dir, rel, prefer=target.source_dir)
    if origin is not None:
        return SourceLine(repo_rel(target, origin), line)
    build_py = repo_rel(target, target.build_py)
    similar = _similar_source(target, built, line)
    if similar is not None:
        path, mapped, used_at = similar
        note = f" (built as {target.plugin_id}/{rel}:{line} by {build_py}:{used_at})"
        return SourceLine(repo_rel(target, path), mapped, note)
    return SourceLine(
        f"{target.plugin_id}/{rel}", line, f" (made by {build_py}:{target.build_py_line})"
    )


def _similar_source(target: tree.Target, built: Path, line: int) -> tuple[Path, int, int] | None:
    """The family file *built* was most likely made from, the line matching *line* in it and
    the build.py line naming that file (the target's line when none does).

    Files the target's function names (``sed ... common/x.tpl.btpl``) are the candidates; a
    template of the family alike enough to *built* otherwise."""
    try:
        text = built.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    family = target.family.path
    named = _named_files(target)
    candidates: list[tuple[Path, int, float]] = [(p, at, 0.5) for p, at in named.items()]
    if not candidates:
        candidates = [
            (path, target.build_py_line, _SIMILAR)
            for path in sorted(family.rglob("*"))
            if path.is_file()
            and (
                "templates" in path.relative_to(family).parts
                or any(s in path.suffixes for s in (".tpl", ".btpl"))
            )
        ]
    best: tuple[float, Path, int, str] | None = None
    for path, used_at, least in candidates:
        other = path.read_text(encoding="utf-8", errors="replace")
        matcher = difflib.SequenceMatcher(None, text, other, autojunk=False)
        if matcher.real_quick_ratio() < least or matcher.quick_ratio() < least:
            continue
        ratio = matcher.ratio()
        if ratio >= least and (best is None or ratio > best[0]):
            best = (ratio, path, used_at, other)
    if best is None:
        return None
    _, path, used_at, other = best
    return path, matching_line(text.splitlines(), other.splitlines(), line), used_at


def _named_files(target: tree.Target) -> dict[Path, int]:
    """Family files the target's build function names in a string, with the line naming
    them."""
    function = _target_function(target)
    found: dict[Path, int] = {}
    for node in ast.walk(function) if function is not None else []:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
            path = target.family.path / node.value
            try:
                inside = path.resolve().is_relative_to(target.family.path.resolve())
            except (OSError, ValueError):
                continue
            if inside and path.is_file():
                found.setdefault(path, node.lineno)
    return found


def matching_line(lines: list[str], other: list[str], line: int) -> int:
    """The line of *other* that line *line* of *lines* corresponds to (1-based): the same
    line of an unchanged run, else the most alike line of the changed run holding it."""
    matcher = difflib.SequenceMatcher(None, lines, other, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if not i1 <= line - 1 < i2:
            continue
        if tag == "equal":
            return j1 + line - i1
        if j2 == j1:  # the line is not in *other* at all: the nearest one
            return max(j1, 1)
        wanted = lines[line - 1]
        return 1 + max(
            range(j1, j2),
            key=lambda j: difflib.SequenceMatcher(None, wanted, other[j]).ratio(),
        )
    return line


def column_of(message: str) -> int | None:
    """The column a parser's message gives (``..., line 3, column 104``), if any."""
    found = _COLUMN.search(message)
    return int(found.group(1)) if found else None


def at_template(
    target: tree.Target, problem: Problem, data: bytes, line: int | None = None
) -> Problem:
    """*problem* (at a line of the generated *data*: *line*, else its own) located at the
    template line that wrote that line, followed by where it was; unchanged when no recorded
    render of this process gave *data*."""
    line = line or problem.line
    render = renders.find(data)
    if render is None or render.plugin_dir is None or line is None:
        return problem
    trace = render.trace()
    origin = trace.origin(line, column_of(problem.message)) if trace else None
    if origin is None:
        name = render.template.filename or render.template.name or "?"
        where = source_line(target, render.plugin_dir, name, 1)
        return Problem(
            problem.path,
            f"{problem.message} (rendered from {where.path}; its line could not be traced)",
            problem.line,
            problem.section,
            problem.fix,
        )
    where = source_line(target, render.plugin_dir, origin.filename, origin.line)
    return Problem(
        where.path,
        f"{problem.location()}: {problem.message}{where.note}",
        where.line,
        None,
        problem.fix,
    )


# --- which templates a build ships ----------------------------------------------------------


@dataclass(frozen=True)
class CopyStep:
    """One copy in a target function of ``build.py``: ``rsync`` with its filter rules, or
    a ``copytree``."""

    line: int
    command: str  # as written, shortened
    sources: tuple[str, ...]
    rules: tuple[_Rule, ...]

    def decides(self, rel: str) -> tuple[bool, _Rule | None]:
        """Whether ``rel`` (a path in the built plugin) passes the rules; the rule deciding."""
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            sub, is_dir = "/".join(parts[:depth]), depth < len(parts)
            rule = next((r for r in self.rules if r.matches(sub, is_dir)), None)
            if rule is not None and not rule.include:
                return False, rule
            if depth == len(parts):
                return True, rule
        return True, None


def _target_function(target: tree.Target) -> ast.FunctionDef | None:
    try:
        module = ast.parse(target.build_py.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    return next(
        (
            node
            for node in module.body
            if isinstance(node, ast.FunctionDef) and node.name == target.function_name
        ),
        None,
    )


def copy_steps(target: tree.Target) -> list[CopyStep]:
    """The copies *target*'s function in build.py makes, in order."""
    function = _target_function(target)
    if function is None:
        return []
    steps = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        step = _rsync_step(node) or _copytree_step(node)
        if step is not None:
            steps.append(step)
    return sorted(steps, key=lambda s: s.line)


def _strings(node: ast.expr) -> list[str] | None:
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    return [_string(e) for e in node.elts]


def _string(node: ast.expr) -> str:
    """A string constant as written; ``?`` for anything computed."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "?"


def _rsync_step(call: ast.Call) -> CopyStep | None:
    argv = _strings(call.args[0]) if call.args else None
    if not argv or argv[0] != "rsync":
        return None
    try:
        _, rules, sources, _ = _parse(argv[1:])
    except RsyncShimError:
        rules, sources = [], [a for a in argv[1:-1] if not a.startswith("-")]
    return CopyStep(call.lineno, " ".join(argv), tuple(sources), tuple(rules))


def _copytree_step(call: ast.Call) -> CopyStep | None:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    if isinstance(call.func, ast.Name):
        name = call.func.id
    if name != "copytree" or not call.args:
        return None
    source = _string(call.args[0])
    return CopyStep(call.lineno, f"copytree({source!r}, ...)", (f"{source}/",), ())


def missing_template_fix(target: tree.Target, rel: str) -> str:
    """Why the built plugin lacks ``rel`` (``templates/X.tpl``): the target in build.py
    (file:line), each copy it makes with its include/exclude rules, and the way out."""
    build_py = repo_rel(target, target.build_py)
    head = f"target {target.target_id!r} at {build_py}:{target.build_py_line}"
    steps = copy_steps(target)
    if not steps:
        return f"{head} copies no directory rsync or copytree could name; ship {rel} there"
    lines = []
    for step in steps:
        for source in step.sources:
            root = source.rstrip("/")
            inside = rel if source.endswith("/") else f"{Path(root).name}/{rel}"
            has = (target.family.path / root / rel).is_file()
            shipped, rule = step.decides(inside)
            verdict = "has it" if has else "lacks it"
            if has and not shipped and rule is not None:
                kind = "--include" if rule.include else "--exclude"
                verdict = (
                    f"has it but {kind} {rule.pattern} drops it: add --include /{inside} "
                    "before that rule"
                )
            elif has and shipped:
                verdict = "has it and ships it (something later in the build removes it?)"
            lines.append(f"{build_py}:{step.line} {source} {verdict}")
        if step.rules:
            shown = " ".join(f"{'+' if r.include else '-'} {r.pattern}" for r in step.rules)
            lines.append(f"  rules at {build_py}:{step.line}: {shown}")
    return (
        f"{head} ships templates through these copies; add {rel} to a copied dir or "
        "include it:\n    " + "\n    ".join(lines)
    )
