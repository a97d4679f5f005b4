"""The dynamic tiers of the generated suite: load the plugin in provd, configure every model.

Per target: ``load`` (the plugin loads in the embedded plugin manager, ``configure_common``
accepts a base config) and ``hostile-values`` (display names and passwords with XML/Jinja
metacharacters, unicode and long values never break a generated file).  Per model:
``configure`` (a device with a two-line SIP config is configured; every file the plugin wrote
is served back identically over its HTTP or TFTP service and carries both SIP user names),
``wellformed`` (every generated XML file parses strictly) and ``golden`` (generated files equal
their golden copies).  Everything runs in one plugin manager per target, set up once and
shared by that target's items.

These in-process tiers run on the plugin library in place (our compat namespace, or the real
``wazo_provd`` where it is installed).  ``provision`` and ``fetched-wellformed`` boot emulated
phones against the provd of ``--provd-backend`` (embedded, real or url): see :class:`WireRun`.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_provd import tree
from pytest_provd.problems import Problem, SourceError
from pytest_provd.report.reporter import record_facts
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan, planner, target_models

if TYPE_CHECKING:
    from pytest_provd.backends.base import Backend

_USERS = ("alice1001", "bob1002")
_XML_START = re.compile(rb"^\s*(<\?xml|<[A-Za-z!])")


@dataclass
class ModelOutcome:
    """What configuring one model produced."""

    key: str
    device: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


class TargetRun:
    """One target loaded in a private plugin manager, configured model by model."""

    def __init__(self, provd: ProvdSession, target: tree.Target) -> None:
        self.provd = provd
        self.target = target
        self._loaded: Any = None
        self._load_problems: list[Problem] | None = None
        self._models: dict[str, ModelOutcome] = {}
        self.wire: WireRun | None = None
        self.wire_error: BaseException | None = None

    def load(self) -> list[Problem]:
        """Load the plugin (once); the problems of loading it."""
        if self._load_problems is not None:
            return self._load_problems
        from pytest_provd.provd.plugins.manager import PluginError, PluginManager
        from pytest_provd.provd.plugins.rawconfig import sample_common_raw_config

        built = self.provd.build(self.target)
        plugins_dir = self.provd.workdir / "provd" / self.target.plugin_id
        if plugins_dir.exists():
            shutil.rmtree(plugins_dir)
        shutil.copytree(built, plugins_dir / self.target.plugin_id, symlinks=True)
        self.manager = PluginManager(plugins_dir, gen_cfg={"proxies": self.provd.plugin_proxies()})
        try:
            self._loaded = self.manager.load(self.target.plugin_id)
            self._loaded.configure_common(sample_common_raw_config())
        except PluginError as exc:
            self._load_problems = [
                _problem_of(exc, self.target, plugins_dir / self.target.plugin_id)
            ]
            return self._load_problems
        self._load_problems = []
        return self._load_problems

    @property
    def plugin(self) -> Any:
        """The loaded plugin (load first)."""
        return self._loaded

    def capability_key(self, model: str) -> str | None:
        """The plugin-info capability key of *model*, if any."""
        for key in self.plugin.info.get("capabilities", {}):
            parts = [p.strip() for p in key.split(",")]
            if len(parts) == 3 and parts[1] == model:
                return str(key)
        return None

    def configure(self, model: str) -> ModelOutcome:
        """Configure a device of *model* with the sample config (once per model)."""
        if model in self._models:
            return self._models[model]
        from pytest_provd.provd.plugins.survey import device_for

        key = self.capability_key(model) or f"{_vendor_of(self)}, {model}, "
        index = len(self._models) + 1
        outcome = ModelOutcome(key, device_for(key, index))
        self._models[model] = outcome
        if self.load():
            outcome.problems.append(Problem(self.target.build_py, "plugin did not load"))
            return outcome
        outcome.files, outcome.problems = _configure_and_fetch(self, outcome.device)
        return outcome


def emulator_vendor(plugin_id: str) -> str | None:
    """Which phone emulator boots the models of *plugin_id* (None: not emulated yet)."""
    if plugin_id.startswith("wazo-snom-"):  # desk phones and DECT bases
        return "snom"
    if plugin_id.startswith(
        ("wazo-cisco-spa", "wazo-cisco-pap2t", "wazo-cisco-ata190", "wazo-linksys")
    ) or re.match(r"wazo-cisco-sip-1\d\.", plugin_id):  # 11.x/12.x: Multiplatform firmware
        return "cisco"
    if plugin_id.startswith(("wazo-aastra", "xivo-aastra")):
        return "aastra"
    if plugin_id.startswith(("wazo-yealink", "xivo-yealink")):
        return "yealink"
    if plugin_id.startswith(("wazo-polycom", "xivo-polycom")):
        return "polycom"
    if plugin_id.startswith(("wazo-grandstream", "xivo-grandstream")):
        return "grandstream"
    if plugin_id.startswith(("wazo-htek", "xivo-htek")):
        return "htek"
    if plugin_id.startswith(("wazo-digium", "xivo-digium")):
        return "digium"
    if plugin_id.startswith(("wazo-cisco-sccp", "xivo-cisco-sccp")):
        return "cisco-sccp"
    return None


class WireSetupError(Exception):
    """The selected backend could not take the target (said once per model item)."""


class WireRun:
    """The target installed in a provd of the selected backend, with a DHCP server: phones
    boot on it."""

    def __init__(self, run: TargetRun) -> None:
        from emulators.dhcp import DhcpConfig, DhcpServer
        from pytest_provd.fixtures.phones import SAMPLE_DHCP

        self.backend = make_backend(run.provd, run.target.plugin_id)
        try:
            self.endpoints = self.backend.start()
            self.client = self.backend.driver()
            self.plugin_id = self.backend.install_plugin(run.provd.build(run.target))
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
        self.booted: dict[str, Any] = {}

    def close(self) -> None:
        """Stop the DHCP server and the provd (or clean up the attached one)."""
        self.dhcp.close()
        self.backend.close()


def make_backend(provd: ProvdSession, plugin_id: str) -> Backend:
    """The backend ``--provd-backend`` selected, for one target's phones."""
    from pytest_provd.backends import base as backends

    options = provd.options
    if options.backend == "url":
        assert options.url is not None
        return backends.UrlBackend(
            options.url,
            http_url=options.http_url,
            tftp_port=options.tftp_port or backends.DEFAULT_TFTP_PORT,
            token=options.token,
        )
    state = provd.workdir / "wire" / plugin_id
    if options.backend == "real":
        return backends.RealBackend(state)
    return backends.EmbeddedBackend(state)


