"""Failures of generated files located in the user's source tree: the template line that
wrote the broken line (traced by :mod:`pytest_provd.provd.plugins.renders`), in the family file
the build copied, or made with ``sed`` from (:mod:`pytest_provd.rendering.shipping`),
then the generated file and line.

Every location is relative to the repository holding ``plugins/`` (``plugins/wazo_x/...``) or
to the built plugin (``<plugin id>/...``): no temporary dirs, no ports, so baselines keep
matching from one run to the next.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from pytest_provd import tree
from pytest_provd.problems import Problem, read_source_line
from pytest_provd.provd.plugins import renders
from pytest_provd.rendering.shipping import made_from, repo_rel

_COLUMN = re.compile(r"\bcolumn (\d+)")
_SIMILAR = 0.75
"""How alike a family template must be to a built one no recorded command made, to be named
as its source."""


@dataclass(frozen=True)
class SourceLine:
    """A line of the user's tree; *note* says how it was found when not simply copied."""

    path: str  # as the maintainer knows it (relative)
    line: int
    note: str = ""
    file: Path | None = None  # the file itself, to read the line from


def source_line(target: tree.Target, plugin_dir: Path, filename: str, line: int) -> SourceLine:
    """Where line *line* of the built file *filename* (inside *plugin_dir*) comes from: the
    family file it was copied from, else the one build.py made it from (``sed``), else the
    built file itself."""
    built = Path(filename)
    try:
        rel = built.relative_to(plugin_dir).as_posix()
    except ValueError:
        return SourceLine(built.name, line, file=built)
    # Lazy: importing the checks package here would import this module again (checks.entry).
    from pytest_provd.checks._templates import source_of

    origin = source_of(target.family.path, plugin_dir, rel, prefer=target.source_dir)
    if origin is not None:
        return SourceLine(repo_rel(target, origin), line, file=origin)
    build_py = repo_rel(target, target.build_py)
    built_at = f"{target.plugin_id}/{rel}:{line}"
    text = _read(built)
    made = made_from(target, rel)
    if made is not None:
        source, step = made
        first, *rest = step.lines or (target.build_py_line,)
        via = f" (via line {', '.join(map(str, rest))})" if rest else ""
        mapped = matching_line(text.splitlines(), _read(source).splitlines(), line)
        note = f" (built as {built_at} by {step.program} at {build_py}:{first}{via})"
        return SourceLine(repo_rel(target, source), mapped, note, source)
    similar = _most_alike(target.family.path, text)
    if similar is not None:
        mapped = matching_line(text.splitlines(), _read(similar).splitlines(), line)
        note = f" (built as {built_at} by {build_py}:{target.build_py_line}; the most alike file)"
        return SourceLine(repo_rel(target, similar), mapped, note, similar)
    made_by = f" (made by {build_py}:{target.build_py_line})"
    return SourceLine(built_at.rpartition(":")[0], line, made_by, built)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _most_alike(family: Path, text: str) -> Path | None:
    """The family template most like *text*, if one is alike enough."""
    best: tuple[float, Path] | None = None
    for path in sorted(family.rglob("*")):
        parts = path.relative_to(family).parts
        if not path.is_file() or not ("templates" in parts or path.suffix in (".tpl", ".btpl")):
            continue
        matcher = difflib.SequenceMatcher(None, text, _read(path), autojunk=False)
        if matcher.real_quick_ratio() < _SIMILAR or matcher.quick_ratio() < _SIMILAR:
            continue
        ratio = matcher.ratio()
        if ratio >= _SIMILAR and (best is None or ratio > best[0]):
            best = (ratio, path)
    return best[1] if best else None


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
        untraced = f"{problem.message} (rendered from {where.path}; its line could not be traced)"
        return replace(problem, message=untraced)
    where = source_line(target, render.plugin_dir, origin.filename, origin.line)
    return replace(
        problem,
        path=where.path,
        message=f"{problem.location()}: {problem.message}{where.note}",
        line=where.line,
        section=None,
        # What a baseline knows the defect by: the template line's text, not its number.
        source=read_source_line(where.file, where.line) if where.file else None,
    )
