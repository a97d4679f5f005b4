"""One target loaded in a private plugin manager, shared by the in-process tiers of a run.

The in-process tiers (load, configure, wellformed, golden, hostile-values, firmware) run on the
plugin library in place: our compat namespace, or the real ``wazo_provd`` where it is
installed.  :func:`target_run` gives every item of a target the same :class:`TargetRun`, kept
in the run's :class:`~pytest_provd.session.ProvdSession` stash and closed with it.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING, Any

import pytest

from pytest_provd import tree
from pytest_provd.capabilities import covers, split_capability_key
from pytest_provd.problems import Problem
from pytest_provd.rendering import branches
from pytest_provd.rendering.shipping import missing_template_fix
from pytest_provd.session import ProvdSession
from pytest_provd.suite import target_models
from pytest_provd.tiers._served import Served, find_served, pushes_at_synchronize

if TYPE_CHECKING:
    from pytest_provd.provd.plugins.manager import PluginManager

_XML_START = re.compile(rb"^\s*(<\?xml|<[A-Za-z!])")
_RACY_NS = 1_000_000_000
# Sub-second stamps come from a clock that ticks every 1-16 ms (Linux jiffies, Windows).
_RACY_FINE_NS = 50_000_000


@dataclass
class ModelOutcome:
    """What configuring one model produced."""

    key: str  # the model's capability key ("" without one)
    device: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    served: dict[str, Served] = field(default_factory=dict)  # how each file reaches the phone
    pushed_at_synchronize: bool = False  # wrote nothing: the plugin pushes at synchronize
    hits: set[branches.Hit] = field(default_factory=set)  # template branches rendered

    def http_base(self) -> str | None:
        """The HTTP directory the plugin serves this model's files from (``/Grandstream/``),
        the shortest when several; None when it serves them over TFTP only."""
        bases = [s.http_base for s in self.served.values() if s.http_base is not None]
        return min(bases, key=len) if bases else None


class TargetRun:
    """One target loaded in a private plugin manager, configured model by model."""

    def __init__(self, session: ProvdSession, target: tree.Target) -> None:
        self.session = session
        self.target = target
        self.manager: PluginManager | None = None
        self._loaded: Any = None
        self._load_problems: list[Problem] | None = None
        self._models: dict[str, ModelOutcome] = {}
        self.instrumented = False  # whether its templates record the branches they take
        self.memo: dict[str, Any] = {}  # what the tiers work out once per target
        self._files: dict[str, tuple[tuple[int, int, int], int, bytes]] = {}
        self._branches: dict[str, tuple[str | None, list[branches.Branch]]] = {}

    @property
    def where(self) -> Path:
        """Where a problem of the target as a whole points: its source dir, else build.py."""
        return self.target.source_dir or self.target.build_py

    def load(self) -> list[Problem]:
        """Load the plugin (once); the problems of loading it."""
        if self._load_problems is not None:
            return self._load_problems
        # Kept lazy: the server stack is not needed to start pytest.
        from pytest_provd.provd.plugins.manager import PluginError, PluginManager
        from pytest_provd.provd.plugins.rawconfig import sample_common_raw_config

        built = tree.build_cached(self.target)  # copied below: the cached build stays as is
        plugins_dir = self.session.workdir / "provd" / self.target.plugin_id
        if plugins_dir.exists():
            shutil.rmtree(plugins_dir)
        shutil.copytree(built, plugins_dir / self.target.plugin_id, symlinks=True)
        self.manager = PluginManager(plugins_dir, gen_cfg=self.session.plugin_gen_cfg())
        try:
            self._loaded = self.manager.load(self.target.plugin_id)
            self._loaded.configure_common(sample_common_raw_config())
        except PluginError as exc:
            self._load_problems = [
                problem_of(exc, self.target, plugins_dir / self.target.plugin_id)
            ]
            return self._load_problems
        env = branches.environment_of(self._loaded.obj)
        self.instrumented = env is not None and branches.instrument(env)
        self._load_problems = []
        freeze_once("plugin stack")
        return self._load_problems

    def template_branches(self, name: str) -> tuple[str | None, list[branches.Branch]]:
        """The file template *name* is read from and its branches (once per template)."""
        if name not in self._branches:
            env = branches.environment_of(self.plugin.obj)
            found = branches.template_branches(env, name) if env is not None else (None, [])
            self._branches[name] = found
        return self._branches[name]

    def snapshot(self, root: Path) -> dict[str, bytes]:
        """Every regular file under *root* (``{relative posix path: bytes}``), as
        :func:`~pytest_provd.provd.plugins.survey.snapshot_files` gives it, reading again only
        the files changed since they were read (firmware and static files are read once)."""
        found: dict[str, bytes] = {}
        now = time.time_ns()
        pending = [(os.fspath(root), "")]
        while pending:  # scandir: one stat per entry (it runs twice per configure)
            top, prefix = pending.pop()
            try:
                entries = list(os.scandir(top))
            except OSError:
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((entry.path, prefix + entry.name + "/"))
                        continue
                    info = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if not S_ISREG(info.st_mode):  # symlinks and special files are not served
                    continue
                path = entry.path
                key = (info.st_mtime_ns, info.st_size, info.st_ino)
                cached = self._files.get(path)
                # A file changed within a tick of the file system's clock of being read may
                # have changed again with the same stamp: read it again, as git does.  A
                # stamp in whole seconds may be all the file system keeps.
                racy = _RACY_NS if key[0] % _RACY_NS == 0 else _RACY_FINE_NS
                if cached is None or cached[0] != key or cached[1] - key[0] < racy:
                    with open(path, "rb") as handle:
                        cached = self._files[path] = (key, now, handle.read())
                found[prefix + entry.name] = cached[2]
        # In path order, as sorted(root.rglob("*")) lists them.
        return dict(sorted(found.items(), key=lambda item: item[0].split("/")))

    @property
    def plugin(self) -> Any:
        """The loaded plugin (load first)."""
        return self._loaded

    def capabilities(self) -> dict[str, Any]:
        """The loaded plugin's plugin-info capabilities ({} when it declares none)."""
        caps = self.plugin.info.get("capabilities", {})
        return caps if isinstance(caps, dict) else {}

    def capability_key(self, model: str) -> str | None:
        """The plugin-info capability key of *model*: the one naming it, else the first whose
        model stands for it (``T31(P)(G)`` for ``T31G``); None when none does."""
        parsed = {str(key): split_capability_key(str(key)) for key in self.capabilities()}
        for key, parts in parsed.items():
            if parts is not None and parts.model == model:
                return key
        for key, parts in parsed.items():
            if parts is not None and covers(parts.model, model):
                return key
        return None

    def takes_no_line(self, model: str, text: bytes, users: list[str]) -> bool:
        """Whether *model*'s files (*text*) carry none of the pushed *users* while nothing says
        it takes a line: plugin-info has no capability for it (its ``models[...]`` item
        reports that).  A DECT base whose manager holds the accounts is such a model."""
        return self.capability_key(model) is None and not any(u.encode() in text for u in users)

    def capability(self, model: str) -> dict[str, Any]:
        """The capability entry of *model* ({} when it has none)."""
        caps = self.capabilities().get(self.capability_key(model) or "", {})
        return caps if isinstance(caps, dict) else {}

    def protocol(self, model: str) -> str:
        """``sip`` or ``sccp``: the protocol of *model*'s capability; for a model without one
        (a defect its ``models[...]`` item reports), the protocol every capability of the
        plugin shares (a model of an SCCP-only plugin is SCCP); else ``sip``."""
        own = self.capability(model).get("protocol")
        if own:
            return str(own).lower()
        found = {
            str(cap.get("protocol", "sip")).lower()
            for cap in self.capabilities().values()
            if isinstance(cap, dict)
        }
        return found.pop() if len(found) == 1 else "sip"

    def firmware_version(self, model: str) -> str:
        """The firmware version a phone of *model* runs for this target: its capability's,
        else the one entry.py gives it, else the target id."""
        key = split_capability_key(self.capability_key(model) or "")
        if key is not None:
            return key.version
        from pytest_provd.checks import target_facts  # lazy: jinja2

        entry = target_facts(self.target).entry
        versions = entry.version_for(model) if entry is not None else []
        return versions[0] if versions else self.target.target_id

    def vendor(self) -> str:
        """The vendor of the plugin's first capability key ("Unknown" without one)."""
        for key in self.capabilities():
            parsed = split_capability_key(str(key))
            if parsed is not None:
                return parsed.vendor
        return "Unknown"

    def device(self, model: str, index: int) -> dict[str, Any]:
        """A provd device dict of *model* (numbered *index*) made from its capability key."""
        from pytest_provd.provd.plugins.survey import device_for  # lazy: server stack

        device = device_for(self.capability_key(model) or f"{self.vendor()}, {model}, ", index)
        # The phone's own model, not the capability's display name for a group of them.
        device["model"] = model
        return device

    def configure(self, model: str) -> ModelOutcome:
        """Configure a device of *model* with the sample config (once per model)."""
        if model in self._models:
            return self._models[model]
        device = self.device(model, self._device_index(model))
        outcome = ModelOutcome(self.capability_key(model) or "", device)
        self._models[model] = outcome
        if self.load():
            outcome.problems.append(Problem(self.target.build_py, "plugin did not load"))
            return outcome
        outcome.files, outcome.problems = configure_and_fetch(self, outcome.device, outcome=outcome)
        return outcome

    def _device_index(self, model: str) -> int:
        # The model's place in the target, not in the run: the same device (MAC, ids) whatever
        # the order, the selection or -n.
        models = target_models(self.target)
        return models.index(model) + 1 if model in models else len(models) + 1

    def close(self) -> None:
        """Unload the plugin."""
        if self.manager is not None:
            self.manager.close()


