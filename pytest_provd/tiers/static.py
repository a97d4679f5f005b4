"""The ``provd_static`` tier: the ``build`` item and the static checks of :mod:`pytest_provd.checks`
(no server, no phone)."""

from __future__ import annotations

import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem, SourceError
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan


def check_build(session: ProvdSession, target: tree.Target) -> list[Problem]:
    """The target builds."""
    try:
        session.build(target)
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
        builder=session.build,
    )
    for name, runner in iter_items(ctx):
        plan.add(ItemSpec(name, "provd_static", runner))
