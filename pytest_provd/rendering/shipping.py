"""Which templates a build ships, and why one is missing: the ``build.py`` target, each copy
it makes (``rsync`` with its ``--include``/``--exclude`` rules, ``copytree``) and the rule that
dropped the file.

The copies are recorded by running the target's function once more into a temporary dir,
with ``subprocess`` and ``shutil.copytree`` watched: command lines built by helpers, loops and
f-strings are seen as they ran, with the ``build.py`` lines that ran them.  This only happens
when a template is found missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_provd import tree
from pytest_provd.tree import memo
from pytest_provd.tree.rsync_shim import RsyncShimError, _parse, _Rule

_TIMEOUT_S = 120.0

_RECORDER = r"""
import json, os, shutil, subprocess, sys, traceback
family, target_id, dest = sys.argv[1], sys.argv[2], sys.argv[3]
build_py = os.path.join(family, "build.py")
steps = []

def where():
    return [f.lineno for f in traceback.extract_stack() if f.filename == build_py]

real_popen = subprocess.Popen.__init__
def popen(self, args, *more, **kwargs):
    argv = [os.fspath(a) for a in args] if isinstance(args, (list, tuple)) else str(args).split()
    out = getattr(kwargs.get("stdout"), "name", None)
    out = os.path.relpath(out, path) if isinstance(out, str) and "path" in globals() else None
    steps.append({"argv": argv, "lines": where(), "stdout": out})
    real_popen(self, args, *more, **kwargs)
subprocess.Popen.__init__ = popen

real_copytree = shutil.copytree
def copytree(src, dst, *more, **kwargs):
    steps.append({"copytree": os.fspath(src), "lines": where()})
    return real_copytree(src, dst, *more, **kwargs)
shutil.copytree = copytree

found = {}
def target(tid, pid, std_dirs=True):
    def register(fun):
        found[tid] = (fun, pid)
        return fun
    return register
try:
    with open(build_py, "rb") as f:
        code = compile(f.read(), build_py, "exec")
    exec(code, {"target": target, "__file__": build_py, "__name__": "build"})
    fun, pid = found[target_id]
    path = os.path.join(dest, pid)
    os.mkdir(path)
    os.chdir(family)
    fun(os.path.abspath(path))
except BaseException:
    pass  # the copies made before the failure are still worth saying
print(json.dumps(steps))
"""


@dataclass(frozen=True)
class CopyStep:
    """One copy a target made (its sources, relative to the family, and filter rules), or
    another program it ran."""

    lines: tuple[int, ...]  # build.py lines that ran it, the target function's first
    sources: tuple[str, ...]  # for another program: its arguments
    rules: tuple[_Rule, ...]
    program: str = ""  # not rsync or copytree: the program run (sed...)
    made: str | None = None  # the file (relative to the built plugin) its output went to

    def decides(self, rel: str) -> tuple[bool, _Rule | None]:
        """Whether *rel* (relative to the transfer root) is copied; the deciding rule."""
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            sub, is_dir = "/".join(parts[:depth]), depth < len(parts)
            rule = next((r for r in self.rules if r.matches(sub, is_dir)), None)
            if rule is not None and not rule.include:
                return False, rule
            if depth == len(parts):
                return True, rule
        return True, None


_STEPS: dict[tuple[str, float, str], list[CopyStep]] = {}


def copy_steps(target: tree.Target) -> list[CopyStep]:
    """The copies *target*'s build function makes, in order (recorded once per build.py)."""
    return [step for step in _steps(target) if not step.program]


def _steps(target: tree.Target) -> list[CopyStep]:
    key = (str(target.build_py), target.build_py.stat().st_mtime, target.target_id)
    if key not in _STEPS:
        _STEPS[key] = _record(target)
    return _STEPS[key]


class _NotRecorded(Exception):
    """The recording run failed (not remembered: a timeout may not happen again)."""


