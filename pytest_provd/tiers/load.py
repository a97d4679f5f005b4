"""The ``load`` item: the plugin loads in a private plugin manager and ``configure_common``
accepts a base config."""

from __future__ import annotations

import pytest

from pytest_provd import tree
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan
from pytest_provd.tiers._run import target_run


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``load``, once per target."""
    plan.add(ItemSpec("load", "provd_load", target_run(session, target).load))
