"""Hooks pytest-provd adds to pytest (registered in :func:`pytest_provd.plugin.pytest_addhooks`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_provd.session import ProvdSession
    from pytest_provd.suite import TargetPlan
    from pytest_provd.tree import Target


@pytest.hookspec
def pytest_provd_plan_target(session: ProvdSession, target: Target, plan: TargetPlan) -> None:
    """Add the generated items of *target* to *plan*.

    Called once per selected target at collection; every implementation adds its items with
    ``plan.add(ItemSpec(...))`` (under the target) or ``plan.add_model(model, ItemSpec(...))``
    (under ``<target>::<model>``).  Items appear in the order the implementations run:
    pytest-provd's tiers first (static checks, load, hostile-values, firmware, configure,
    provision, golden), then those of plugins registered before them.

    :param session: the run's :class:`~pytest_provd.session.ProvdSession`
    :param target: the build target
    :param plan: the items planned so far
    """