_MAC_COUNTER = itertools.count(1)


def next_mac(oui: str = "02:00:00") -> str:
    """A MAC with prefix *oui* no other phone of this run uses, even across xdist workers."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    count = next(_MAC_COUNTER)
    return f"{oui}:{index & 0xFF:02x}:{count >> 8 & 0xFF:02x}:{count & 0xFF:02x}"


def older_version(version: str) -> str:
    """A plausible earlier firmware version: the last non-zero number decremented."""
    numbers = list(re.finditer(r"\d+", version))
    for match in reversed(numbers):
        if int(match.group()) > 0:
            width = len(match.group())
            lower = str(int(match.group()) - 1).zfill(width)
            return version[: match.start()] + lower + version[match.end() :]
    return version


def _boot(run: TargetRun, model: str) -> Any:
    """Boot (once) an emulated phone of *model* from DHCP; its state and the pushed lines."""
    import pytest

    from emulators.factory import make_phone, vendor_oui
    from pytest_provd.provd.plugins.rawconfig import sample_raw_config

    vendor = emulator_vendor(run.target.plugin_id)
    if vendor is None:
        pytest.skip(
            f"no phone emulator for {run.target.plugin_id} yet "
            "(snom, cisco-spa, cisco-sccp, aastra, yealink, polycom, grandstream, htek, digium)"
        )
    if run.wire is None:
        from pytest_provd.backends.base import BackendError, BackendUnavailable

        if run.wire_error is not None:
            raise run.wire_error
        try:
            run.wire = WireRun(run)
        except BackendUnavailable as exc:
            run.wire_error = pytest.skip.Exception(
                f"--provd-backend {run.provd.options.backend}: {exc}", _use_item_location=True
            )
            raise run.wire_error from None
        except BackendError as exc:
            run.wire_error = WireSetupError(str(exc))
            raise run.wire_error from None
    wire = run.wire
    if model in wire.booted:
        return wire.booted[model]
    key = run.capability_key(model) or ""
    booted = _model_to_boot(run, model, key)
    mac = next_mac(vendor_oui(vendor, booted))
    raw = sample_raw_config()
    pushed: dict[str, Any] = {"sip_lines": raw["sip_lines"]}
    if _protocol_of(run, model) == "sccp":
        pushed["sccp_call_managers"] = {"1": {"ip": SCCP_CALL_MANAGER, "port": 2000}}
    config_id = wire.client.add_config({"parent_ids": ["base"], "raw_config": pushed})
    wire.backend.track(config_id=config_id)
    wire.backend.track(mac=mac)
    # Pinned to the target's plugin: on a shared provd another installed plugin may claim it.
    wire.client.add_device({"mac": mac, "config": config_id, "plugin": wire.plugin_id})
    firmware = key.split(",")[2].strip() if key.count(",") == 2 else run.target.target_id
    phone = make_phone(
        vendor,
        booted,
        mac,
        dhcp_server=wire.dhcp.address,
        version=older_version(firmware),
        tftp_address=wire.endpoints.tftp_address,
    )
    state = phone.boot()
    recorded = wire.client.find_device(mac=mac)
    wire.booted[model] = (state, pushed, recorded, phone)
    return wire.booted[model]


def _model_to_boot(run: TargetRun, model: str, key: str) -> str:
    """Of the models a capability name covers, the one the plugin supports best."""
    variants = tree.model_variants(model)
    if len(variants) == 1 or key.count(",") != 2:
        return variants[0]
    vendor, _, version = (part.strip() for part in key.split(","))

    def support(variant: str) -> int:
        from pytest_provd.provd.plugins.manager import PluginError

        info = {"vendor": vendor, "model": variant, "version": version}
        try:
            return run.plugin.support(info) or 0
        except PluginError:  # said by the load and configure items; boot the base model
            return 0

    return max(variants, key=support)  # the first of equals: the base model


SCCP_CALL_MANAGER = "127.0.0.9"
"""The call manager pushed to SCCP phones (they take their lines from it, not from files)."""


def _protocol_of(run: TargetRun, model: str) -> str:
    # A model without a capability (a defect the models[] item reports) takes the family's.
    default = "sccp" if emulator_vendor(run.target.plugin_id) == "cisco-sccp" else "sip"
    caps = run.plugin.info.get("capabilities", {}).get(run.capability_key(model) or "", {})
    return str(caps.get("protocol", default)).lower() if isinstance(caps, dict) else default


def check_provision(run: TargetRun, model: str) -> list[Problem]:
    """An emulated phone of *model* boots from DHCP and gets the two lines pushed over REST
    (SCCP phones: the call manager pushed over REST)."""
    problems = run.load()
    if problems:
        return problems
    try:
        state, pushed_config, recorded, phone = _boot(run, model)
    except WireSetupError as exc:
        return [Problem(run.target.source_dir or run.target.build_py, str(exc))]
    provisioned = state.provisioned or state.settings.get("call_manager.1") == SCCP_CALL_MANAGER
    record_facts(phones=1 if provisioned else 0, flashed=len(state.flashed))
    where = run.target.source_dir or run.target.build_py
    found: list[Problem] = []
    provd_model = (recorded or {}).get("model")
    # phone.model, not model: capabilities name a wired/wireless pair "6920(w)"
    if provd_model and str(provd_model).upper() != phone.model.upper():
        # provd keeps the first model an extractor gave; the plugin then configures the
        # device for that model, whatever the phone says later.
        found.append(
            Problem(
                where,
                f"{model}: provd recorded this phone as model {provd_model!r}, so the plugin "
                f"configured it for that model; the phone sent DHCP option 60 "
                f"{phone.vendor_class()!r} and User-Agent {phone.user_agent()!r}",
            )
        )
    if _protocol_of(run, model) == "sccp":
        got_manager = state.settings.get("call_manager.1")
        if got_manager != SCCP_CALL_MANAGER:
            found.append(
                Problem(
                    where,
                    f"{model}: call manager 1 is {got_manager!r}, pushed "
                    f"{SCCP_CALL_MANAGER!r}\n{state.describe()}",
                )
            )
        return found
    lines = pushed_config["sip_lines"]
    caps = run.plugin.info.get("capabilities", {}).get(run.capability_key(model) or "", {})
    room = caps.get("lines", 2) if isinstance(caps, dict) else 2
    # A one-line phone (conference phone, ATA port) only has room for line 1.
    for number in ("1", "2")[: max(1, min(2, int(room)))]:
        pushed = lines[number]
        line = state.lines.get(int(number))
        got = (line.username, line.display_name) if line else None
        if got != (pushed["username"], pushed["display_name"]):
            found.append(
                Problem(
                    where,
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
        state = _boot(run, model)[0]
    except WireSetupError as exc:
        return [Problem(run.target.source_dir or run.target.build_py, str(exc))]
    return [
        Problem(f"{run.target.plugin_id}: {error.split(': ', 1)[0]}", error.split(": ", 1)[-1])
        for error in state.wellformed_errors
    ]


def _vendor_of(run: TargetRun) -> str:
    for key in run.plugin.info.get("capabilities", {}):
        return str(key).split(",")[0].strip()
    return "Unknown"


def _problem_of(exc: Exception, target: tree.Target, plugin_dir: Path | None = None) -> Problem:
    """A problem located in the user's source tree, not in our private copy of the build."""
    from pytest_provd.checks._templates import source_of

    path = Path(str(getattr(exc, "path", None) or target.build_py))
    line = getattr(exc, "line", None)
    message = str(getattr(exc, "message", None) or exc)
    if plugin_dir is not None and path.is_relative_to(plugin_dir):
        rel = path.relative_to(plugin_dir).as_posix()
        source = source_of(target.family.path, plugin_dir, rel, prefer=target.source_dir)
        if source is not None:
            path = source
        else:
            message += f" (in the built file {rel})"
    return Problem(path, message, line if isinstance(line, int) else None)


