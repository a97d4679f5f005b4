"""``dhcp::<vendor>::<model>``: the tree's dhcpd configuration, judged on its own.

A tree with a ``dhcp/`` directory next to its ``plugins/`` gets one ``dhcp`` collector; it
holds an item per model of every selected target whose vendor we emulate: the phone's
vendor class (option 60, or its user class) or its MAC prefix must get a provisioning URL
from the configuration, as the phone itself reads the answer (:mod:`pytest_provd.tiers._dhcp`).
Phones that take no URL from DHCP (the user types it in; a push plugin sends the settings)
get no item.  A failure names the dhcpd file and the class that is missing.

The plugins' ``provision`` items do not depend on this: a phone the configuration does not
reach boots there as a redirected phone would, and says so in its report.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from _pytest._code.code import TerminalRepr

from pytest_provd import tree
from pytest_provd.facts import recording
from pytest_provd.problems import Problem, ProvdCheckFailed
from pytest_provd.report.failures import failure_repr
from pytest_provd.session import session_key
from pytest_provd.suite import target_models

if TYPE_CHECKING:
    from emulators.dhcp import DhcpConfig
    from emulators.phone import Phone

MARKER = "provd_dhcp"


@dataclass(frozen=True)
class PhoneSpec:
    """One emulated phone the configuration must reach."""

    vendor: str
    model: str
    version: str

    def make(self, mac_suffix: str) -> Phone:
        """The phone (not booted), with its vendor's OUI for this model."""
        # Kept lazy: the emulators are only needed once a tree has a dhcp/ directory.
        from emulators.registry import make_phone, vendor_oui

        mac = f"{vendor_oui(self.vendor, self.model)}:{mac_suffix}"
        return make_phone(self.vendor, self.model, mac, version=self.version)


def pytest_configure(config: pytest.Config) -> None:
    """Register the tier's marker."""
    config.addinivalue_line("markers", f"{MARKER}: the tree's dhcpd configuration reaches phones")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Append the ``dhcp::`` items after the targets' (before -m/-k deselection)."""
    provd = config.stash.get(session_key, None)
    if provd is None or not provd.targets or provd.plugins_dir is None:
        return
    dhcp_dir = provd.plugins_dir.parent / "dhcp"
    if not dhcp_dir.is_dir():
        return
    phones = selected_phones(provd.targets)
    if phones:
        collector = DhcpTree.from_parent(
            session, name="dhcp", nodeid="dhcp", dhcp_dir=dhcp_dir, phones=phones
        )
        items.extend(session.genitems(collector))


def selected_phones(targets: list[tree.Target]) -> dict[str, list[PhoneSpec]]:
    """``{vendor: phones}`` of the targets, each model once per vendor, in target order."""
    # Kept lazy: the emulators (and the checks' readers) are only needed with a dhcp/ dir.
    from emulators.registry import make_phone, vendor_for_plugin
    from pytest_provd.checks import target_facts

    out: dict[str, dict[str, PhoneSpec]] = {}
    for target in targets:
        vendor = vendor_for_plugin(target.plugin_id)
        if vendor is None:
            continue
        facts = target_facts(target)
        versions, entry = facts.capability_versions(), facts.entry
        for name in target_models(target):
            model = tree.model_variants(name)[0]
            if _softphone(facts.info.capabilities if facts.info else {}, name, model):
                continue  # runs on a computer: its provisioning server is set by hand
            found = versions.get(name) or versions.get(model) or []
            version = found[0][0] if found else None
            if version is None and entry is not None:
                version = next(iter(entry.version_for(name)), None)
            phone = make_phone(vendor, model, "02:00:00:00:00:01", version=version or "1.0")
            if phone.needs_synchronize or phone.url_by_hand:
                continue  # takes no provisioning URL from DHCP
            out.setdefault(vendor, {}).setdefault(model, PhoneSpec(vendor, model, version or "1.0"))
    return {vendor: list(phones.values()) for vendor, phones in out.items()}


def _softphone(capabilities: dict[str, Any], *models: str) -> bool:
    """Whether plugin-info says a capability of *models* is a softphone."""
    for key, caps in capabilities.items():
        parts = [part.strip() for part in str(key).split(",")]
        if len(parts) > 1 and parts[1] in models and isinstance(caps, dict):
            return caps.get("type") == "softphone"
    return False


