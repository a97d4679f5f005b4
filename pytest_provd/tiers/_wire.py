"""Emulated phones booting against the provd of ``--provd-backend`` (embedded, real or url).

:class:`WireRun` installs a target in the selected provd and serves DHCP on loopback; the
provision tiers boot one phone per model on it (:func:`boot`, once per model).  Each phone's
MAC is its vendor's OUI followed by three bytes derived from (plugin id, model), so an item
boots the same phone whatever the run order, the selection or ``-n``.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from pytest_provd import tree
from pytest_provd.capabilities import split_capability_key
from pytest_provd.session import ProvdSession
from pytest_provd.suite import target_models
from pytest_provd.tiers._run import TargetRun, freeze_once

if TYPE_CHECKING:
    from emulators.dhcp import DhcpServer
    from emulators.phone import Phone, PhoneState
    from pytest_provd.backends.base import Backend

SCCP_CALL_MANAGER = "127.0.0.9"
"""The call manager pushed to SCCP phones (they take their lines from it, not from files)."""


class WireSetupError(Exception):
    """The selected backend could not take the target (said once per model item)."""


def emulator_vendor(plugin_id: str) -> str | None:
    """Which phone emulator boots the models of *plugin_id* (None: not emulated yet)."""
    # Kept lazy: the emulators are not needed to start pytest.
    from emulators.registry import vendor_for_plugin

    return vendor_for_plugin(plugin_id)


class WireRun:
    """The target installed in a provd of the selected backend, with a DHCP server: phones
    boot on it."""

    def __init__(self, run: TargetRun) -> None:
        # Kept lazy: the emulators are not needed to start pytest.
        from emulators.dhcp import DhcpConfig, DhcpServer
        from pytest_provd.fixtures.phones import SAMPLE_DHCP

        self.backend = make_backend(run.session, run.target.plugin_id)
        try:
            self.endpoints = self.backend.start()
            self.client = self.backend.driver()
            # Every backend installs a copy (or a package) of it: the cached build will do.
            self.plugin_id = self.backend.install_plugin(tree.build_cached(run.target))
            # A failed package is the target's ``firmware`` item's to report; phones get a 404.
            self.firmware_failures = self.backend.install_firmware(self.plugin_id)
        except BaseException:
            self.backend.close()
            raise
        dhcp_dir = run.target.family.path.parent.parent / "dhcp"
        config = DhcpConfig.parse(dhcp_dir if dhcp_dir.is_dir() else SAMPLE_DHCP)
        self.dhcp = DhcpServer(
            config,
            http_url=self.endpoints.http_url,
            provd_url=self.endpoints.rest_url or None,
            provd_token=self.endpoints.token,
            on_commit=self.backend.dhcp_hook(),
        ).start()
        freeze_once("server stack")
        self.target_id = run.target.plugin_id
        self.macs = phone_macs(self.target_id, target_models(run.target))
        self.booted: dict[str, Booted] = {}
        self._plain: DhcpServer | None = None

    def plain_dhcp(self) -> DhcpServer:
        """A DHCP server of the same network giving no provisioning URL (no class): where a
        redirected phone boots (started on first use)."""
        from emulators.dhcp import DhcpConfig, DhcpServer  # lazy: emulators

        if self._plain is None:
            self._plain = DhcpServer(
                DhcpConfig(),
                http_url=self.endpoints.http_url,
                provd_url=self.endpoints.rest_url or None,
                provd_token=self.endpoints.token,
                on_commit=self.backend.dhcp_hook(),
            ).start()
        return self._plain

    def mac_suffix(self, model: str) -> str:
        """The last three bytes of the MAC of *model*'s phone."""
        if model not in self.macs:  # not a model of the target: after all of them
            self.macs = phone_macs(self.target_id, [*self.macs, model])
        return self.macs[model]

    def release(self) -> None:
        """Close the connections kept alive to provd: a run keeps every target's WireRun,
        and descriptors held between its phones would add up over hundreds of targets."""
        self.dhcp.release()
        if self._plain is not None:
            self._plain.release()
        close_client = getattr(self.client, "close", None)
        if close_client is not None:
            close_client()

    def close(self) -> None:
        """Stop the DHCP server and the provd (or clean up the attached one)."""
        self.release()
        self.dhcp.close()
        if self._plain is not None:
            self._plain.close()
        self.backend.close()