def _configure_and_fetch(
    run: TargetRun,
    device: dict[str, Any],
    raw_config: dict[str, Any] | None = None,
    *,
    verify: bool = True,
) -> tuple[dict[str, bytes], list[Problem]]:
    """Configure *device*; the files written and, with *verify*, whether they are served."""
    from pytest_provd.provd.plugins.manager import PluginError
    from pytest_provd.provd.plugins.rawconfig import sample_raw_config
    from pytest_provd.provd.plugins.survey import fetch_served, snapshot_files

    plugin = run.plugin
    tftpboot = plugin.path / "var" / "tftpboot"
    before = snapshot_files(tftpboot)
    where = run.target.source_dir or run.target.build_py
    try:
        plugin.configure(device, raw_config or sample_raw_config())
    except PluginError as exc:
        return {}, [_problem_of(exc, run.target, run.plugin.path)]
    after = snapshot_files(tftpboot)
    written = {n: data for n, data in after.items() if before.get(n) != data}
    problems: list[Problem] = []
    if not verify:
        try:
            plugin.deconfigure(device)
        except PluginError as exc:
            problems.append(_problem_of(exc, run.target, run.plugin.path))
        return written, problems
    if not written and getattr(plugin.obj, "_tpl_helper", None) is not None:
        # Template plugins write device files on configure; push-style plugins (config sent
        # at synchronize time) legitimately write none.
        problems.append(Problem(where, f"configure wrote no file for {device['model']}"))
    for name, data in written.items():
        served = fetch_served(plugin, name, device)
        if served is None:
            problems.append(
                Problem(where, f"{name} was written but is served neither over HTTP nor TFTP")
            )
        elif served != data:
            problems.append(Problem(where, f"{name}: served bytes differ from the written file"))
    try:
        plugin.deconfigure(device)
    except PluginError as exc:
        problems.append(_problem_of(exc, run.target, run.plugin.path))
    return written, problems