class DhcpTree(pytest.Collector):
    """``dhcp``: one collector per emulated vendor of the selected targets."""

    def __init__(
        self, *, dhcp_dir: Path, phones: dict[str, list[PhoneSpec]], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.dhcp_dir = dhcp_dir
        self.phones = phones
        self._config: DhcpConfig | None = None

    def config_of_tree(self) -> DhcpConfig:
        """The parsed configuration (parsed once)."""
        from emulators.dhcp import DhcpConfig  # lazy: emulators

        if self._config is None:
            self._config = DhcpConfig.parse(self.dhcp_dir)
        return self._config

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """``dhcp::<vendor>`` collectors."""
        return [
            DhcpVendor.from_parent(self, name=vendor, phones=phones)
            for vendor, phones in self.phones.items()
        ]


class DhcpVendor(pytest.Collector):
    """``dhcp::<vendor>``: one item per model."""

    def __init__(self, *, phones: list[PhoneSpec], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.phones = phones

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """``dhcp::<vendor>::<model>`` items."""
        from pytest_provd.tiers._wire import phone_macs  # lazy: only with a dhcp/ dir

        parent = self.parent
        assert isinstance(parent, DhcpTree)
        macs = phone_macs(f"dhcp::{self.name}", [p.model for p in self.phones])
        made = [spec.make(macs[spec.model]) for spec in self.phones]
        items: list[pytest.Item | pytest.Collector] = []
        for spec, phone in zip(self.phones, made, strict=True):

            def run(phone: Phone = phone) -> list[Problem]:
                return check_dhcp(parent.config_of_tree(), parent.dhcp_dir, phone, made)

            items.append(DhcpItem.from_parent(self, name=spec.model, runner=run))
        return items


class DhcpItem(pytest.Item):
    """One phone the configuration must reach."""

    def __init__(self, *, runner: Callable[[], list[Problem]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.add_marker(MARKER)
        self.add_marker("provd")

    def runtest(self) -> None:
        """Run the check; fail with its problems."""
        with recording(self):
            problems = self.runner()
        if problems:
            raise ProvdCheckFailed(problems)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        """Problems one per line, as the generated suite's items say them (the first one in
        short summaries, with any pytest)."""
        if isinstance(excinfo.value, ProvdCheckFailed):
            return failure_repr(self.nodeid, excinfo.value.problems, self.config)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Point at the tree's dhcp directory."""
        parent = self.parent.parent if self.parent is not None else None
        where = parent.dhcp_dir if isinstance(parent, DhcpTree) else self.path
        return where, 0, self.nodeid + " "


def _shown(path: str, dhcp_dir: Path) -> str:
    """*path* from the tree's root (``dhcp/dhcpd_update/snom.conf``) when it is below it."""
    try:
        return Path(path).resolve().relative_to(dhcp_dir.parent.resolve()).as_posix()
    except ValueError:
        return path


def _names(class_name: str, model: str) -> bool:
    """Whether a class is named for *model* (``CiscoCP-7905G``, ``Snom715``, ``SnomD120``)."""
    pattern = rf"(?<![0-9]){re.escape(model)}(?![0-9A-Za-z])"
    return re.search(pattern, class_name, re.IGNORECASE) is not None


def check_dhcp(
    config: DhcpConfig, dhcp_dir: Path, phone: Phone, vendor: list[Phone]
) -> list[Problem]:
    """The configuration gives *phone* a provisioning URL (by vendor class or MAC prefix)."""
    from pytest_provd.tiers._dhcp import config_file_for, dhcp_answer  # lazy: emulators

    answer = dhcp_answer(config, phone)
    if answer.url is not None:
        return []
    vendor_class, user_class = phone.vendor_class(), phone.user_class()
    naming = [c for c in config.classes if _names(c.name, phone.model)]
    if not answer.matched and naming:
        raise pytest.skip.Exception(
            f'class "{naming[0].name}" ({naming[0].source}) is written for {phone.model} but '
            f"does not match what the emulated phone sends ({vendor_class!r}): which option "
            f"60 a real {phone.model} sends is in doubt, not the configuration (emulators/)",
            _use_item_location=True,
        )
    sent = f"vendor class {vendor_class!r}" if vendor_class else "no vendor class"
    if user_class:
        sent += f", user class {user_class!r}"
    if not answer.matched:
        match = (
            f'option vendor-class-identifier = "{vendor_class}"'
            if vendor_class
            else f"a MAC-prefix subclass 1:{phone.mac[:8]}"
        )
        return [
            Problem(
                _shown(config_file_for(config, vendor, dhcp_dir), dhcp_dir),
                f"no class gives {phone.vendor} {phone.model} a provisioning URL: none matches "
                f"what it sends ({sent}) and no MAC-prefix subclass covers {phone.mac[:8]} for it",
                fix=f"add a class matching {match} with the provisioning URL option",
            )
        ]
    first = answer.matched[0]
    source = first[first.rindex("(") + 1 : -1]
    path, _, line = source.rpartition(":")
    path = _shown(path, dhcp_dir)
    given = ", ".join(f"{k} = {v}" for k, v in answer.options.items()) or "nothing"
    return [
        Problem(
            path,
            f"{answer.describe()} takes {phone.vendor} {phone.model} ({sent}) but gives it no "
            f"provisioning URL it reads (it gives: {given})",
            int(line) if line.isdigit() else None,
            fix="give the option this phone reads its provisioning server from",
        )
    ]
