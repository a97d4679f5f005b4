"""The plugin manager of the embedded provd: installed plugins of a directory, loaded ones.

Loading is :mod:`~pytest_provd.provd.plugins.loader`'s, installing from a plugin server
:mod:`~pytest_provd.provd.plugins.install`'s; this module keeps the state between them.
The names tests and tiers import from here (errors, request shapes, LoadedPlugin) are
re-exported.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_provd.compat import activate
from pytest_provd.provd.plugins import install, twisted_bridge
from pytest_provd.provd.plugins.errors import (
    PluginConfigError,
    PluginError,
    PluginInstallError,
    PluginLoadError,
)
from pytest_provd.provd.plugins.install import read_plugins_db, safe_extract
from pytest_provd.provd.plugins.loader import (
    PLUGIN_INFO_FILENAME,
    LoadedPlugin,
    load_plugin,
    localized,
    read_plugin_info,
)
from pytest_provd.provd.plugins.messages import HttpReply, HttpRequestInfo, TftpRequestInfo
from pytest_provd.provd.plugins.services import PluginFirmware, PluginParams
from pytest_provd.versions import VersionError, is_newer

logger = logging.getLogger(__name__)

__all__ = [
    "HttpReply",
    "HttpRequestInfo",
    "LoadedPlugin",
    "PluginConfigError",
    "PluginError",
    "PluginFirmware",
    "PluginInstallError",
    "PluginLoadError",
    "PluginManager",
    "PluginParams",
    "TftpRequestInfo",
    "read_plugin_info",
    "read_plugins_db",
    "safe_extract",
]


class PluginManager:
    """The installed plugins of a directory and the loaded ones.

    *gen_cfg* is provd's general configuration passed to every plugin (``proxies``...),
    *spec_cfg* maps plugin ids to their specific configuration.  Plugins import the
    ``wazo_provd`` of *backend* (:func:`~pytest_provd.compat.activate`); None keeps the one
    this process activated already, else ours.
    """

    def __init__(
        self,
        plugins_dir: Path,
        *,
        gen_cfg: dict[str, Any],
        spec_cfg: dict[str, dict[str, Any]] | None = None,
        app: Any = None,
        timeout: float = twisted_bridge.DEFAULT_TIMEOUT,
        backend: str | None = None,
    ) -> None:
        activate(backend)
        self.plugins_dir = Path(plugins_dir)
        self.plugins_dir.mkdir(parents=True, exist_ok=True)
        self.gen_cfg = gen_cfg
        self.spec_cfg = spec_cfg or {}
        self.app = app
        self.timeout = timeout
        self.loaded: dict[str, LoadedPlugin] = {}
        install.recover(self.plugins_dir)

    # listing

    def installed(self) -> dict[str, dict[str, Any]]:
        """``plugin-info`` of every installed plugin by id (SourceError on a broken one)."""
        result: dict[str, dict[str, Any]] = {}
        for child in sorted(self.plugins_dir.iterdir()):
            if child.name.startswith(".") or not child.is_dir():
                continue
            result[child.name] = localized(read_plugin_info(child))
        return result

    def is_installed(self, plugin_id: str) -> bool:
        return (self.plugins_dir / plugin_id / PLUGIN_INFO_FILENAME).is_file()

    def installable(self, server: str) -> dict[str, dict[str, Any]]:
        """Installable plugins of a plugin server (directory or loopback URL)."""
        return {pid: localized(entry) for pid, entry in read_plugins_db(server).items()}

    def upgradable(self, server: str) -> dict[str, dict[str, str]]:
        """Installed plugins the server has a newer version of: ``{id: {installed, available}}``."""
        available = read_plugins_db(server)
        result = {}
        for plugin_id, info in self.installed().items():
            if plugin_id not in available:
                continue
            new, old = str(available[plugin_id]["version"]), str(info["version"])
            try:
                newer = is_newer(new, old)
            except VersionError:
                newer = False
            if newer:
                result[plugin_id] = {"installed": old, "available": new}
        return result

    # loading

    def load(self, plugin_id: str) -> LoadedPlugin:
        """Load an installed plugin (PluginLoadError if it fails or is already loaded)."""
        if plugin_id in self.loaded:
            raise PluginLoadError(plugin_id, "plugin is already loaded")
        loaded = load_plugin(
            self.plugins_dir,
            plugin_id,
            app=self.app,
            gen_cfg=self.gen_cfg,
            spec_cfg=self.spec_cfg.get(plugin_id, {}),
            timeout=self.timeout,
        )
        self.loaded[plugin_id] = loaded
        return loaded

    def get(self, plugin_id: str) -> LoadedPlugin:
        """The loaded plugin (KeyError when not loaded)."""
        return self.loaded[plugin_id]

    def unload(self, plugin_id: str) -> None:
        """Close and forget a loaded plugin; close() errors are logged, not raised."""
        try:
            plugin = self.loaded.pop(plugin_id)
        except KeyError:
            raise PluginLoadError(plugin_id, "plugin is not loaded") from None
        try:
            plugin.close()
        except PluginError as e:
            logger.error("closing %s: %s", plugin_id, e)

    def reload(self, plugin_id: str) -> LoadedPlugin:
        """Unload (if loaded) and load again, e.g. after a rebuild."""
        if plugin_id in self.loaded:
            self.unload(plugin_id)
        return self.load(plugin_id)

    def close(self) -> None:
        for plugin_id in list(self.loaded):
            self.unload(plugin_id)

    def associate(self, dev_info: dict[str, Any], min_level: int = 300) -> str | None:
        """The loaded plugin provd would assign (best score ≥ *min_level*, ties: greatest id)."""
        scores: dict[int, list[str]] = {}
        for plugin_id, plugin in self.loaded.items():
            try:
                score = plugin.support(dev_info)
            except PluginError as e:
                logger.error("association with %s failed: %s", plugin_id, e)
                continue
            if score is not None:
                scores.setdefault(score, []).append(plugin_id)
        if not scores:
            return None
        best = max(scores)
        return max(scores[best]) if best >= min_level else None

    # installing

    def install_from_server(self, server: str, plugin_id: str) -> None:
        """Download, verify and extract *plugin_id*; a failed install leaves the old one."""
        install.install_from_server(self.plugins_dir, server, plugin_id)

    def uninstall(self, plugin_id: str) -> None:
        """Remove an installed plugin (it stays loaded if it was, as in provd)."""
        target = self.plugins_dir / plugin_id
        if PurePosixPath(plugin_id).name != plugin_id or not target.is_dir():
            raise PluginInstallError(self.plugins_dir, f"plugin {plugin_id} is not installed")
        shutil.rmtree(target)
