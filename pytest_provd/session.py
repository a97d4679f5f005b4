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

if TYPE_CHECKING:
    from pytest_provd.firmware.proxy import FirmwareProxy


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
        return gen_cfg

    def plugin_proxies(self) -> dict[str, str]:
        """The ``proxies`` provd passes plugins: none for our compat library; with the real
        ``wazo_provd`` in place, a loopback proxy so real fetchfw never leaves 127.0.0.1."""
        from pytest_provd import compat  # lazy: the compat namespace is the server stack's

        if compat.activate() != "real":
            return {}
        if self._proxy is None:
            from pytest_provd.firmware.proxy import FirmwareProxy  # lazy: only with wazo_provd

            self._proxy = FirmwareProxy(self.options.firmware_dir).start()
        return self._proxy.proxies

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
        """Resolve ``--provd-plugin`` patterns; unknown ids are usage errors with a suggestion."""
        if not self.options.plugins:
            return []
        try:
            self.targets = self.tree.select(self.options.plugins)
        except tree_mod.UnknownTargetError as exc:
            raise pytest.UsageError(str(exc)) from exc
        if self.options.base_ref:
            self._check_base_ref(self.options.base_ref)
        if self.options.changed:
            self.targets = self._changed_only(self.targets)
        return self.targets

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

    def _changed_only(self, targets: list[tree_mod.Target]) -> list[tree_mod.Target]:
        from pytest_provd.tree import gitbase  # lazy: only with --provd-base-ref

        assert self.options.base_ref and self.repo_root and self.plugins_dir
        changed = gitbase.changed_targets(
            self.repo_root, self.options.base_ref, self.plugins_dir, self.tree
        )
        self.unchanged = [t.plugin_id for t in targets if t.plugin_id not in changed]
        return [t for t in targets if t.plugin_id in changed]

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