def make_backend(session: ProvdSession, plugin_id: str) -> Backend:
    """The backend ``--provd-backend`` selected, for one target's phones."""
    from pytest_provd import backends  # lazy: server stack

    options = session.options
    return backends.make_backend(
        options.backend,
        session.workdir / "wire" / plugin_id,
        url=options.url,
        http_url=options.http_url,
        tftp_port=options.tftp_port,
        token=options.token,
        firmware_dir=options.firmware_dir,
        allow_remote=options.allow_remote,
    )


def phone_macs(plugin_id: str, models: Sequence[str]) -> dict[str, str]:
    """The last three MAC bytes (``"3f:a0:11"``) of each model's phone in the target.

    The bytes are the start of sha1(plugin id, model): stable across runs.  When two models
    of the target would share them, the one listed later takes sha1(plugin id, model,
    attempt) for attempts 1, 2, ... until free, so the list order decides, not the run order.
    """
    taken: set[str] = set()
    out: dict[str, str] = {}
    for model in models:
        for attempt in itertools.count():
            seed = f"{plugin_id}\0{model}" + (f"\0{attempt}" if attempt else "")
            digest = hashlib.sha1(seed.encode("utf-8")).digest()
            suffix = ":".join(f"{byte:02x}" for byte in digest[:3])
            if suffix not in taken:
                break
        taken.add(suffix)
        out[model] = suffix
    return out


def older_version(version: str) -> str:
    """A plausible earlier firmware version: the last non-zero number decremented."""
    numbers = list(re.finditer(r"\d+", version))
    for match in reversed(numbers):
        if int(match.group()) > 0:
            width = len(match.group())
            lower = str(int(match.group()) - 1).zfill(width)
            return version[: match.start()] + lower + version[match.end() :]
    return version


@dataclass
class Booted:
    """One booted phone: its final state, what was pushed over REST, provd's device record,
    how it found its provisioning server (notes for the item's report) and, for a push
    plugin, why synchronizing the device failed."""

    state: PhoneState
    pushed: dict[str, Any]
    recorded: dict[str, Any] | None
    phone: Phone
    notes: list[str] = field(default_factory=list)
    sync_error: str | None = None


_WIRES = pytest.StashKey[dict[str, WireRun | BaseException]]()


def wire_run(run: TargetRun) -> WireRun:
    """The target's :class:`WireRun`, set up on first use and kept for the run; a setup
    failure is said to every later item of the target too (a skip when the backend is
    unavailable)."""
    from pytest_provd.backends.base import BackendError, BackendUnavailable  # lazy: server stack

    wires = run.session.stash.get(_WIRES, None)
    if wires is None:
        wires = run.session.stash[_WIRES] = {}
        run.session.add_cleanup(lambda: _close_wires(wires))
    plugin_id = run.target.plugin_id
    found = wires.get(plugin_id)
    if isinstance(found, BaseException):
        raise found
    if found is not None:
        return found
    error: BaseException
    try:
        wire = wires[plugin_id] = WireRun(run)
        return wire
    except BackendUnavailable as exc:
        error = pytest.skip.Exception(
            f"--provd-backend {run.session.options.backend}: {exc}", _use_item_location=True
        )
    except BackendError as exc:
        error = WireSetupError(str(exc))
    wires[plugin_id] = error
    raise error from None


def _close_wires(wires: dict[str, WireRun | BaseException]) -> None:
    for wire in wires.values():
        if isinstance(wire, WireRun):
            wire.close()


