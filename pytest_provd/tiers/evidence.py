"""What each generated item's report carries besides its verdict (keys in
:mod:`pytest_provd.report.payload`).

Always: identity properties (target, model, vendor, tier, check; a family's items name the
family) set when the item is collected, and one problem fingerprint per distinct problem of
a failure, so JUnit ``<properties>`` let CI systems group results.  With ``--provd-report``,
the call report also carries the evidence the report pages show: the problems in full, the
files a model was given (on its ``configure`` item) and what its emulated phone fetched and
flashed (on its ``provision`` item).  Nothing here configures or boots anything: it reads
what the item's run left in this process.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from pytest_provd import tree
from pytest_provd.capabilities import split_capability_key
from pytest_provd.report import payload
from pytest_provd.report.failures import normaliser, problems_of
from pytest_provd.session import ProvdSession, session_key
from pytest_provd.suite import FamilyItem, ModelCollector, ProvdItem
from pytest_provd.tiers._run import target_run
from pytest_provd.tiers._wire import _WIRES, WireRun, older_version
from pytest_provd.tiers.dhcp import MARKER as DHCP_MARKER
from pytest_provd.tiers.dhcp import DhcpItem

_VENDORS = pytest.StashKey[dict[str, str]]()


def vendor_of(config: pytest.Config, target: tree.Target) -> str:
    """The vendor of *target*'s first well-formed plugin-info capability key ("" if none);
    read statically, once per target."""
    vendors = config.stash.get(_VENDORS, None)
    if vendors is None:
        vendors = config.stash[_VENDORS] = {}
    if target.plugin_id not in vendors:
        from pytest_provd.checks import target_facts  # lazy: jinja2, the pkgs.db parser

        info = target_facts(target).info
        keys = [split_capability_key(str(k)) for k in (info.capabilities if info else {})]
        vendors[target.plugin_id] = next((k.vendor for k in keys if k is not None), "")
    return vendors[target.plugin_id]


def identity(item: pytest.Item) -> list[tuple[str, str]]:
    """The identity properties of a generated item ([] for any other item)."""
    if isinstance(item, FamilyItem):
        family = item.nodeid.split("::", 1)[0]
        return [
            (payload.FAMILY_KEY, family),
            (payload.TIER_KEY, item.tier),
            (payload.CHECK_KEY, item.name),
        ]
    if isinstance(item, DhcpItem):  # dhcp::<emulated vendor>::<model>
        vendor = item.parent.name if item.parent is not None else ""
        return [
            (payload.MODEL_KEY, item.name),
            (payload.VENDOR_KEY, vendor),
            (payload.TIER_KEY, DHCP_MARKER),
            (payload.CHECK_KEY, "dhcp"),
        ]
    if not isinstance(item, ProvdItem) or item.target is None:
        return []
    props = [(payload.TARGET_KEY, item.target.plugin_id)]
    if isinstance(item.parent, ModelCollector):
        props.append((payload.MODEL_KEY, item.parent.name))
    vendor = vendor_of(item.config, item.target)
    if vendor:
        props.append((payload.VENDOR_KEY, vendor))
    props += [(payload.TIER_KEY, item.tier), (payload.CHECK_KEY, item.name)]
    return props


def pytest_itemcollected(item: pytest.Item) -> None:
    """Identity properties on every generated item (so in its JUnit properties)."""
    item.user_properties.extend(identity(item))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Fingerprints of a failure's problems (item properties, so on the JUnit testcase);
    with ``--provd-report``, the evidence on the call report."""
    outcome = yield
    if call.when != "call" or not isinstance(item, ProvdItem | DhcpItem):
        return
    report: pytest.TestReport = outcome.get_result()
    session = item.config.stash.get(session_key, None)
    entries = _problems(item, call, report)
    for fingerprint in dict.fromkeys(e["fingerprint"] for e in entries):
        item.user_properties.append((payload.FINGERPRINT_KEY, fingerprint))
    if session is None or session.options.report_dir is None:
        return
    if entries:
        report.user_properties.append((payload.PROBLEMS_KEY, entries[: payload.MAX_PROBLEMS]))
    if not isinstance(item, ProvdItem) or item.target is None:
        return
    if not isinstance(item.parent, ModelCollector):
        return
    model = item.parent.name
    if item.name == "configure":
        files = _files(session, item.target, model)
        if files is not None:
            report.user_properties.append((payload.FILES_KEY, files))
    elif item.name == "provision":
        phone = _phone(session, item.target, model)
        if phone is not None:
            report.user_properties.append((payload.PHONE_KEY, phone))


def _problems(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> list[dict[str, Any]]:
    excinfo = call.excinfo
    if excinfo is None or excinfo.errisinstance((pytest.skip.Exception, pytest.xfail.Exception)):
        return []
    norm = normaliser(item.config)
    found = problems_of(excinfo.value, report.longrepr, report.longreprtext)
    entries: dict[tuple[str, int | None], dict[str, Any]] = {}
    for problem in found:
        fingerprint = norm.identify(problem, item.name).fingerprint
        entries.setdefault((fingerprint, problem.line), payload.problem_entry(problem, fingerprint))
    return list(entries.values())


def _files(session: ProvdSession, target: tree.Target, model: str) -> list[dict[str, Any]] | None:
    """The files *model* was given by the configure run (None when the plugin did not load)."""
    run = target_run(session, target)
    if run.load():  # loaded (or not) by the item that just ran: cached
        return None
    outcome = run.configure(model)  # computed by the item that just ran: no new work
    shown = sorted(outcome.files.items())[: payload.MAX_FILES]
    return [
        payload.file_entry(
            name, data, outcome.served[name].request if name in outcome.served else None
        )
        for name, data in shown
    ]


def _phone(session: ProvdSession, target: tree.Target, model: str) -> dict[str, Any] | None:
    """What the phone of *model* fetched and flashed, if it booted in this process."""
    wires = session.stash.get(_WIRES, None)
    wire = wires.get(target.plugin_id) if wires is not None else None
    booted = wire.booted.get(model) if isinstance(wire, WireRun) else None
    if booted is None:
        return None
    state = booted.state
    run = target_run(session, target)
    return {
        "mac": booted.phone.mac,
        "fetches": [
            {"proto": f.proto, "path": f.path, "status": f.status, "size": f.size}
            for f in state.fetches[: payload.MAX_FETCHES]
        ],
        "more_fetches": max(0, len(state.fetches) - payload.MAX_FETCHES),
        "firmware": [older_version(run.firmware_version(model)), *state.flashed],
        "final_firmware": state.firmware_version,
        "lines": {
            str(n): {"username": line.username, "display_name": line.display_name}
            for n, line in sorted(state.lines.items())
        },
        "errors": [payload.clip(e, 1000) for e in state.errors[: payload.MAX_PROBLEMS]],
        "notes": [payload.clip(n, 1000) for n in booted.notes],
    }
