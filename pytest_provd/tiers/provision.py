"""Per model: ``provision`` (an emulated phone boots from DHCP against the provd of
``--provd-backend`` and gets the two lines pushed over REST; SCCP phones the call manager;
phones of a push plugin once provd synchronized them; a phone the tree's dhcpd configuration
does not reach boots as a redirected one, and the item's report says so) and
``fetched-wellformed`` (every file the phone fetched parses strictly; a phone that fetched no
file fails it, or skips it when it is a push plugin's phone, which takes its settings at
synchronize).

Phones boot under the default (sample) config only: a boot costs a DHCP exchange, fetches and
a firmware upgrade, so the other configs of a model's matrix are judged in process by the
``matrix`` item (:mod:`pytest_provd.tiers.matrix`)."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import pytest

from pytest_provd import tree
from pytest_provd.facts import record_facts, record_note
from pytest_provd.problems import Problem
from pytest_provd.report import wording
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan, target_models
from pytest_provd.tiers._run import TargetRun, target_run
from pytest_provd.tiers._sourcemap import fetched_problems
from pytest_provd.tiers._wire import SCCP_CALL_MANAGER, WireSetupError, boot, protocol_of
from pytest_provd.tiers.configure import no_line_note


def check_provision(run: TargetRun, model: str) -> list[Problem]:
    """An emulated phone of *model* boots from DHCP and gets the two lines pushed over REST
    (SCCP phones: the call manager pushed over REST; phones of a push plugin: once provd
    synchronized the device)."""
    problems = run.load()
    if problems:
        return problems
    try:
        booted = boot(run, model)
    except WireSetupError as exc:
        return [Problem(run.where, str(exc))]
    state, phone = booted.state, booted.phone
    for note in booted.notes:
        record_note(note)
    unreachable = [e for e in state.errors if "cannot listen" in e]
    if phone.needs_synchronize and unreachable:
        raise pytest.skip.Exception(
            f"{model} takes its settings at synchronize on an interface of its own, which "
            f"could not be served here: {unreachable[0]}",
            _use_item_location=True,
        )
    provisioned = state.provisioned or state.settings.get("call_manager.1") == SCCP_CALL_MANAGER
    record_facts(phones=1 if provisioned else 0, flashed=len(state.flashed))
    found: list[Problem] = []
    if booted.sync_error is not None:
        # The one cause: the lines cannot have arrived.
        return [
            Problem(
                run.where,
                f"{model}: {run.target.plugin_id} pushes its settings at synchronize, and "
                f"synchronizing the device failed: {in_sources(run, booted.sync_error)}\n"
                f"{state.describe()}",
            )
        ]
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
                    wording.call_manager_problem(
                        model, SCCP_CALL_MANAGER, got_manager, state.fetches
                    )
                    + "\n"
                    + wording.details(state.errors, state.firmware_version),
                )
            )
        return found
    lines = booted.pushed["sip_lines"]
    fetched = b"\n".join(data for data in state.files.values() if isinstance(data, bytes))
    if run.takes_no_line(model, fetched, [str(lines[n].get("username")) for n in sorted(lines)]):
        record_note(no_line_note(model))
        return found
    room = run.capability(model).get("lines", 2)
    # A one-line phone (conference phone, ATA port) only has room for line 1.
    for number in ("1", "2")[: max(1, min(2, int(room)))]:
        pushed = lines[number]
        line = state.lines.get(int(number))
        # As the vendor's plugin shows a line (some put the number next to the name).
        if not phone.line_matches(line, pushed):
            found.append(
                Problem(
                    run.where,
                    wording.line_problem(model, number, pushed, line, state.fetches)
                    + "\n"
                    + wording.details(state.errors, state.firmware_version),
                )
            )
    return found


def in_sources(run: TargetRun, text: str) -> str:
    """*text* with the paths of the target's installed copy on the wire (``…/wire/<id>/plugins/
    <id>/common.py:126``) replaced by the source files they were built from."""
    from pytest_provd.checks._templates import source_of  # lazy: jinja2

    plugin_id = run.target.plugin_id
    pattern = re.compile(
        rf"(\S*/wire/{re.escape(plugin_id)}/plugins/{re.escape(plugin_id)})/([^\s:]+)"
    )

    def source(match: re.Match[str]) -> str:
        found = source_of(
            run.target.family.path, Path(match.group(1)), match.group(2), run.target.source_dir
        )
        return str(found) if found is not None else match.group(0)

    return pattern.sub(source, text)


def check_fetched_wellformed(run: TargetRun, model: str) -> list[Problem]:
    """Every file the booted phone fetched parsed strictly (phones themselves may recover)."""
    problems = run.load()
    if problems:
        return problems
    try:
        booted = boot(run, model)
    except WireSetupError as exc:
        return [Problem(run.where, str(exc))]
    if not any(fetch.status == 200 for fetch in booted.state.fetches):
        # Nothing to parse is no pass: a push plugin's phone legitimately fetches no file
        # (skip), any other phone should have fetched its configuration (fail).
        if booted.phone.needs_synchronize:
            raise pytest.skip.Exception(
                f"{model} takes its settings at synchronize and fetched no file: nothing to check",
                _use_item_location=True,
            )
        return [Problem(run.where, wording.nothing_fetched(model, booted.state.fetches))]
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