_FROZEN: set[str] = set()


def freeze_once(stage: str) -> None:
    """Move every object the process holds now out of the garbage collector's sight, once
    per *stage* (the server stack imported, a plugin loaded): what modules and loaded
    plugins hold lives as long as the process, and each full collection (a few per
    target, one more at exit) would walk it again, a tenth of a second each."""
    if stage not in _FROZEN:
        _FROZEN.add(stage)
        gc.freeze()


_RUNS = pytest.StashKey[dict[str, TargetRun]]()


def target_run(session: ProvdSession, target: tree.Target) -> TargetRun:
    """The shared :class:`TargetRun` of *target* in this pytest run."""
    runs = session.stash.get(_RUNS, None)
    if runs is None:
        runs = session.stash[_RUNS] = {}
        session.add_cleanup(lambda: _close_runs(runs))
    if target.plugin_id not in runs:
        runs[target.plugin_id] = TargetRun(session, target)
    return runs[target.plugin_id]


def _close_runs(runs: dict[str, TargetRun]) -> None:
    for run in runs.values():
        run.close()


def problem_of(exc: Exception, target: tree.Target, plugin_dir: Path | None = None) -> Problem:
    """A problem located in the user's source tree, not in our private copy of the build."""
    from pytest_provd.checks._templates import source_of  # lazy: jinja2

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
    missing = getattr(exc, "missing_template", None)
    fix = missing_template_fix(target, f"templates/{missing}") if missing else None
    return Problem(path, message, line if isinstance(line, int) else None, fix=fix)


