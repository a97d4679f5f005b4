"""The provisioning application of the embedded provd (:class:`ProvdApp`), in memory.

:class:`ProvdApp` keeps configs, devices, parameters and plugins and applies provd's rules:
devices are (de)configured when a key the plugin depends on changes, configs changes
reconfigure every device below them, a transient config goes with its last device, plugin
(un)installs reconfigure their devices.  Everything runs under one re-entrant lock, as provd
serialises work on its reactor thread.  Serving it is :mod:`pytest_provd.provd.server`'s.
"""

from __future__ import annotations

import copy
import shutil
import threading
from pathlib import Path
from typing import Any

from pytest_provd.problems import SourceError
from pytest_provd.provd.domain.configs import (
    ConfigError,
    ConfigManager,
    RawConfigError,
    check_base_raw_config,
    default_configs,
    validate_raw_config,
)
from pytest_provd.provd.domain.devices import (
    DeviceError,
    DeviceManager,
    UnknownDevice,
    needs_reconfiguration,
    validate_device,
)
from pytest_provd.provd.domain.errors import (
    ParameterError,
    PluginStateError,
    UnknownParameter,
    UnknownTenant,
)
from pytest_provd.provd.domain.faults import FaultLog
from pytest_provd.provd.domain.params import Params
from pytest_provd.provd.domain.pipeline import Pipeline
from pytest_provd.provd.domain.tenants import MASTER_TENANT, Tenants
from pytest_provd.provd.plugins.manager import LoadedPlugin, PluginError, PluginManager
from pytest_provd.provd.plugins.rawconfig import apply_defaults

JsonDict = dict[str, Any]

__all__ = [
    "MASTER_TENANT",
    "ConfigError",
    "DeviceError",
    "ParameterError",
    "PluginStateError",
    "ProvdApp",
    "SourceError",
    "UnknownDevice",
    "UnknownParameter",
    "UnknownTenant",
]


