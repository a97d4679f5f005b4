"""Per model: ``golden`` (the generated files equal their golden copies).  Opt-in: planned only
with ``--provd-update-golden`` or an existing golden directory, since a tree without golden
files would otherwise fail on its first run."""

from __future__ import annotations

from functools import partial

import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan, target_models
from pytest_provd.tiers._run import TargetRun, target_run


def check_golden(run: TargetRun, model: str) -> list[Problem]:
    """Generated files equal their golden copies."""
    problems = run.load()
    if problems:
        return problems
    outcome = run.configure(model)
    found: list[Problem] = []
    for name, data in sorted(outcome.files.items()):
        mac = [outcome.device["mac"]]  # only the device's own MAC is volatile
        found += run.session.golden.check(run.target.plugin_id, model, name, data, macs=mac)
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``<model>::golden`` for every model, when golden files are in use."""
    if not (session.options.update_golden or session.golden.root.is_dir()):
        return
    run = target_run(session, target)
    for model in target_models(target):
        plan.add_model(model, ItemSpec("golden", "provd_golden", partial(check_golden, run, model)))
