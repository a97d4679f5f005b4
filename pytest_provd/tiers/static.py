"""The ``provd_static`` tier: the ``build`` item and the static checks of :mod:`pytest_provd.checks`
(no server, no phone); the run's summary names the targets removed deliberately since the base
ref (the others fail their family's ``removed[...]`` item)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem, SourceError
from pytest_provd.session import ProvdSession, session_key
from pytest_provd.suite import ItemSpec, TargetPlan

if TYPE_CHECKING:
    from pytest_provd.checks import CheckContext

_BUILT = pytest.StashKey[dict[str, Path]]()
"""The build of each selected target found in the cache at session start, by plugin id."""


def check_build(ctx: CheckContext) -> list[Problem]:
    """The target builds (the static checks then use the same lookup of its build)."""
    try:
        ctx.built_dir()
    except SourceError as exc:
        return [Problem(exc.path, exc.message, exc.line, fix="fix the build function")]
    return []


def _cached_build(found: dict[str, Path], target: tree.Target) -> Path:
    """The build session start found in the cache (a family's content is hashed once
    there, not once per target again), else :func:`tree.build_cached`."""
    return found.get(target.plugin_id) or tree.build_cached(target)


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``build``, then one item per static check (``models[<MODEL>]`` per model)."""
    # Kept lazy: pytest starts without the checks (jinja2, the pkgs.db parser).
    from pytest_provd.checks import CheckContext, iter_items

    ctx = CheckContext(
        target,
        base_ref=session.options.base_ref,
        repo_root=session.repo_root,
        # The static rules only read the build: the cached one, not a private copy.
        builder=functools.partial(_cached_build, session.config.stash.get(_BUILT, {})),
    )
    plan.add(ItemSpec("build", "provd_static", functools.partial(check_build, ctx)))
    for name, runner in iter_items(ctx):
        plan.add(ItemSpec(name, "provd_static", runner))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Say which plugin ids went away since the base ref, and why that is deliberate."""
    session = config.stash.get(session_key, None)
    deliberate = [r for r in session.removed if r.deliberate] if session is not None else []
    if not deliberate or session is None:
        return
    terminalreporter.section("provd: removed since " + str(session.options.base_ref))
    for removal in deliberate:
        terminalreporter.write_line(f"removed deliberately: {removal.reason}")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Fill the build cache for the selected targets before any item asks: a family's
    missing targets in one process, families in parallel (:mod:`pytest_provd.tree.batch`);
    with ``-n``, once, in the controller before the workers start.  A target that does not
    build is left to its ``build`` item."""
    config = session.config
    provd = config.stash.get(session_key, None)
    if provd is None or not provd.targets or config.option.collectonly:
        return
    if getattr(config, "workerinput", None) is not None:
        return  # the controller did it
    from pytest_provd.tree.batch import build_all  # lazy: only when targets are selected

    config.stash[_BUILT] = build_all(provd.targets)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` and xdist's default ``--dist load``, a generated suite is scheduled by
    target (see :mod:`pytest_provd.tiers._schedule`); other ``--dist`` modes are kept."""
    session = config.stash.get(session_key, None)
    if session is None or not session.targets or config.getoption("dist", "load") != "load":
        return None
    from pytest_provd.tiers._schedule import make_scheduler  # lazy: xdist's controller only

    return make_scheduler(config, log)
