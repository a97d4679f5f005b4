"""A loaded plugin's services as provd uses them: ``configure`` (parameters) and ``install``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_provd.provd.plugins import twisted_bridge
from pytest_provd.provd.plugins.errors import PluginError, calling
from pytest_provd.provd.plugins.twisted_bridge import provd_module


class PluginParams:
    """A plugin's ``configure`` service (provd's IConfigureService), used synchronously.

    ``describe()`` gives ``[{"id", "description", "value"}]``; ``get``/``set`` raise KeyError
    for unknown names, ValueError for values the plugin refuses (InvalidParameterError) and
    PluginError naming the plugin for anything else the plugin code raises.
    """

    def __init__(self, plugin_id: str, plugin_dir: Path, service: Any) -> None:
        self.plugin_id = plugin_id
        self.plugin_dir = plugin_dir
        self.service = service

    def _calling(self, action: str) -> Any:
        return calling(self.plugin_id, self.plugin_dir, action, PluginError)

    def describe(self) -> list[dict[str, Any]]:
        with self._calling("configure service description"):
            pairs = list(self.service.description)
            return [{"id": k, "description": d, "value": self.service.get(k)} for k, d in pairs]

    def get(self, name: str) -> Any:
        try:
            with self._calling(f"configure service get {name!r}"):
                return self.service.get(name)
        except PluginError as exc:
            if isinstance(exc.__cause__, KeyError):
                raise KeyError(name) from None
            raise

    def set(self, name: str, value: Any) -> None:
        invalid = provd_module("wazo_provd.services").InvalidParameterError
        try:
            with self._calling(f"configure service set {name!r}"):
                self.service.set(name, value)
        except PluginError as exc:
            if isinstance(exc.__cause__, KeyError):
                raise KeyError(name) from None
            if isinstance(exc.__cause__, invalid):
                raise ValueError(str(exc.__cause__) or f"invalid value for {name!r}") from None
            raise


class PluginFirmware:
    """A plugin's ``install`` service (FetchfwPluginHelper), used synchronously."""

    def __init__(self, plugin_id: str, service: Any, timeout: float) -> None:
        self.plugin_id = plugin_id
        self.service = service
        self._timeout = timeout

    def installable(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self.service.list_installable()
        return result

    def installed(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = self.service.list_installed()
        return result

    def install(self, pkg_id: str) -> None:
        """Install *pkg_id*; errors propagate."""
        outcome = self.service.install(pkg_id)
        deferred = outcome[0] if isinstance(outcome, tuple) else outcome
        with twisted_bridge.inline_threads(self._timeout):
            twisted_bridge.resolve(deferred, self._timeout)

    def uninstall(self, pkg_id: str) -> None:
        self.service.uninstall(pkg_id)

    def upgrade(self, pkg_id: str) -> None:
        if hasattr(self.service, "upgrade"):
            outcome = self.service.upgrade(pkg_id)
            deferred = outcome[0] if isinstance(outcome, tuple) else outcome
            twisted_bridge.resolve(deferred, self._timeout)
        else:
            self.uninstall(pkg_id)
            self.install(pkg_id)

    def install_all(self) -> list[str]:
        """Install every package not installed yet; returns their ids."""
        done = []
        installed = self.installed()
        for pkg_id in sorted(self.installable()):
            if pkg_id not in installed:
                self.install(pkg_id)
                done.append(pkg_id)
        return done