def configure_and_fetch(
    run: TargetRun,
    device: dict[str, Any],
    raw_config: dict[str, Any] | None = None,
    *,
    verify: bool = True,
    outcome: ModelOutcome | None = None,
) -> tuple[dict[str, bytes], list[Problem]]:
    """Configure *device*; the files written and, with *verify*, whether they are served.

    With *outcome*, how each file was served, whether the plugin pushes its settings at
    synchronize instead of writing files, and the template branches it rendered are kept in it.
    """
    # Kept lazy: the server stack is not needed to start pytest.
    from pytest_provd.provd.plugins.manager import PluginError
    from pytest_provd.provd.plugins.rawconfig import sample_raw_config

    plugin = run.plugin
    tftpboot = plugin.path / "var" / "tftpboot"
    before = run.snapshot(tftpboot)
    with branches.collecting() as hits:
        try:
            plugin.configure(device, raw_config or sample_raw_config())
        except PluginError as exc:
            return {}, [problem_of(exc, run.target, plugin.path)]
        finally:
            if outcome is not None:
                outcome.hits = hits
    after = run.snapshot(tftpboot)
    written = {n: data for n, data in after.items() if before.get(n) != data}
    problems: list[Problem] = []
    if verify:
        problems = _verify_written(run, device, written, outcome)
    try:
        plugin.deconfigure(device)
    except PluginError as exc:
        problems.append(problem_of(exc, run.target, plugin.path))
    return written, problems


def _verify_written(
    run: TargetRun, device: dict[str, Any], written: dict[str, bytes], outcome: ModelOutcome | None
) -> list[Problem]:
    problems: list[Problem] = []
    if not written:
        obj = run.plugin.obj
        if pushes_at_synchronize(obj):
            if outcome is not None:
                outcome.pushed_at_synchronize = True
        elif getattr(obj, "_tpl_helper", None) is not None:
            # A template plugin that neither wrote a file nor pushes; plugins without
            # templates (provd's null and zero plugins) configure nothing by design.
            problems.append(Problem(run.where, f"configure wrote no file for {device['model']}"))
    for name, data in written.items():
        served, answers = find_served(run.plugin, name, device)
        if served is None:
            asked = f": {'; '.join(answers)}" if answers else ""
            problems.append(
                Problem(
                    run.where,
                    f"{name} was written but is served neither over HTTP nor TFTP{asked}",
                )
            )
        elif served.data != data:
            problems.append(
                Problem(
                    run.where,
                    f"{name}: served bytes ({served.request}) differ from the written file",
                )
            )
        elif outcome is not None:
            outcome.served[name] = served
    return problems


def xml_problems(name: str, data: bytes) -> list[Problem]:
    """Strict XML parse of a generated file that looks like XML; located problems."""
    if not _XML_START.match(data[:200]):
        return []
    # Kept lazy: lxml is only needed once a plugin generated something.
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        return [Problem(name, f"not well-formed XML: {exc.msg}", line)]
    return []
