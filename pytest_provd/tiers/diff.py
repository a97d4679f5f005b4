"""Per model, with ``--provd-diff``: ``diff`` (what the change does to the files a phone of
the model is given).

For every selected target whose inputs differ from ``--provd-base-ref`` (the notion of
``--provd-changed``), each model is rendered twice through the in-process plugin library
(our compat ``wazo_provd``, or the real one where installed): the working tree's build and
the base ref's build, each loaded in a plugin manager of its own, with the same device (the
stable MAC an emulated phone of the model gets, see :mod:`pytest_provd.tiers._wire`), the
same raw config and the same ports.  The two file sets are compared in canonical form
(:mod:`pytest_provd.rendering.diffing`).

The item passes whatever changed (the diff is a report section, shown with ``-rP``/``-rA``,
a ``provd_diff`` JUnit property and a page of ``--provd-report``); with ``--provd-diff=fail``
(a refactor that must not change what phones get) any change fails it, with the diffs.  It
is skipped when the working tree's plugin does not render the model (its ``load`` and
``configure`` items fail and say why).
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem
from pytest_provd.rendering.diffing import (
    DIFF_KEY,
    DIFF_RESULT_KEY,
    MAX_MODEL_DIFF_CHARS,
    ModelDiff,
    bounded,
    compare_renders,
)
from pytest_provd.session import ProvdSession, session_key
from pytest_provd.suite import ItemSpec, ProvdItem, TargetPlan, target_models
from pytest_provd.tiers._run import TargetRun, configure_and_fetch, problem_of, target_run
from pytest_provd.tiers._wire import emulator_vendor, phone_macs

MARKER = "provd_diff"
LOCAL_OUI = "02:00:00"
"""The MAC prefix of a model no emulator boots (locally administered: no vendor's)."""


@dataclass
class DiffPlan:
    """The base ref's tree and which selected targets differ from it."""

    base_ref: str
    base: tree.PluginTree | None
    changed: set[str]


class BaseRun(TargetRun):
    """The target as the base ref builds it, loaded in a plugin manager of its own the way
    :class:`TargetRun` loads the working tree's build."""

    def load(self) -> list[Problem]:
        """Build at the base (cached by content), load (once); the problems of doing so."""
        if self._load_problems is not None:
            return self._load_problems
        # Kept lazy: the server stack is not needed to start pytest.
        from pytest_provd.provd.plugins.manager import PluginError, PluginManager
        from pytest_provd.provd.plugins.rawconfig import sample_common_raw_config

        plugin_id = self.target.plugin_id
        try:
            built = tree.build_cached(self.target)
        except tree.BuildError as exc:
            self._load_problems = [Problem(self.target.build_py, f"does not build: {exc}")]
            return self._load_problems
        plugins_dir = self.session.workdir / "provd-base" / plugin_id
        if plugins_dir.exists():
            shutil.rmtree(plugins_dir)
        shutil.copytree(built, plugins_dir / plugin_id, symlinks=True)
        self.manager = PluginManager(plugins_dir, gen_cfg=self.session.plugin_gen_cfg())
        try:
            self._loaded = self.manager.load(plugin_id)
            self._loaded.configure_common(sample_common_raw_config())
        except PluginError as exc:
            self._load_problems = [problem_of(exc, self.target, plugins_dir / plugin_id)]
            return self._load_problems
        self._load_problems = []
        return self._load_problems


_PLAN = pytest.StashKey[DiffPlan]()
_BASE_RUNS = pytest.StashKey[dict[str, BaseRun]]()
_RESULTS = pytest.StashKey[dict[tuple[str, str], ModelDiff]]()


def diff_plan(session: ProvdSession) -> DiffPlan:
    """The base tree and the changed targets (computed once per run)."""
    found = session.stash.get(_PLAN, None)
    if found is not None:
        return found
    from pytest_provd.tree import gitbase  # lazy: only with --provd-base-ref

    ref = session.options.base_ref
    assert ref is not None and session.repo_root is not None and session.plugins_dir is not None
    try:
        if session.options.changed:
            # select() kept only the changed targets already.
            rel = session.plugins_dir.resolve().relative_to(session.repo_root.resolve())
            base = gitbase.export_plugins(session.repo_root, ref, rel, gitbase.default_out_root())
            changed = {t.plugin_id for t in session.targets}
        else:
            comparison = gitbase.compare(session.repo_root, ref, session.plugins_dir, session.tree)
            base, changed = comparison.base, comparison.changed
    except gitbase.GitBaseError as exc:
        raise pytest.UsageError(f"--provd-diff: {exc}") from exc
    found = session.stash[_PLAN] = DiffPlan(ref, base.tree, changed)
    return found


def base_run(session: ProvdSession, target: tree.Target) -> BaseRun:
    """The shared :class:`BaseRun` of the base ref's *target* in this run."""
    runs = session.stash.get(_BASE_RUNS, None)
    if runs is None:
        runs = session.stash[_BASE_RUNS] = {}
        session.add_cleanup(partial(_close_all, runs))
    if target.plugin_id not in runs:
        runs[target.plugin_id] = BaseRun(session, target)
    return runs[target.plugin_id]


def _close_all(runs: dict[str, BaseRun]) -> None:
    for run in runs.values():
        run.close()


def results(session: ProvdSession) -> dict[tuple[str, str], ModelDiff]:
    """The diffs this process computed, by (plugin id, model)."""
    found = session.stash.get(_RESULTS, None)
    if found is None:
        found = session.stash[_RESULTS] = {}
    return found


def device_mac(plugin_id: str, models: list[str], model: str) -> str:
    """The MAC an emulated phone of *model* boots with (the vendor's OUI and the stable
    suffix of :func:`~pytest_provd.tiers._wire.phone_macs`)."""
    from emulators.registry import vendor_oui  # lazy: the emulators

    vendor = emulator_vendor(plugin_id)
    oui = LOCAL_OUI
    if vendor is not None:
        try:
            oui = vendor_oui(vendor, model)
        except ValueError:
            pass  # a vendor the registry names but cannot give a prefix for this model
    return f"{oui}:{phone_macs(plugin_id, models)[model]}"


def check_diff(
    session: ProvdSession,
    target: tree.Target,
    base_target: tree.Target | None,
    models: list[str],
    model: str,
) -> list[Problem]:
    """Render *model* at the base ref and in the working tree; compare (see the module
    docstring).  *models*: the working tree's models, then those only the base has."""
    ref = str(session.options.base_ref)
    head = target_run(session, target)
    head_models = target_models(target)
    try:
        head_problems = head.load()
    except tree.BuildError as exc:
        head_problems = [Problem(target.build_py, f"does not build: {exc}")]
    if head_problems:
        _cannot(model, "the working tree's plugin does not load", head_problems)
    base = base_run(session, base_target) if base_target is not None else None
    base_problems = base.load() if base is not None else []
    owner: TargetRun = head if model in head_models or base is None or base_problems else base
    device = owner.device(model, models.index(model) + 1)
    device["mac"] = device_mac(target.plugin_id, models, model)
    diff = ModelDiff(target.plugin_id, model, ref)
    head_files: dict[str, bytes] = {}
    if model in head_models:
        head_files, problems = configure_and_fetch(head, copy.deepcopy(device), verify=False)
        if problems:
            _cannot(model, "the working tree's plugin does not configure it", problems)
    base_files: dict[str, bytes] = {}
    if base is None:
        diff.notes.append(f"a new target: {target.plugin_id} is not built at {ref}")
    elif base_problems:
        diff.notes.append(f"at {ref} the plugin did not load: {base_problems[0].summary()}")
    elif model not in target_models(base.target):
        diff.notes.append(f"a new model: {target.plugin_id} at {ref} has no {model}")
    else:
        base_files, problems = configure_and_fetch(base, copy.deepcopy(device), verify=False)
        if problems:
            diff.notes.append(f"at {ref} configuring {model} failed: {problems[0].summary()}")
    if model not in head_models:
        diff.notes.append(f"a removed model: the working tree's {target.plugin_id} has no {model}")
    compare_renders(diff, base_files, head_files, device["mac"])
    results(session)[(target.plugin_id, model)] = bounded(diff, MAX_MODEL_DIFF_CHARS)
    if session.options.diff != "fail":
        return []
    notes = "".join(f"\n({note})" for note in diff.notes)
    return [
        Problem(
            f"{target.plugin_id}/var/tftpboot/{change.name}",
            f"{model}: {change.name} {change.status} since {ref} (--provd-diff=fail){notes}\n"
            f"{change.diff}",
            change.line,
            fix="a change under --provd-diff=fail must not change what phones get; if this "
            "one should, review the diff and run without =fail",
        )
        for change in diff.changes
    ]


def _cannot(model: str, why: str, problems: list[Problem]) -> None:
    raise pytest.skip.Exception(
        f"cannot compare {model}: {why}: {problems[0].summary()} (its load and configure "
        "items say why)",
        _use_item_location=True,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the tier's marker."""
    config.addinivalue_line(
        "markers", f"{MARKER}: what the change since --provd-base-ref does to generated files"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """With ``--provd-diff``, ``<model>::diff`` for every model of a changed target (those
    only the base ref has included)."""
    if session.options.diff is None or session.options.base_ref is None:
        return
    found = diff_plan(session)
    if target.plugin_id not in found.changed:
        return
    base_target = found.base.targets.get(target.plugin_id) if found.base is not None else None
    models = target_models(target)
    if base_target is not None:
        models += [m for m in target_models(base_target) if m not in models]
    for model in models:
        runner = partial(check_diff, session, target, base_target, models, model)
        plan.add_model(model, ItemSpec("diff", MARKER, runner))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """A diff item's result: a ``provd diff`` report section when something changed, the
    ``provd_diff`` property (JUnit) and the diff itself on the call report."""
    diff = None
    if call.when == "call" and isinstance(item, ProvdItem) and item.tier == MARKER:
        session = item.config.stash.get(session_key, None)
        if session is not None and item.target is not None and item.parent is not None:
            diff = results(session).get((item.target.plugin_id, item.parent.name))
    if diff is not None:
        item.user_properties.append((DIFF_KEY, diff.summary()))
        if diff.changes and item.config.stash[session_key].options.diff != "fail":
            item.add_report_section("call", "provd diff", diff.text())
    outcome = yield
    if diff is not None:
        outcome.get_result().user_properties.append((DIFF_RESULT_KEY, diff.as_json()))
