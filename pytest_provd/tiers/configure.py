"""Per model: ``configure`` (a device with a two-line SIP config is configured; every file the
plugin wrote is served back identically over its HTTP or TFTP service or its own HTTP resource,
and carries both SIP user names; a push plugin writes none and is judged by ``provision``) and
``wellformed`` (every generated XML file parses strictly)."""

from __future__ import annotations

from functools import partial

import pytest

from pytest_provd import tree
from pytest_provd.facts import record_facts, record_note
from pytest_provd.problems import Problem
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan, target_models
from pytest_provd.tiers._run import TargetRun, target_run, xml_problems
from pytest_provd.tiers._sourcemap import at_templates

USERS = ("alice1001", "bob1002")
"""The SIP user names of the sample config's two lines."""


def check_configure(run: TargetRun, model: str) -> list[Problem]:
    """Configured, served back, and both SIP users present in what was generated."""
    problems = run.load()
    if problems:
        return problems
    outcome = run.configure(model)
    record_facts(models=1, files=len(outcome.files))
    problems = list(outcome.problems)
    caps = run.capability(model)
    if outcome.pushed_at_synchronize:
        record_note(
            f"{model}: configure wrote no file, as a push plugin does: {run.target.plugin_id} "
            "sends the settings to the phone at synchronize (judged by the provision item)"
        )
    if outcome.files and run.protocol(model) == "sip":
        text = b"\n".join(outcome.files.values())
        # A one-line phone (ATA port, conference phone) only has room for the first user.
        users = list(USERS[: max(1, int(caps.get("lines", len(USERS))))])
        if run.takes_no_line(model, text, users):
            record_note(no_line_note(model))
            users = []
        for user in users:
            if user.encode() not in text:
                problems.append(
                    Problem(
                        run.where,
                        f"SIP user {user} pushed for {model} appears in none of the generated "
                        f"files ({', '.join(sorted(outcome.files))})",
                        fix="check the template's sip_lines loop",
                    )
                )
    return problems


def no_line_note(model: str) -> str:
    """Why *model*'s lines are not judged (see :meth:`TargetRun.takes_no_line`)."""
    return (
        f"{model}: lines not judged: its files carry none of the pushed SIP users, and "
        f"plugin-info has no capability for it to say it takes any (see models[{model}])"
    )


def check_wellformed(run: TargetRun, model: str) -> list[Problem]:
    """Every generated file that claims to be XML parses strictly."""
    problems = run.load()
    if problems:
        return problems
    outcome = run.configure(model)
    found = []
    for name, data in sorted(outcome.files.items()):
        found += at_templates(
            run, xml_problems(f"{run.target.plugin_id}/var/tftpboot/{name}", data), data
        )
    return found


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``<model>::configure`` and ``<model>::wellformed`` for every model of the target."""
    run = target_run(session, target)
    for model in target_models(target):
        plan.add_model(
            model, ItemSpec("configure", "provd_load", partial(check_configure, run, model))
        )
        plan.add_model(
            model, ItemSpec("wellformed", "provd_load", partial(check_wellformed, run, model))
        )