def _runs(provd: ProvdSession) -> dict[str, TargetRun]:
    runs: dict[str, TargetRun] | None = getattr(provd, "_gate_runs", None)
    if runs is None:
        runs = {}
        provd._gate_runs = runs  # type: ignore[attr-defined]
    return runs


def target_run(provd: ProvdSession, target: tree.Target) -> TargetRun:
    """The shared :class:`TargetRun` of *target* in this pytest run."""
    runs = _runs(provd)
    if target.plugin_id not in runs:
        runs[target.plugin_id] = TargetRun(provd, target)
    return runs[target.plugin_id]


def _protocol(run: TargetRun, outcome: ModelOutcome) -> str:
    caps = run.plugin.info.get("capabilities", {}).get(outcome.key, {})
    return str(caps.get("protocol", "sip")).lower() if isinstance(caps, dict) else "sip"


def check_configure(run: TargetRun, model: str) -> list[Problem]:
    """Configured, served back, and both SIP users present in what was generated."""
    problems = run.load()
    if problems:
        return problems
    outcome = run.configure(model)
    record_facts(models=1, files=len(outcome.files))
    problems = list(outcome.problems)
    if outcome.files and _protocol(run, outcome) == "sip":
        text = b"\n".join(outcome.files.values())
        caps = run.plugin.info.get("capabilities", {}).get(outcome.key, {})
        lines = caps.get("lines", len(_USERS)) if isinstance(caps, dict) else len(_USERS)
        # A one-line phone (ATA port, conference phone) only has room for the first user.
        for user in _USERS[: max(1, int(lines))]:
            if user.encode() not in text:
                problems.append(
                    Problem(
                        run.target.source_dir or run.target.build_py,
                        f"SIP user {user} pushed for {model} appears in none of the generated "
                        f"files ({', '.join(sorted(outcome.files))})",
                        fix="check the template's sip_lines loop",
                    )
                )
    return problems


