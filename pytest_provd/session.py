"""Per-run state of pytest-provd: the plugin tree, the selected targets and what the tiers
keep for the run (in :attr:`ProvdSession.stash`).  One :class:`ProvdSession` per pytest run,
stored in ``config.stash[session_key]``."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_provd import tree as tree_mod
from pytest_provd.firmware import FIRMWARE_DIR_CFG
from pytest_provd.options import ProvdOptions
from pytest_provd.report.golden import GoldenStore
from pytest_provd.tree import selection as selection_mod

if TYPE_CHECKING:
    from pytest_provd.firmware.proxy import FirmwareProxy
    from pytest_provd.tree import gitbase


class ProvdSession:
    """What one pytest run knows about the plugin tree under test.

    Tiers keep their per-run objects in :attr:`stash` (under their own ``pytest.StashKey``)
    and register what must be released with :meth:`add_cleanup`; :meth:`close` runs those
    first, last registered first, then removes the scratch directory.
    """

    def __init__(self, config: pytest.Config, options: ProvdOptions) -> None:
        self.config = config
        self.options = options
        self.plugins_dir = options.plugins_dir or tree_mod.find_plugins_dir(
            config.rootpath, config.invocation_params.dir
        )
        self._tree: tree_mod.PluginTree | None = None
        self._workdir: Path | None = None
        self._repo_root: Path | None = None
        self._repo_looked_up = False
        self.targets: list[tree_mod.Target] = []
        self.unchanged: list[str] = []
        self.families: list[selection_mod.FamilyChecks] = []
        """Selected families with family-level items (broken build.py, unbuilt dirs,
        removed targets), in name order."""
        self.removed: list[selection_mod.Removal] = []
        """Selected plugin ids built at the base ref and by no target now."""
        self.golden = GoldenStore(options.golden_dir, options.update_golden)
        self._proxy: FirmwareProxy | None = None
        self.stash = pytest.Stash()
        self._cleanups: list[Callable[[], None]] = []

    def add_cleanup(self, cleanup: Callable[[], None]) -> None:
        """Have :meth:`close` call *cleanup* (before the scratch directory goes)."""
        self._cleanups.append(cleanup)

    def plugin_gen_cfg(self) -> dict[str, Any]:
        """provd's general configuration for the run's plugin managers: ``proxies`` and the
        ``--provd-firmware-dir`` cache (per plugin manager, nothing process-wide)."""
        gen_cfg: dict[str, Any] = {"proxies": self.plugin_proxies()}
        if self.options.firmware_dir is not None:
            gen_cfg[FIRMWARE_DIR_CFG] = str(self.options.firmware_dir)
        if self._proxy is not None:
            from pytest_provd.compat.realplugins import STAGE_DIR_CFG  # lazy: real backend

            gen_cfg[STAGE_DIR_CFG] = str(self.firmware_stage)
        return gen_cfg

    def plugin_proxies(self) -> dict[str, str]:
        """The ``proxies`` provd passes plugins: none for our compat library (``embedded``,
        ``url``); for the ``real`` backend's installed ``wazo_provd``, a loopback proxy so
        real fetchfw never leaves 127.0.0.1.

        Activates the library of ``--provd-backend`` in this process, so the plugin managers
        made next load plugins against it whatever else is installed.
        """
        from pytest_provd import compat  # lazy: the compat namespace is the server stack's

        if compat.activate(self.options.backend) != "real":
            return {}
        if self._proxy is None:
            from pytest_provd.firmware.proxy import FirmwareProxy  # lazy: only with wazo_provd

            # What compat.realplugins stages for real fetchfw: the --provd-firmware-dir
            # files of each pkgs.db, else synthetic ones.
            self._proxy = FirmwareProxy(self.firmware_stage).start()
        return self._proxy.proxies

    @property
    def generated_suite_only(self) -> bool:
        """The run collects the generated suite alone (``--provd-plugin``, no test paths)."""
        return bool(
            self.options.plugins and self.config.args_source != pytest.Config.ArgsSource.ARGS
        )

    @property
    def firmware_stage(self) -> Path:
        """Where the real backend's firmware files are staged for the loopback proxy."""
        return self.workdir / "firmware-stage"

    @property
    def tree(self) -> tree_mod.PluginTree:
        """The discovered plugin tree (a usage error when there is none)."""
        if self._tree is None:
            if self.plugins_dir is None:
                raise pytest.UsageError(
                    "pytest-provd: no plugins directory found (a plugins/ dir holding */build.py "
                    f"under {self.config.rootpath} or the current directory); "
                    "pass --provd-plugins-dir DIR"
                )
            self._tree = tree_mod.discover(self.plugins_dir)
        return self._tree

    def select(self) -> list[tree_mod.Target]:
        """Resolve ``--provd-plugin`` patterns into :attr:`targets` and :attr:`families`.

        A pattern selecting nothing is a usage error with a suggestion.  A family whose
        build.py cannot be executed is selected through the plugin ids it builds, so it
        fails the run instead of vanishing from it.
        """
        if not self.options.plugins:
            return []
        found = self.tree
        selection_mod.remember(found, tree_mod.default_cache_dir())
        comparison: gitbase.Comparison | None = None
        base: tree_mod.PluginTree | None = None
        removed: list[selection_mod.Removal] = []
        if self.options.base_ref:
            comparison, base, removed = self._against_base(self.options.base_ref)
        try:
            chosen = selection_mod.select(
                found, self.options.plugins, self._known_ids(base), removed
            )
        except tree_mod.UnknownTargetError as exc:
            raise pytest.UsageError(str(exc)) from exc
        targets, families = chosen.targets, chosen.families
        if comparison is not None:
            self.unchanged = [t.plugin_id for t in targets if t.plugin_id not in comparison.changed]
            targets = [t for t in targets if t.plugin_id in comparison.changed]
            families = {n: f for n, f in families.items() if n in comparison.families}
        self.targets = targets
        self.removed = chosen.removed
        checks = [selection_mod.family_checks(f, chosen.removed) for f in families.values()]
        self.families = [c for c in checks if c]
        return self.targets

    def _against_base(
        self, ref: str
    ) -> tuple[gitbase.Comparison | None, tree_mod.PluginTree | None, list[selection_mod.Removal]]:
        """The comparison with *ref* (with ``--provd-changed``), the tree there, removals."""
        from pytest_provd.tree import gitbase  # lazy: only with --provd-base-ref

        self._check_base_ref(ref)
        assert self.repo_root is not None and self.plugins_dir is not None
        try:
            if self.options.changed:
                comparison = gitbase.compare(self.repo_root, ref, self.plugins_dir, self.tree)
                return comparison, comparison.base.tree, comparison.removed
            rel = self.plugins_dir.resolve().relative_to(self.repo_root.resolve())
            base = gitbase.export_plugins(self.repo_root, ref, rel, gitbase.default_out_root())
        except gitbase.GitBaseError as exc:
            raise pytest.UsageError(f"--provd-base-ref: {exc}") from exc
        removed = gitbase.removals(base.tree, self.tree, ref) if base.tree is not None else []
        return None, base.tree, removed

    def _known_ids(self, base: tree_mod.PluginTree | None) -> dict[str, list[str]]:
        """Plugin ids each broken family is known to build: at the base ref, in git HEAD,
        at the last good parse."""
        known: dict[str, list[str]] = {}
        for family in self.tree.broken.values():
            ids: list[str] = []
            base_family = base.families.get(family.name) if base is not None else None
            if base_family is not None:
                ids += [t.plugin_id for t in base_family.targets.values()]
            if self.repo_root is not None:
                from pytest_provd.tree import gitbase  # lazy: only for a broken family in git

                ids += gitbase.plugin_ids_at(self.repo_root, "HEAD", family.build_py)
            ids += selection_mod.recall(family, tree_mod.default_cache_dir())
            known[family.name] = list(dict.fromkeys(ids))
        return known

    def _check_base_ref(self, ref: str) -> None:
        from pytest_provd.tree import gitbase  # lazy: only with --provd-base-ref

        if self.repo_root is None:
            raise pytest.UsageError(
                f"--provd-base-ref: {self.plugins_dir} is not inside a git checkout"
            )
        try:
            gitbase.resolve_ref(self.repo_root, ref)
        except gitbase.GitBaseError as exc:
            raise pytest.UsageError(f"--provd-base-ref: {exc}") from exc

    @property
    def repo_root(self) -> Path | None:
        """The git checkout holding the plugins dir (None outside git)."""
        if not self._repo_looked_up:
            self._repo_looked_up = True
            if self.plugins_dir is not None:
                proc = subprocess.run(
                    ["git", "-C", str(self.plugins_dir), "rev-parse", "--show-toplevel"],
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=30,
                )
                if proc.returncode == 0:
                    self._repo_root = Path(proc.stdout.strip())
        return self._repo_root

    @property
    def workdir(self) -> Path:
        """A private scratch directory for builds of this run, removed at the end."""
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="pytest-provd-"))
        return self._workdir

    def build(self, target: tree_mod.Target) -> Path:
        """The built plugin directory of *target* (built once per run)."""
        dest = self.workdir / "built" / target.plugin_id
        if dest.is_dir():
            return dest
        return tree_mod.build(target, self.workdir / "built")

    def close(self) -> None:
        """Run the cleanups, stop the firmware proxy, remove the scratch directory."""
        try:
            while self._cleanups:
                self._cleanups.pop()()
        finally:
            if self._proxy is not None:
                self._proxy.close()
                self._proxy = None
            if self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None


session_key = pytest.StashKey[ProvdSession]()
"""Where ``config.stash`` keeps the run's :class:`ProvdSession`."""