def _run_recorder(target: tree.Target, tools: list[str]) -> list[dict[str, Any]]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*tools, env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="pytest-provd-shipping-") as dest:
        argv = [sys.executable, "-c", _RECORDER, str(target.family.path), target.target_id, dest]
        try:
            proc = subprocess.run(
                argv, capture_output=True, text=True, env=env, timeout=_TIMEOUT_S, check=False
            )
            recorded: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, IndexError, ValueError, OSError) as exc:
            raise _NotRecorded from exc
    return recorded


def _record(target: tree.Target) -> list[CopyStep]:
    tools = tree.tool_path_prefix()
    # Running build.py again costs a Python start per target: remembered by the family's
    # contents (in the build cache, so across runs and workers).
    key = memo.content_key(
        tree.family_digest(target.family), target.target_id, _RECORDER, *tools, sys.executable
    )
    try:
        recorded = memo.remembered("build-steps", key, lambda: _run_recorder(target, tools))
    except _NotRecorded:
        return []
    steps = []
    for step in recorded:
        lines = tuple(int(n) for n in step.get("lines", []))
        if "copytree" in step:
            steps.append(CopyStep(lines, (str(step["copytree"]).rstrip("/") + "/",), ()))
            continue
        argv = [str(a) for a in step.get("argv", [])]
        if not argv or Path(argv[0]).name != "rsync":
            made = step.get("stdout")
            steps.append(CopyStep(lines, tuple(argv[1:]), (), argv[0] if argv else "", made))
            continue
        try:
            _, rules, sources, _ = _parse(argv[1:])
        except RsyncShimError:
            rules, sources = [], [a for a in argv[1:-1] if not a.startswith("-")]
        steps.append(CopyStep(lines, tuple(sources), tuple(rules)))
    return steps


def made_from(target: tree.Target, rel: str) -> tuple[Path, CopyStep] | None:
    """The family file a command of the build (``sed ... > rel``) made the built ``rel``
    from, and that command; None when no recorded command wrote ``rel``."""
    for step in _steps(target):
        if step.program and step.made == rel:
            for arg in reversed(step.sources):
                source = target.family.path / arg
                if not arg.startswith("-") and source.is_file():
                    return source, step
    return None


def missing_template_fix(target: tree.Target, rel: str) -> str:
    """How ``rel`` (``templates/X.tpl``) gets into the build: the target (build.py:line),
    what each of its copies does with that path (its rules), the rule to add or change."""
    build_py = repo_rel(target, target.build_py)
    head = f"target {target.target_id!r} ({build_py}:{target.build_py_line})"
    steps = copy_steps(target)
    if not steps:
        return f"{head} makes no copy rsync or copytree could show; ship {rel} from there"
    said = []
    for step in steps:
        first, *rest = list(dict.fromkeys(step.lines)) or [target.build_py_line]
        at = f"{build_py}:{first}" + (f" (via line {', '.join(map(str, rest))})" if rest else "")
        rules = " ".join(f"{'+' if r.include else '-'} {r.pattern}" for r in step.rules)
        for source in step.sources:
            root = source.rstrip("/")
            inside = rel if source.endswith("/") else f"{Path(root).name}/{rel}"
            shipped, rule = step.decides(inside)
            if not (target.family.path / root / rel).is_file():
                verdict = f"{root}/ has no {rel}"
            elif shipped:
                verdict = f"{root}/{rel} is copied (removed later in the build?)"
            else:
                pattern = rule.pattern if rule is not None else "?"
                verdict = (
                    f"{root}/{rel} is dropped by --exclude {pattern}: add "
                    f"--include /{inside} before it"
                )
            said.append(f"{at}: {verdict}" + (f" [rules: {rules}]" if rules else ""))
    return f"{head} ships {rel} through none of its copies:\n    " + "\n    ".join(said)


def repo_rel(target: tree.Target, path: Path | str) -> str:
    """*path* relative to the repository holding the plugins dir (``plugins/...``)."""
    base = target.family.path.parent.parent
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
