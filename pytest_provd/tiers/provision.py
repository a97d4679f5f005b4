"""Per model: ``provision`` (an emulated phone boots from DHCP against the provd of
``--provd-backend`` and gets the two lines pushed over REST; SCCP phones the call manager) and
``fetched-wellformed`` (every file the phone fetched parses strictly)."""

from __future__ import annotations

from functools import partial

import pytest

from pytest_provd import tree
from pytest_provd.facts import record_facts
from pytest_provd.problems import Problem
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan, target_models
from pytest_provd.tiers._run import TargetRun, target_run
from pytest_provd.tiers._sourcemap import fetched_problems
from pytest_provd.tiers._wire import SCCP_CALL_MANAGER, WireSetupError, boot, protocol_of


def check_provision(run: TargetRun, model: str) -> list[Problem]:
    """An emulated phone of *model* boots from DHCP and gets the two lines pushed over REST
    (SCCP phones: the call manager pushed over REST)."""
    problems = run.load()
    if problems:
        return problems
    try:
        booted = boot(run, model)
    except WireSetupError as exc:
        return [Problem(run.where, str(exc))]
    state, phone = booted.state, booted.phone
    provisioned = state.provisioned or state.settings.get("call_manager.1") == SCCP_CALL_MANAGER
    record_facts(phones=1 if provisioned else 0, flashed=len(state.flashed))
    found: list[Problem] = []
    provd_model = (booted.recorded or {}).get("model")
    # phone.model, not model: capabilities name a wired/wireless pair "6920(w)"
    if provd_model and str(provd_model).upper() != phone.model.upper():
        # provd keeps the first model an extractor gave; the plugin then configures the
        # device for that model, whatever the phone says later.
        found.append(
            Problem(
                run.where,
                f"{model}: provd recorded this phone as model {provd_model!r}, so the plugin "
                f"configured it for that model; the phone sent DHCP option 60 "
                f"{phone.vendor_class()!r} and User-Agent {phone.user_agent()!r}",
            )
        )
    if protocol_of(run, model) == "sccp":
        got_manager = state.settings.get("call_manager.1")
        if got_manager != SCCP_CALL_MANAGER:
            found.append(
                Problem(
                    run.where,
                    f"{model}: call manager 1 is {got_manager!r}, pushed "
                    f"{SCCP_CALL_MANAGER!r}\n{state.describe()}",
                )
            )
        return found
    lines = booted.pushed["sip_lines"]
    room = run.capability(model).get("lines", 2)
    # A one-line phone (conference phone, ATA port) only has room for line 1.
    for number in ("1", "2")[: max(1, min(2, int(room)))]:
        pushed = lines[number]
        line = state.lines.get(int(number))
        got = (line.username, line.display_name) if line else None
        if got != (pushed["username"], pushed["display_name"]):
            found.append(
                Problem(
                    run.where,
                    f"{model}: line {number} is {got}, pushed "
                    f"{(pushed['username'], pushed['display_name'])}\n{state.describe()}",
                )
            )
    return found


def check_fetched_wellformed(run: TargetRun, model: str) -> list[Problem]:
    """Every file the booted phone fetched parsed strictly (phones themselves may recover)."""
    problems = run.load()
    if problems:
        return problems
    try:
        booted = boot(run, model)
    except WireSetupError as exc:
        return [Problem(run.where, str(exc))]
    return fetched_problems(run, booted)


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``<model>::provision`` and ``<model>::fetched-wellformed`` for every model."""
    run = target_run(session, target)
    for model in target_models(target):
        plan.add_model(
            model, ItemSpec("provision", "provd_provision", partial(check_provision, run, model))
        )
        plan.add_model(
            model,
            ItemSpec(
                "fetched-wellformed",
                "provd_provision",
                partial(check_fetched_wellformed, run, model),
            ),
        )