def xml_problems(name: str, data: bytes) -> list[Problem]:
    """Strict XML parse of a generated file that looks like XML; located problems."""
    if not _XML_START.match(data[:200]):
        return []
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        return [Problem(name, f"not well-formed XML: {exc.msg}", line)]
    return []


def check_wellformed(run: TargetRun, model: str) -> list[Problem]:
    """Every generated file that claims to be XML parses strictly."""
    problems = run.load()
    if problems:
        return problems
    outcome = run.configure(model)
    found = []
    for name, data in sorted(outcome.files.items()):
        found += xml_problems(f"{run.target.plugin_id}/var/tftpboot/{name}", data)
    return found


def check_firmware(run: TargetRun) -> list[Problem]:
    """Every pkgs.db package installs through the plugin's own install service."""
    problems = run.load()
    if problems:
        return problems
    from pytest_provd import compat
    from pytest_provd.provd.plugins.manager import PluginError

    firmware = run.plugin.firmware
    if firmware is None:
        return []
    if compat.mode() == "real" and run.provd.options.firmware_dir is None:
        import pytest

        raise pytest.skip.Exception(
            "the installed wazo_provd installs firmware with real fetchfw, which downloads from "
            "vendor sites; the harness stays on loopback: pass --provd-firmware-dir with the "
            "real files to run this tier",
            _use_item_location=True,
        )
    found: list[Problem] = []
    for pkg_id in sorted(firmware.installable()):
        try:
            firmware.install(pkg_id)
            record_facts(firmware=1)
        except (PluginError, SourceError) as exc:
            cause = exc.__cause__ if isinstance(exc.__cause__, SourceError) else exc
            if isinstance(cause, SourceError):
                path = (
                    run.target.source_dir / "pkgs" / "pkgs.db"
                    if run.target.source_dir
                    else cause.path
                )
                found.append(Problem(path, cause.message, cause.line, f"pkg_{pkg_id}"))
            else:
                found.append(_problem_of(exc, run.target, run.plugin.path))
    return found


def check_firmware_urls(
    target: tree.Target, timeout: float = 30.0, max_total: int = 2 * 1024**3
) -> list[Problem]:
    """Download each pkgs.db URL (bounded) and compare its size and sha1 with pkgs.db."""
    import hashlib
    import urllib.request

    from pytest_provd import pkgsdb

    if target.source_dir is None or not (target.source_dir / "pkgs" / "pkgs.db").is_file():
        return []
    path = target.source_dir / "pkgs" / "pkgs.db"
    db = pkgsdb.load(path)
    found: list[Problem] = []
    budget = max_total
    for entry in db.files.values():
        if not entry.url or entry.size_int is None:
            continue
        where = {"line": entry.line, "section": f"file_{entry.name}"}
        digest = hashlib.sha1()
        size = 0
        try:
            with urllib.request.urlopen(entry.url, timeout=timeout) as resp:
                while chunk := resp.read(1 << 16):
                    size += len(chunk)
                    digest.update(chunk)
                    if size > entry.size_int or size > budget:
                        break
        except OSError as exc:
            found.append(Problem(path, f"{entry.url}: download failed: {exc}", **where))  # type: ignore[arg-type]
            continue
        budget -= size
        if size != entry.size_int:
            found.append(
                Problem(path, f"{entry.url}: {size} bytes, pkgs.db says {entry.size}", **where)  # type: ignore[arg-type]
            )
        elif digest.hexdigest() != entry.sha1sum:
            found.append(
                Problem(
                    path,
                    f"{entry.url}: sha1 {digest.hexdigest()}, pkgs.db says {entry.sha1sum}",
                    fix="update sha1sum in pkgs.db",
                    **where,  # type: ignore[arg-type]
                )
            )
    return found