class ProvdApp:
    """provd's provisioning application, in memory.

    *gen_cfg* is what every plugin gets as provd's general configuration (``proxies`` is
    added and kept current); the harness carries its firmware cache there.
    """

    def __init__(
        self,
        plugins_dir: Path,
        base_raw_config: JsonDict | None = None,
        *,
        gen_cfg: JsonDict | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.base_raw_config: JsonDict = dict(base_raw_config or {})
        self.configs = ConfigManager(self.base_raw_config)
        self.devices = DeviceManager()
        self.tenants = Tenants()
        self.proxies: dict[str, str] = {}
        self.params = Params(self.tenants, self.proxies)
        self.gen_cfg: JsonDict = {**(gen_cfg or {}), "proxies": self.proxies}
        self.plugins = PluginManager(plugins_dir, gen_cfg=self.gen_cfg, app=self)
        self.faults = FaultLog()
        """Crashes of the harness's own code while serving (see :mod:`.faults`)."""
        self.pipeline = Pipeline(self, self.faults)
        self.installable_cache: dict[str, JsonDict] = {}
        self.config_errors: dict[str, str] = {}
        """Why the last configure of a device (by id) failed; cleared on success."""
        self.use_provisioning_key = False
        """provd's ``http_auth_strategy: url_key``: provisioning URLs start with a tenant key."""

    @property
    def nat(self) -> int:
        """provd's NAT parameter: 1 keeps several devices on one IP."""
        return self.params.nat

    @property
    def tenant_uuid(self) -> str:
        """The provd's own tenant."""
        return self.tenants.master

    def set_base_raw_config(self, raw: JsonDict) -> None:
        """Replace the server-level raw config every config inherits (ip, ports, base URL)."""
        check_base_raw_config(raw)
        self.base_raw_config.clear()
        self.base_raw_config.update(raw)

    def reset(self, *, with_defaults: bool = True) -> None:
        """Back to a fresh server: no devices, plugins, operations or faults; default configs."""
        with self.lock:
            self.plugins.close()
            for child in self.plugins.plugins_dir.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
            self.devices.clear()
            self.configs.clear()
            if with_defaults:
                self.configs.load(default_configs(str(self.base_raw_config.get("ip", ""))))
            self.params.reset()
            self.installable_cache.clear()
            self.config_errors.clear()
            self.pipeline.log.clear()
            self.tenants.reset()
            self.faults.clear()

    # tenants and parameters ----------------------------------------------------------------

    def add_tenant(self, tenant_uuid: str, parent: str | None = None) -> None:
        """Declare a tenant below *parent* (the provd's own tenant by default)."""
        with self.lock:
            self.tenants.add(tenant_uuid, parent)

    def check_tenant(self, tenant_uuid: str | None) -> str:
        """*tenant_uuid* if known, the provd's own tenant if None (UnknownTenant)."""
        return self.tenants.check(tenant_uuid)

    def tenant_tree(self, tenant_uuid: str) -> list[str]:
        """*tenant_uuid* and every tenant below it."""
        return self.tenants.tree(tenant_uuid)

    def tenant_of_key(self, key: str) -> str | None:
        """The tenant whose ``provisioning_key`` is *key*."""
        return self.tenants.of_key(key)

    def get_param(self, name: str, tenant: str | None = None) -> Any:
        """A configure parameter's value (UnknownParameter); some are per tenant."""
        return self.params.get(name, tenant)

    def set_param(self, name: str, value: Any, tenant: str | None = None) -> None:
        """Set a configure parameter, checked as provd checks it."""
        with self.lock:
            self.params.set(name, value, tenant)

    def describe_params(self, tenant: str | None = None) -> list[JsonDict]:
        """The ``params`` list of ``GET /configure``."""
        return self.params.describe(tenant)

    # configuring devices -------------------------------------------------------------------

    def _plugin_of(self, device: JsonDict) -> LoadedPlugin | None:
        return self.plugins.loaded.get(str(device.get("plugin") or ""))

    def _configure(self, device: JsonDict, plugin: LoadedPlugin, raw: JsonDict) -> bool:
        # *raw* is a fresh ``configs.raw()``: completed here and handed over as it is.
        raw = apply_defaults(raw)
        if self.use_provisioning_key:
            tenant = device.get("tenant_uuid")
            key = self.tenants.provisioning_key(str(tenant))
            if not key:
                self.config_errors[str(device.get("id"))] = (
                    f"provisioning keys are in use and tenant {tenant!r} of the device has no "
                    "provisioning_key"
                )
                return False
            raw["http_base_url"] = f"{raw.get('http_base_url', '')}/{key}"
        try:
            validate_raw_config(raw)
            plugin.configure(device, raw, prepared=True)
        except (RawConfigError, PluginError) as exc:
            self.config_errors[str(device.get("id"))] = str(exc)
            return False
        self.config_errors.pop(str(device.get("id")), None)
        return True

    def _configure_if_possible(self, device: JsonDict) -> bool:
        plugin = self._plugin_of(device)
        if plugin is None or not device.get("config"):
            return False
        raw = self.configs.raw(str(device["config"]))
        return raw is not None and self._configure(device, plugin, raw)

    def _deconfigure_if_possible(self, device: JsonDict) -> None:
        plugin = self._plugin_of(device)
        if plugin is not None:
            try:
                plugin.deconfigure(device)
            except PluginError as exc:
                self.config_errors[str(device.get("id"))] = str(exc)

    def _drop_transient(self, config_id: str | None) -> None:
        if not config_id or config_id not in self.configs:
            return
        if self.configs.get(config_id).get("transient") and not self.devices.find(config=config_id):
            self.configs.delete(config_id)

    # devices -------------------------------------------------------------------------------

    def dev_insert(self, device: Any) -> str:
        """Add a device (configured when it has a loaded plugin and a config); returns its id."""
        checked = validate_device(device)
        with self.lock:
            checked["configured"] = False
            checked["tenant_uuid"] = checked.get("tenant_uuid") or self.tenants.master
            checked["is_new"] = checked["tenant_uuid"] == self.tenants.master
            device_id = self.devices.insert(checked)
            if self._configure_if_possible(checked):
                checked["configured"] = True
                self.devices.update(checked)
            if isinstance(device, dict):
                device.clear()
                device.update(checked)
            return device_id

    def dev_update(self, device: Any) -> None:
        """Replace a device, (de)configuring it when needed (``configured`` is ignored)."""
        checked = validate_device(device)
        if not checked.get("id"):
            raise DeviceError("device has no id")
        with self.lock:
            old = self.devices.get(checked["id"])
            checked["tenant_uuid"] = checked.get("tenant_uuid") or old.get("tenant_uuid")
            checked["is_new"] = checked["tenant_uuid"] == self.tenants.master
            if needs_reconfiguration(old, checked):
                if old.get("configured"):
                    self._deconfigure_if_possible(old)
                checked["configured"] = self._configure_if_possible(checked)
            else:
                checked["configured"] = bool(old.get("configured"))
            if checked != old:
                self.devices.update(checked)
                if old.get("config") != checked.get("config"):
                    self._drop_transient(old.get("config"))

    def dev_delete(self, device_id: str) -> None:
        """Remove a device, deconfiguring it."""
        with self.lock:
            device = self.devices.delete(device_id)
            self._drop_transient(device.get("config"))
            if device.get("configured"):
                self._deconfigure_if_possible(device)

    def dev_reconfigure(self, device_id: str) -> bool:
        """Deconfigure then configure a device again; returns whether it is configured."""
        with self.lock:
            device = self.devices.get(device_id)
            if device.get("configured"):
                self._deconfigure_if_possible(device)
            configured = self._configure_if_possible(device)
            if configured != device.get("configured"):
                device["configured"] = configured
                self.devices.update(device)
            return configured

    def dev_synchronize(self, device_id: str) -> None:
        """Ask a configured device to resync through its plugin (PluginStateError if it cannot)."""
        with self.lock:
            device = self.devices.get(device_id)
            if not device.get("configured"):
                raise PluginStateError(f"can't synchronize not configured device {device_id}")
            plugin = self._plugin_of(device)
            raw = self.configs.raw(str(device.get("config")))
            if plugin is None or raw is None:
                raise PluginStateError(f"plugin {device.get('plugin')} is not installed/loaded")
            plugin.synchronize(device, apply_defaults(raw))

    # configs -------------------------------------------------------------------------------

    def _reconfigure_below(self, config_id: str, *, deleted: bool = False) -> None:
        affected = self.configs.descendants(config_id) | {config_id}
        for device in self.devices.find_in("config", list(affected)):
            plugin = self._plugin_of(device)
            if plugin is None:
                continue
            if device.get("configured"):
                self._deconfigure_if_possible(device)
            raw = self.configs.raw(str(device["config"]))
            configured = False if raw is None else self._configure(device, plugin, raw)
            if deleted and device["config"] == config_id:
                configured = False
            if configured != device.get("configured"):
                device["configured"] = configured
                self.devices.update(device)

    def cfg_insert(self, config: Any) -> str:
        """Add a config and configure the devices waiting for it; returns its id."""
        with self.lock:
            config_id = self.configs.insert(config)
            self._reconfigure_below(config_id)
            return config_id

    def cfg_update(self, config: Any) -> None:
        """Replace a config; devices below it are reconfigured."""
        if not isinstance(config, dict) or not config.get("id"):
            raise ConfigError("config has no id")
        with self.lock:
            old = self.configs.get(config["id"])
            if old == config:
                return
            self.configs.update(config)
            self._reconfigure_below(config["id"])

    def cfg_delete(self, config_id: str) -> None:
        """Remove a config (unless not deletable); devices below it are reconfigured."""
        with self.lock:
            self.configs.delete(config_id)
            self._reconfigure_below(config_id, deleted=True)

    def cfg_create_new(self) -> str | None:
        """A new transient config from the ``autocreate`` config (None if there is none)."""
        with self.lock:
            return self.configs.create_autocreated()

    # plugins -------------------------------------------------------------------------------

    def _load(self, plugin_id: str) -> LoadedPlugin:
        plugin = self.plugins.load(plugin_id)
        try:
            plugin.configure_common(copy.deepcopy(self.base_raw_config))
        except PluginError:
            self.plugins.unload(plugin_id)
            raise
        return plugin

    def _configure_plugin_devices(self, plugin_id: str) -> None:
        for device in self.devices.find(plugin=plugin_id):
            if device.get("configured"):
                self._deconfigure_if_possible(device)
            configured = self._configure_if_possible(device)
            if configured != device.get("configured"):
                device["configured"] = configured
                self.devices.update(device)

    def plugin_server(self) -> str:
        """The ``plugin_server`` parameter (ParameterError when unset)."""
        return self.params.plugin_server()

    def pg_update(self) -> None:
        """Fetch ``plugins.db`` from the plugin server (SourceError when unusable)."""
        installable = self.plugins.installable(self.plugin_server())
        with self.lock:
            self.installable_cache = installable

    def pg_installable(self) -> dict[str, JsonDict]:
        """What the last update found, without file names (as provd lists it)."""
        return {
            pid: {k: v for k, v in info.items() if k != "filename"}
            for pid, info in self.installable_cache.items()
        }

    def pg_install(self, plugin_id: str, *, upgrade: bool = False) -> None:
        """Install (or upgrade) a plugin from the plugin server, load it, configure its devices."""
        with self.lock:
            installed = self.plugins.is_installed(plugin_id)
            if installed and not upgrade:
                raise PluginStateError(f"plugin {plugin_id} is already installed")
            if upgrade and not installed:
                raise PluginStateError(f"plugin {plugin_id} is not already installed")
        self.plugins.install_from_server(self.plugin_server(), plugin_id)
        with self.lock:
            if plugin_id in self.plugins.loaded:
                self.plugins.unload(plugin_id)
            self._load(plugin_id)
            self._configure_plugin_devices(plugin_id)

    def pg_install_dir(self, built_dir: Path) -> LoadedPlugin:
        """Install a built plugin directory (replacing an installed one), load and configure."""
        plugin_id = built_dir.name
        with self.lock:
            if plugin_id in self.plugins.loaded:
                self.plugins.unload(plugin_id)
            dest = self.plugins.plugins_dir / plugin_id
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(built_dir, dest, symlinks=True)
            plugin = self._load(plugin_id)
            self._configure_plugin_devices(plugin_id)
            return plugin

    def pg_uninstall(self, plugin_id: str) -> None:
        """Uninstall and unload a plugin; its devices become unconfigured."""
        with self.lock:
            if not self.plugins.is_installed(plugin_id):
                raise PluginStateError(f"plugin {plugin_id} is not installed")
            self.plugins.uninstall(plugin_id)
            if plugin_id in self.plugins.loaded:
                self.plugins.unload(plugin_id)
            for device in self.devices.find(plugin=plugin_id, configured=True):
                device["configured"] = False
                self.devices.update(device)

    def pg_reload(self, plugin_id: str) -> None:
        """Reload an installed plugin (e.g. after editing it) and reconfigure its devices."""
        with self.lock:
            if not self.plugins.is_installed(plugin_id):
                raise PluginStateError(f"plugin {plugin_id} is not installed")
            if plugin_id in self.plugins.loaded:
                self.plugins.unload(plugin_id)
            self._load(plugin_id)
            self._configure_plugin_devices(plugin_id)

    def plugin(self, plugin_id: str) -> LoadedPlugin:
        """A loaded plugin (PluginStateError when not loaded)."""
        plugin = self.plugins.loaded.get(plugin_id)
        if plugin is None:
            raise PluginStateError(f"plugin {plugin_id} is not loaded")
        return plugin

    def close(self) -> None:
        """Unload every plugin."""
        with self.lock:
            self.plugins.close()
