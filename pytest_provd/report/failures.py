"""How a generated item's failure reads: its problems once each, the first one in the summary.

:func:`distinct` gives every problem its rule (the item's check name) and drops repeats: a
problem the same as an earlier one in everything but volatile values (same fingerprint, same
line) is said once, while the same finding at two lines stays two findings.
:func:`failure_repr` is the report pytest prints: the problems one per line, no traceback, and
the first problem as the "crash" message, which is what ``-ra``/``-q`` short summaries, junit
``message`` attributes and xdist show (pytest 7.4 to 9).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from _pytest._code.code import (
    ExceptionChainRepr,
    ReprEntry,
    ReprFileLocation,
    ReprTraceback,
)

from pytest_provd.problems import Problem, ProvdCheckFailed, SourceError, dedupe
from pytest_provd.report.identity import Normaliser, repo_root
from pytest_provd.session import session_key

_NORMALISER = pytest.StashKey[Normaliser]()


def normaliser(config: pytest.Config) -> Normaliser:
    """The run's :class:`Normaliser` (problem paths relative to the plugins repository)."""
    found = config.stash.get(_NORMALISER, None)
    if found is None:
        session = config.stash.get(session_key, None)
        root = (
            repo_root(session.plugins_dir, session.repo_root)
            if session is not None and session.plugins_dir is not None
            else None
        )
        basetemp = getattr(config.option, "basetemp", None)
        tmp_dirs = [Path(basetemp).parent] if basetemp else []
        found = config.stash[_NORMALISER] = Normaliser(root, tmp_dirs=tmp_dirs)
    return found


def distinct(problems: list[Problem], rule: str, config: pytest.Config) -> list[Problem]:
    """*problems* with their rule filled in (*rule* unless set), each said once."""
    norm = normaliser(config)
    ruled = [p if p.rule else replace(p, rule=rule) for p in problems]
    return dedupe(ruled, key=lambda p: (norm.identify(p, rule).fingerprint, p.line))


def problems_of(exc: BaseException | None, longrepr: object, text: str) -> list[Problem]:
    """The problems of a failure: a generated item's, else one made of the exception."""
    if isinstance(exc, ProvdCheckFailed):
        return list(exc.problems)
    if isinstance(exc, SourceError):
        return [Problem(exc.path, exc.message, exc.line)]
    crash = getattr(longrepr, "reprcrash", None)
    path = str(getattr(crash, "path", "") or "")
    lineno = getattr(crash, "lineno", None)
    if exc is not None:
        message = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
    else:
        message = (text.strip().splitlines() or [""])[-1]
    line = lineno if isinstance(lineno, int) and lineno > 0 and path else None
    return [Problem(path, message, line)]


def summary(problems: list[Problem]) -> str:
    """The first problem on one line, and how many more there are."""
    if not problems:
        return "no problem reported"
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    return problems[0].summary() + more


def shown(problems: list[Problem], config: pytest.Config) -> list[Problem]:
    """*problems* as the terminal shows them: paths under the plugins repository relative to
    it (``plugins/wazo_snom/...``), as a maintainer reads them in their checkout, and the
    same text on every run of the same tree (temp dirs and loopback ports replaced)."""
    norm = normaliser(config)
    resolved = norm.root.resolve() if norm.root is not None else None
    out = []
    for problem in problems:
        path = Path(str(problem.path))
        if path.is_absolute() and resolved is not None:
            try:
                problem = replace(problem, path=path.resolve().relative_to(resolved).as_posix())
            except ValueError:  # outside the repository: kept whole
                pass
        message = norm.volatile(problem.message)
        fix = norm.volatile(problem.fix) if problem.fix else problem.fix
        if message != problem.message or fix != problem.fix:
            problem = replace(problem, message=message, fix=fix)
        out.append(problem)
    return out


def failure_repr(
    nodeid: str, problems: list[Problem], config: pytest.Config | None = None
) -> ExceptionChainRepr:
    """``<node id>: N problem(s)`` then one problem a line; the first one is the crash.

    With *config*, paths are shown relative to the plugins repository (:func:`shown`).
    """
    if config is not None:
        problems = shown(problems, config)
    lines = [f"{nodeid}: {len(problems)} problem(s)"]
    # One physical line an entry: pytest < 8 prints only the first line of a multi-line one.
    lines += [line for p in problems for line in f"  {p}".split("\n")]
    first = problems[0] if problems else Problem("", "no problem reported")
    entry = ReprEntry(lines, None, None, None, "value")
    crash = ReprFileLocation(str(first.path), first.line or 0, summary(problems))
    return ExceptionChainRepr([(ReprTraceback([entry], None, "value"), crash, None)])


def source_error_repr(
    nodeid: str, exc: SourceError, config: pytest.Config | None = None
) -> ExceptionChainRepr:
    """A :class:`SourceError` said in one line, as a problem."""
    return failure_repr(nodeid, [Problem(exc.path, exc.message, exc.line)], config)
