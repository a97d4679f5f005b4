"""Per-run state of pytest-provd: resolved options, the plugin tree and the selected targets."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pytest_provd import tree as tree_mod
from pytest_provd.report.golden import GoldenStore

if TYPE_CHECKING:
    from pytest_provd.firmware.proxy import FirmwareProxy

BACKENDS = ("embedded", "real", "url")


@dataclass
class ProvdOptions:
    """The ``--provd-*`` options (or their ``provd_*`` ini twins), validated."""

    plugins_dir: Path | None = None
    plugins: list[str] = field(default_factory=list)
    base_ref: str | None = None
    backend: str = "embedded"
    url: str | None = None
    token: str | None = None
    http_url: str | None = None
    tftp_port: int | None = None
    firmware_dir: Path | None = None
    changed: bool = False
    baseline: Path | None = None
    write_baseline: Path | None = None
    golden_dir: Path = Path("tests/golden")
    update_golden: bool = False
    check_urls: bool = False


def _get(config: pytest.Config, name: str) -> object:
    """The command-line value of ``--provd-<name>``, else the ini value ``provd_<name>``."""
    value = config.getoption(f"provd_{name}")
    if value in (None, [], False):
        value = config.getini(f"provd_{name}")
    return value


def read_options(config: pytest.Config) -> ProvdOptions:
    """Validate the options; a bad value is a :class:`pytest.UsageError` naming valid ones."""
    opts = ProvdOptions()
    plugins_dir = _get(config, "plugins_dir")
    if plugins_dir:
        path = Path(str(plugins_dir))
        if not path.is_absolute():
            path = config.invocation_params.dir / path
        if not path.is_dir():
            raise pytest.UsageError(f"--provd-plugins-dir: {path} is not a directory")
        opts.plugins_dir = path.resolve()
    raw_plugins = _get(config, "plugin") or []
    assert isinstance(raw_plugins, list)
    opts.plugins = [p for item in raw_plugins for p in str(item).replace(",", " ").split()]
    base_ref = _get(config, "base_ref")
    opts.base_ref = str(base_ref) if base_ref else None
    backend = str(_get(config, "backend") or "embedded")
    if backend not in BACKENDS:
        raise pytest.UsageError(
            f"--provd-backend: unknown backend {backend!r}; valid: {', '.join(BACKENDS)}"
        )
    opts.backend = backend
    url = _get(config, "url")
    opts.url = str(url) if url else None
    token = _get(config, "token")
    opts.token = str(token) if token else None
    http_url = _get(config, "http_url")
    opts.http_url = str(http_url) if http_url else None
    tftp_port = _get(config, "tftp_port")
    if tftp_port:
        try:
            opts.tftp_port = int(str(tftp_port))
        except ValueError:
            raise pytest.UsageError(f"--provd-tftp-port: {tftp_port!r} is not a port") from None
        if not 0 < opts.tftp_port < 65536:
            raise pytest.UsageError(f"--provd-tftp-port: {tftp_port} is not a port")
    if backend == "url":
        from pytest_provd.net import is_loopback_url

        if not opts.url:
            raise pytest.UsageError("--provd-backend url needs --provd-url http://HOST:PORT/provd")
        for flag, address in (("url", opts.url), ("http-url", opts.http_url)):
            # The harness only talks to loopback: a container with ports published on
            # 127.0.0.1, or an ssh -L tunnel, reaches a remote box.
            if address is not None and not is_loopback_url(address):
                raise pytest.UsageError(
                    f"--provd-{flag} {address}: only http(s) URLs on a loopback address are "
                    "supported (publish the provd's ports on 127.0.0.1 or tunnel with ssh -L)"
                )
    elif opts.url or opts.http_url or opts.tftp_port:
        raise pytest.UsageError(
            "--provd-url, --provd-http-url and --provd-tftp-port need --provd-backend url"
        )
    firmware_dir = _get(config, "firmware_dir")
    if firmware_dir:
        opts.firmware_dir = Path(str(firmware_dir)).resolve()
        if not opts.firmware_dir.is_dir():
            raise pytest.UsageError(f"--provd-firmware-dir: {opts.firmware_dir} is not a directory")
        # Plugin code builds its firmware store itself; the environment is how it finds the cache.
        from pytest_provd.firmware.store import FIRMWARE_DIR_ENV

        os.environ[FIRMWARE_DIR_ENV] = str(opts.firmware_dir)
    opts.changed = bool(_get(config, "changed"))
    if opts.changed and not opts.base_ref:
        raise pytest.UsageError("--provd-changed needs --provd-base-ref REF")
    for name in ("baseline", "write_baseline"):
        value = _get(config, name)
        if value:
            setattr(opts, name, Path(str(value)).resolve())
    if opts.baseline is not None and not opts.baseline.is_file():
        raise pytest.UsageError(f"--provd-baseline: {opts.baseline} does not exist")
    golden = _get(config, "golden_dir")
    if golden:
        opts.golden_dir = Path(str(golden))
    if not opts.golden_dir.is_absolute():
        opts.golden_dir = config.rootpath / opts.golden_dir
    opts.update_golden = bool(_get(config, "update_golden"))
    opts.check_urls = bool(_get(config, "check_urls"))
    return opts


class ProvdSession:
    """What one pytest run knows about the plugin tree under test."""

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

    def plugin_proxies(self) -> dict[str, str]:
        """The ``proxies`` provd passes plugins: none for our compat library; with the real
        ``wazo_provd`` in place, a loopback proxy so real fetchfw never leaves 127.0.0.1."""
        from pytest_provd import compat

        if compat.activate() != "real":
            return {}
        if self._proxy is None:
            from pytest_provd.firmware.proxy import FirmwareProxy

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
        from pytest_provd.tree import gitbase

        if self.repo_root is None:
            raise pytest.UsageError(
                f"--provd-base-ref: {self.plugins_dir} is not inside a git checkout"
            )
        try:
            gitbase.resolve_ref(self.repo_root, ref)
        except gitbase.GitBaseError as exc:
            raise pytest.UsageError(f"--provd-base-ref: {exc}") from exc

    def _changed_only(self, targets: list[tree_mod.Target]) -> list[tree_mod.Target]:
        from pytest_provd.tree import gitbase

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
        """Stop the firmware proxy; remove the scratch directory."""
        if self._proxy is not None:
            self._proxy.close()
            self._proxy = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None


session_key = pytest.StashKey[ProvdSession]()