def boot(run: TargetRun, model: str) -> Booted:
    """Boot (once) an emulated phone of *model* from DHCP; its state and the pushed lines.

    Where the tree's dhcpd configuration gives the phone no provisioning URL, or gives it one
    by MAC prefix only under which the plugin serves none of its files, the phone boots as a
    redirected or manually configured phone would (see :func:`route`).  A phone of a push
    plugin is synchronized through provd after its boot.
    """
    # Kept lazy: the emulators and the server stack are not needed to start pytest.
    from emulators.registry import emulated_vendors

    vendor = emulator_vendor(run.target.plugin_id)
    if model == "*":
        # null, zero and provd's test plugins: a wildcard capability names no phone model.
        pytest.skip(
            f"{run.target.plugin_id} declares no phone model (capability '*, *, *'): "
            "there is no phone to boot"
        )
    if vendor is None:
        pytest.skip(
            f"no phone emulator for {run.target.plugin_id} yet "
            f"(emulated: {', '.join(emulated_vendors())})"
        )
    wire = wire_run(run)
    if model in wire.booted:
        return wire.booted[model]
    try:
        wire.booted[model] = _boot_on(wire, run, model, vendor)
    finally:
        wire.release()
    return wire.booted[model]


def _boot_on(wire: WireRun, run: TargetRun, model: str, vendor: str) -> Booted:
    """:func:`boot`'s work once the target's WireRun is up."""
    from emulators.registry import make_phone, vendor_oui
    from pytest_provd.provd.plugins.rawconfig import sample_raw_config

    booted_model = model_to_boot(run, model)
    mac = f"{vendor_oui(vendor, booted_model)}:{wire.mac_suffix(model)}"
    pushed: dict[str, Any] = {"sip_lines": sample_raw_config()["sip_lines"]}
    if protocol_of(run, model) == "sccp":
        pushed["sccp_call_managers"] = {"1": {"ip": SCCP_CALL_MANAGER, "port": 2000}}
    config_id = wire.client.add_config({"parent_ids": ["base"], "raw_config": pushed})
    wire.backend.track(config_id=config_id)
    wire.backend.track(mac=mac)
    # Pinned to the target's plugin: on a shared provd another installed plugin may claim it.
    device_id = wire.client.add_device({"mac": mac, "config": config_id, "plugin": wire.plugin_id})
    identity: dict[str, Any] = {"version": older_version(run.firmware_version(model))}
    phone = make_phone(
        vendor,
        booted_model,
        mac,
        dhcp_server=wire.dhcp.address,
        tftp_address=wire.endpoints.tftp_address,
        **identity,
    )
    probe = make_phone(vendor, booted_model, mac, **identity)  # reads DHCP answers, never boots
    notes = route(run, wire, model, phone, probe)
    settle(wire, device_id, phone)
    sync_error = None
    try:
        state = phone.boot()
        if phone.needs_synchronize:
            sync_error = synchronize(wire, device_id)
    finally:
        phone.close()
    recorded = wire.client.find_device(mac=mac)
    return Booted(state, pushed, recorded, phone, notes, sync_error)


def route(run: TargetRun, wire: WireRun, model: str, phone: Phone, probe: Phone) -> list[str]:
    """Point *phone* at its provisioning server; what was done, for the item's report.

    The plugin is judged, not the tree's ``dhcp/`` (the ``dhcp::`` items judge that): a phone
    the configuration gives no URL is given the one where the plugin serves this model's
    files, as a redirection service or the user would; so is a phone that the configuration
    reaches by MAC prefix only (nothing model-specific) at a URL under which the plugin serves
    none of the model's files, which then boots on a DHCP server giving no URL.
    """
    from pytest_provd.tiers._dhcp import dhcp_answer  # lazy: emulators

    if phone.needs_synchronize:
        return []  # its settings come from provd at synchronize, not from a server
    base = run.configure(model).http_base()
    http_url = wire.endpoints.http_url.rstrip("/")
    redirect = http_url + base if base is not None else None
    if phone.url_by_hand:
        phone.http_url = redirect or http_url + "/"
        return [f"{model}: the provisioning URL is typed in on this phone: {phone.http_url}"]
    if run.capability(model).get("type") == "softphone":
        # Runs on a computer, whose DHCP points it nowhere: the user sets the server.
        if redirect is not None:
            phone.http_url = redirect
        server = phone.http_url or "tftp://{}:{}".format(*wire.endpoints.tftp_address)
        return [f"{model}: a softphone: its provisioning server is set by hand: {server}"]
    answer = dhcp_answer(wire.dhcp.config, probe, http_url)
    judged = f"dhcp::{emulator_vendor(run.target.plugin_id)}::{probe.model} judges the dhcpd side"
    if answer.url is None:
        if redirect is not None:
            phone.http_url = redirect
            return [
                f"{model}: the dhcpd configuration gives this phone no provisioning URL "
                f"({answer.describe()} for vendor class {probe.vendor_class()!r}, MAC "
                f"{probe.mac[:8]}); booted as a redirected or manually configured phone "
                f"would, with {redirect}, where {run.target.plugin_id} serves its files "
                f"({judged})"
            ]
        if phone.uses_tftp:
            return [
                f"{model}: the dhcpd configuration gives this phone no provisioning server "
                f"({answer.describe()}); it used the TFTP server the harness's DHCP gives "
                f"every phone, as one configured by hand would ({judged})"
            ]
        return []
    given = urlsplit(answer.url).path.rstrip("/") + "/"
    if answer.by_prefix_only and redirect is not None and not str(base).startswith(given):
        phone.dhcp_server = wire.plain_dhcp().address
        phone.http_url = redirect
        return [
            f"{model}: the dhcpd configuration points this phone at {answer.url} by MAC prefix "
            f"only ({answer.describe()}), where {run.target.plugin_id} serves none of its "
            f"files; it serves them at {redirect}: booted as a redirected or manually "
            f"configured phone would, on a DHCP server giving no URL ({judged})"
        ]
    return []