def check_golden(run: TargetRun, model: str) -> list[Problem]:
    """Generated files equal their golden copies."""
    problems = run.load()
    if problems:
        return problems
    outcome = run.configure(model)
    found: list[Problem] = []
    for name, data in sorted(outcome.files.items()):
        found += run.provd.golden.check(run.target.plugin_id, model, name, data)
    return found


def check_hostile(run: TargetRun, examples: int = 25) -> list[Problem]:
    """Hostile display names and passwords (hypothesis) never break a generated XML file."""
    problems = run.load()
    if problems:
        return problems
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from pytest_provd.provd.plugins.rawconfig import sample_raw_config
    from pytest_provd.provd.plugins.survey import device_for

    models = target_models(run.target) or ["?"]
    key = run.capability_key(models[0]) or f"{_vendor_of(run)}, {models[0]}, "
    device = device_for(key, 9000)
    hostile = st.text(
        # No lone surrogates: no JSON body from provd's REST API can carry one to a plugin.
        alphabet=st.sampled_from(list("&<>\"'{}%#\\é€漢 \t"))
        | st.characters(min_codepoint=32, exclude_categories=["Cs"]),
        min_size=1,
        max_size=80,
    ) | st.sampled_from(["{{ 7*7 }}", "]]>", "<![CDATA[", "&amp;", "x" * 300, "'; --"])
    last_failure: list[Problem] = []

    # Derandomized: the gate (and baselines recorded from it) must give the same verdict twice.
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(name=hostile, password=hostile)
    def probe(name: str, password: str) -> None:
        raw = sample_raw_config()
        raw["sip_lines"]["1"]["display_name"] = name
        raw["sip_lines"]["1"]["password"] = password
        # Only breakage counts here; missing or unserved files are the configure item's job.
        files, broken = _configure_and_fetch(run, dict(device), raw, verify=False)
        for file_name, data in files.items():
            broken += xml_problems(file_name, data)
        if broken:
            detail = f" (display_name={name!r}, password={password!r})"
            last_failure[:] = [
                Problem(p.path, p.message + detail, p.line, p.section, p.fix) for p in broken
            ]
            raise AssertionError("hostile value broke a generated file")

    try:
        probe()
    except AssertionError:
        # Hypothesis re-runs the shrunk example last: its problems are the ones to show.
        return last_failure
    return []


@planner
def _dynamic_items(provd: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    run = target_run(provd, target)
    plan.items.append(ItemSpec("load", "provd_load", run.load))
    plan.items.append(ItemSpec("hostile-values", "provd_load", lambda: check_hostile(run)))
    plan.items.append(ItemSpec("firmware", "provd_firmware", lambda: check_firmware(run)))
    if provd.options.check_urls:
        plan.items.append(
            ItemSpec("firmware-urls", "provd_firmware", lambda: check_firmware_urls(target))
        )
    # Golden files are opt-in: a tree without them would otherwise fail on first run.
    golden = provd.options.update_golden or provd.golden.root.is_dir()
    for model in target_models(target):
        plan.models[model] = [
            ItemSpec("configure", "provd_load", _bind(check_configure, run, model)),
            ItemSpec("wellformed", "provd_load", _bind(check_wellformed, run, model)),
            ItemSpec("provision", "provd_provision", _bind(check_provision, run, model)),
            ItemSpec(
                "fetched-wellformed",
                "provd_provision",
                _bind(check_fetched_wellformed, run, model),
            ),
        ]
        if golden:
            plan.models[model].append(
                ItemSpec("golden", "provd_golden", _bind(check_golden, run, model))
            )


def _bind(fun: Any, run: TargetRun, model: str) -> Any:
    def runner() -> list[Problem]:
        result: list[Problem] = fun(run, model)
        return result

    return runner


def close_runs(provd: ProvdSession) -> None:
    """Unload every plugin this run loaded."""
    for run in _runs(provd).values():
        manager = getattr(run, "manager", None)
        if manager is not None:
            manager.close()
        if run.wire is not None:
            run.wire.close()
