"""The ``provd_static`` tier: the ``build`` item and the static checks of :mod:`pytest_provd.checks`
(no server, no phone); the run's summary names the targets removed deliberately since the base
ref (the others fail their family's ``removed[...]`` item)."""

from __future__ import annotations

import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem, SourceError
from pytest_provd.session import ProvdSession, session_key
from pytest_provd.suite import ItemSpec, TargetPlan


def check_build(session: ProvdSession, target: tree.Target) -> list[Problem]:
    """The target builds."""
    try:
        tree.build_cached(target)  # read only here: no private copy needed
    except SourceError as exc:
        return [Problem(exc.path, exc.message, exc.line, fix="fix the build function")]
    return []


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``build``, then one item per static check (``models[<MODEL>]`` per model)."""
    # Kept lazy: pytest starts without the checks (jinja2, the pkgs.db parser).
    from pytest_provd.checks import CheckContext, iter_items

    plan.add(ItemSpec("build", "provd_static", lambda: check_build(session, target)))
    ctx = CheckContext(
        target,
        base_ref=session.options.base_ref,
        repo_root=session.repo_root,
        # The static rules only read the build: the cached one, not a private copy.
        builder=tree.build_cached,
    )
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