def settle(wire: WireRun, device_id: str, phone: Phone) -> None:
    """Configure again, once provd knows the phone's address, a device it could not
    configure without one (plugins that need ``device["ip"]``).

    In Wazo provd learns a phone from its DHCP request before a config is assigned to it, and
    provd does not configure again on an address change alone; the harness assigns the config
    first, so it leases the phone its address (the one the phone then boots with) first.
    """
    from emulators.dhcp import DhcpClient  # lazy: emulators

    reconfigure = getattr(wire.client, "reconfigure", None)
    found = wire.client.find_device(mac=phone.mac)
    if reconfigure is None or found is None or found.get("configured") or not phone.dhcp_server:
        return
    DhcpClient(
        phone.dhcp_server,
        phone.mac,
        vendor_class=phone.vendor_class(),
        user_class=phone.user_class(),
        hostname=phone.model,
    ).obtain_lease()
    reconfigure(device_id)


def synchronize(wire: WireRun, device_id: str) -> str | None:
    """Configure the device again, then synchronize it, as provd does for a push plugin's
    device once a config is assigned to it after its boot (the device now has the address
    provd learnt from DHCP, and provd does not reconfigure on an address change alone); why
    it failed, if it did."""
    sync = getattr(wire.client, "synchronize", None)
    if sync is None:
        return f"--provd-backend {wire.backend.name} cannot synchronize a device"
    reconfigure = getattr(wire.client, "reconfigure", None)
    try:
        if reconfigure is not None:
            reconfigure(device_id)
        sync(device_id)
    except Exception as exc:  # the plugin's or provd's error, said by the provision item
        return f"{type(exc).__name__}: {exc}"
    return None


def model_to_boot(run: TargetRun, model: str) -> str:
    """Of the models a capability name covers, the one the plugin supports best."""
    variants = tree.model_variants(model)
    key = split_capability_key(run.capability_key(model) or "")
    if len(variants) == 1 or key is None:
        return variants[0]

    def support(variant: str) -> int:
        from pytest_provd.provd.plugins.manager import PluginError  # lazy: server stack

        info = {"vendor": key.vendor, "model": variant, "version": key.version}
        try:
            return run.plugin.support(info) or 0
        except PluginError:  # said by the load and configure items; boot the base model
            return 0

    return max(variants, key=support)  # the first of equals: the base model


def protocol_of(run: TargetRun, model: str) -> str:
    """``sip`` or ``sccp``: the model's, else the one of the plugin's capabilities (see
    :meth:`TargetRun.protocol`), else the emulator family's."""
    if run.capabilities():
        return run.protocol(model)
    return "sccp" if emulator_vendor(run.target.plugin_id) == "cisco-sccp" else "sip"
