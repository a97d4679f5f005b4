"""The embedded provd: provisioning logic (``ProvdApp``) and its servers (``EmbeddedProvd``).

:class:`ProvdApp` keeps configs, devices, parameters and plugins and applies provd's rules:
devices are (de)configured when a key the plugin depends on changes, configs changes
reconfigure every device below them, a transient config goes with its last device, plugin
(un)installs reconfigure their devices.  Everything runs under one re-entrant lock, as provd
serialises work on its reactor thread.

:class:`EmbeddedProvd` serves it over loopback: the REST API, the provisioning HTTP server and
the TFTP server share one asyncio loop in a background thread; blocking plugin calls run on a
small thread pool.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import re
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_provd.problems import ProvdHarnessError, SourceError
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
    Pipeline,
    UnknownDevice,
    needs_reconfiguration,
    validate_device,
)
from pytest_provd.provd.plugins.manager import LoadedPlugin, PluginError, PluginManager
from pytest_provd.provd.plugins.rawconfig import apply_defaults

if TYPE_CHECKING:
    from pytest_provd.provd.servers.tftp import TftpServer

JsonDict = dict[str, Any]
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class ParameterError(ProvdHarnessError):
    """A configure parameter value provd would refuse (HTTP 400)."""


class UnknownParameter(ProvdHarnessError, KeyError):
    """No configure parameter with that name (HTTP 404)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown parameter"


class UnknownTenant(ProvdHarnessError):
    """A ``Wazo-Tenant`` the server does not know (HTTP 401, as wazo-auth answers)."""


MASTER_TENANT = "7f8e1a3c-0d2b-4c55-9f61-2e4d8b6a0001"
"""The embedded provd's own tenant: where new and auto-created devices live."""
_URL_SAFE = re.compile(r"^[a-zA-Z0-9\-$~.]+$")


class PluginStateError(ProvdHarnessError):
    """A plugin operation that does not apply (already installed, not installed...)."""


def _check_url(value: str, *, allow_path: bool, allow_dir: bool) -> None:
    if allow_dir and (value.startswith(("/", "file://"))):
        return
    parts = urllib.parse.urlsplit(value)
    if not parts.scheme:
        raise ParameterError(f"no scheme: {value}")
    if not parts.hostname:
        raise ParameterError(f"no hostname: {value}")
    if not allow_path and parts.path not in ("", "/"):
        raise ParameterError(f"path: {value}")


class ProvdApp:
    """provd's provisioning application, in memory."""

    PARAMS = (
        "plugin_server",
        "http_proxy",
        "https_proxy",
        "ftp_proxy",
        "locale",
        "NAT",
        "provisioning_key",
    )

    def __init__(self, plugins_dir: Path, base_raw_config: JsonDict | None = None) -> None:
        self.lock = threading.RLock()
        self.base_raw_config: JsonDict = dict(base_raw_config or {})
        self.configs = ConfigManager(self.base_raw_config)
        self.devices = DeviceManager()
        self.proxies: dict[str, str] = {}
        self.params: JsonDict = {"plugin_server": None, "locale": None, "NAT": 0}
        self.plugins = PluginManager(plugins_dir, gen_cfg={"proxies": self.proxies}, app=self)
        self.pipeline = Pipeline(self)
        self.installable_cache: dict[str, JsonDict] = {}
        self.config_errors: dict[str, str] = {}
        """Why the last configure of a device (by id) failed; cleared on success."""
        self.tenant_uuid = MASTER_TENANT
        # No wazo-auth here: the tenant tree is declared with add_tenant().
        self.tenant_parents: dict[str, str | None] = {MASTER_TENANT: None}
        self.tenants: dict[str, JsonDict] = {MASTER_TENANT: {}}
        self.use_provisioning_key = False
        """provd's ``http_auth_strategy: url_key``: provisioning URLs start with a tenant key."""

    @property
    def nat(self) -> int:
        """provd's NAT parameter: 1 keeps several devices on one IP."""
        return int(self.params.get("NAT") or 0)

    def set_base_raw_config(self, raw: JsonDict) -> None:
        """Replace the server-level raw config every config inherits (ip, ports, base URL)."""
        check_base_raw_config(raw)
        self.base_raw_config.clear()
        self.base_raw_config.update(raw)

    def reset(self, *, with_defaults: bool = True) -> None:
        """Back to a fresh server: no devices, plugins or operations; default configs."""
        with self.lock:
            self.plugins.close()
            for child in self.plugins.plugins_dir.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
            self.devices.clear()
            self.configs.clear()
            if with_defaults:
                self.configs.load(default_configs(str(self.base_raw_config.get("ip", ""))))
            self.proxies.clear()
            self.params.update({"plugin_server": None, "locale": None, "NAT": 0})
            self.installable_cache.clear()
            self.config_errors.clear()
            self.pipeline.log.clear()
            self.tenant_parents = {self.tenant_uuid: None}
            self.tenants = {self.tenant_uuid: {}}

    # tenants -------------------------------------------------------------------------------

    def add_tenant(self, tenant_uuid: str, parent: str | None = None) -> None:
        """Declare a tenant below *parent* (the provd's own tenant by default)."""
        if not isinstance(tenant_uuid, str) or not tenant_uuid.strip():
            raise ParameterError("a tenant needs a non-empty uuid")
        parent = parent or self.tenant_uuid
        with self.lock:
            if parent not in self.tenant_parents:
                raise UnknownTenant(f"no tenant {parent!r}")
            if tenant_uuid in self.tenant_parents:
                raise ParameterError(f"tenant {tenant_uuid!r} exists already")
            self.tenant_parents[tenant_uuid] = parent
            self.tenants.setdefault(tenant_uuid, {})

    def check_tenant(self, tenant_uuid: str | None) -> str:
        """*tenant_uuid* if known, the provd's own tenant if None (UnknownTenant)."""
        if tenant_uuid is None:
            return self.tenant_uuid
        if tenant_uuid not in self.tenant_parents:
            raise UnknownTenant(f"unknown tenant {tenant_uuid!r}")
        return tenant_uuid

    def tenant_tree(self, tenant_uuid: str) -> list[str]:
        """*tenant_uuid* and every tenant below it."""
        found = [tenant_uuid]
        for current in found:  # grows as children are found; the tree has no cycles
            found += [t for t, p in self.tenant_parents.items() if p == current]
        return found

    def tenant_of_key(self, key: str) -> str | None:
        """The tenant whose ``provisioning_key`` is *key*."""
        for tenant, config in self.tenants.items():
            if key and config.get("provisioning_key") == key:
                return tenant
        return None

    def _set_provisioning_key(self, value: Any, tenant: str) -> None:
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"provisioning_key takes a string, not {type(value).__name__}")
        if value:
            if not 8 <= len(value) <= 256:
                raise ParameterError("`provisioning_key` should be [8, 256] characters long.")
            if not _URL_SAFE.match(value):
                raise ParameterError(
                    "`provisioning_key` should only contain the following characters: "
                    "`a-z, A-Z, 0-9, -, $, ~, .`"
                )
            owner = self.tenant_of_key(value)
            if owner and owner != tenant:
                raise ParameterError("another tenant already uses this provisioning key.")
        self.tenants.setdefault(tenant, {})["provisioning_key"] = value or None

    # configure service ---------------------------------------------------------------------

    def get_param(self, name: str, tenant: str | None = None) -> Any:
        """A configure parameter's value (UnknownParameter); some are per tenant."""
        if name not in self.PARAMS:
            raise UnknownParameter(f"no parameter {name!r}")
        if name == "provisioning_key":
            return self.tenants.get(tenant or self.tenant_uuid, {}).get("provisioning_key")
        if name.endswith("_proxy"):
            return self.proxies.get(name[: -len("_proxy")])
        return self.params.get(name)

    def set_param(self, name: str, value: Any, tenant: str | None = None) -> None:
        """Set a configure parameter, checked as provd checks it."""
        if name not in self.PARAMS:
            raise UnknownParameter(f"no parameter {name!r}")
        if name == "provisioning_key":
            with self.lock:
                self._set_provisioning_key(value, tenant or self.tenant_uuid)
            return
        if name == "NAT":
            if value not in (0, 1, None):
                raise ParameterError(f"NAT must be 0 or 1, not {value!r}")
            self.params["NAT"] = value or 0
            return
        if value is not None and not isinstance(value, str):
            raise ParameterError(f"{name} takes a string or null, not {type(value).__name__}")
        if value == "":
            value = None
        if name == "plugin_server" and value is not None:
            _check_url(value, allow_path=True, allow_dir=True)
        elif name.endswith("_proxy") and value is not None:
            _check_url(value, allow_path=False, allow_dir=False)
        elif name == "locale" and value is not None and len(value) not in (2, 5):
            raise ParameterError(f"invalid locale {value!r}")
        if name.endswith("_proxy"):
            key = name[: -len("_proxy")]
            if value is None:
                self.proxies.pop(key, None)
            else:
                self.proxies[key] = value
        else:
            self.params[name] = value

    def describe_params(self, tenant: str | None = None) -> list[JsonDict]:
        """The ``params`` list of ``GET /configure``."""
        return [{"id": name, "value": self.get_param(name, tenant)} for name in self.PARAMS]

    # configuring devices -------------------------------------------------------------------

    def _plugin_of(self, device: JsonDict) -> LoadedPlugin | None:
        return self.plugins.loaded.get(str(device.get("plugin") or ""))

    def _configure(self, device: JsonDict, plugin: LoadedPlugin, raw: JsonDict) -> bool:
        raw = apply_defaults(copy.deepcopy(raw))
        if self.use_provisioning_key:
            tenant = device.get("tenant_uuid")
            key = self.tenants.get(str(tenant), {}).get("provisioning_key")
            if not key:
                self.config_errors[str(device.get("id"))] = (
                    f"provisioning keys are in use and tenant {tenant!r} of the device has no "
                    "provisioning_key"
                )
                return False
            raw["http_base_url"] = f"{raw.get('http_base_url', '')}/{key}"
        try:
            validate_raw_config(raw)
            plugin.configure(device, raw)
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
            checked["tenant_uuid"] = checked.get("tenant_uuid") or self.tenant_uuid
            checked["is_new"] = checked["tenant_uuid"] == self.tenant_uuid
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
            checked["is_new"] = checked["tenant_uuid"] == self.tenant_uuid
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
        for device in self.devices.all():
            if device.get("config") not in affected:
                continue
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

    def _server(self) -> str:
        server = self.params.get("plugin_server")
        if not server:
            raise ParameterError("no plugin_server configured (PUT /configure/plugin_server)")
        return str(server)

    def pg_update(self) -> None:
        """Fetch ``plugins.db`` from the plugin server (SourceError when unusable)."""
        installable = self.plugins.installable(self._server())
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
        self.plugins.install_from_server(self._server(), plugin_id)
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


class EmbeddedProvd:
    """A provd-compatible server on loopback, for tests: REST, provisioning HTTP and TFTP.

    ``with EmbeddedProvd() as provd:`` or ``provd = EmbeddedProvd(state_dir).start()`` then
    ``provd.close()``.  Ports are chosen free unless given.
    """

    __test__ = False

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        bind: str = "127.0.0.1",
        rest_port: int = 0,
        http_port: int = 0,
        tftp_port: int = 0,
        token: str | None = None,
        default_configs: bool = True,
        max_body: int = 1024 * 1024,
        workers: int = 8,
        tftp_timeout: float = 1.0,
        tftp_retries: int = 5,
        tftp_max_sessions: int = 1024,
        http_auth_strategy: str | None = None,
    ) -> None:
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="provd-embedded-"))
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.plugins_dir = self.state_dir / "plugins"
        self.bind = bind
        self.token = token
        self.max_body = max_body
        self._ports = {"rest": rest_port, "http": http_port, "tftp": tftp_port}
        self._with_defaults = default_configs
        self._workers = workers
        self._tftp_limits = (tftp_timeout, tftp_retries, tftp_max_sessions)
        self.tftp: TftpServer | None = None
        if http_auth_strategy not in (None, "url_key"):
            raise ValueError(f"http_auth_strategy is None or 'url_key', not {http_auth_strategy!r}")
        self.app = ProvdApp(self.plugins_dir)
        self.app.use_provisioning_key = http_auth_strategy == "url_key"
        self.rest_url = ""
        self.http_url = ""
        self.tftp_address: tuple[str, int] = (bind, 0)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._stop: asyncio.Event | None = None
        self._closed = False
        self.ready_seconds: float | None = None

    # shortcuts ---------------------------------------------------------------------------

    @property
    def plugins(self) -> PluginManager:
        """The plugin manager (``plugins.loaded`` maps ids to loaded plugins)."""
        return self.app.plugins

    @property
    def pipeline(self) -> Pipeline:
        """The request pipeline; ``pipeline.log`` lists every DHCP/HTTP/TFTP request."""
        return self.app.pipeline

    @property
    def configs(self) -> ConfigManager:
        """The config manager."""
        return self.app.configs

    @property
    def devices(self) -> DeviceManager:
        """The device manager."""
        return self.app.devices

    # life cycle --------------------------------------------------------------------------

    def start(self) -> EmbeddedProvd:
        """Start the three servers; returns once they all accept requests."""
        if self._thread is not None:
            return self
        began = time.perf_counter()
        ready = concurrent.futures.Future[None]()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            self._workers, thread_name_prefix="provd-worker"
        )
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="provd-embedded", daemon=True
        )
        self._thread.start()
        try:
            ready.result(START_TIMEOUT)
        except BaseException as exc:
            self.close()
            raise RuntimeError(f"embedded provd did not start: {exc!r}") from exc
        http_port = int(urllib.parse.urlsplit(self.http_url).port or 0)
        self.app.set_base_raw_config(
            {
                "ip": self.bind,
                "http_port": http_port,
                "tftp_port": self.tftp_address[1],
                "http_base_url": self.http_url.rstrip("/"),
            }
        )
        self.app.reset(with_defaults=self._with_defaults)
        self.ready_seconds = time.perf_counter() - began
        return self

    def _run(self, ready: concurrent.futures.Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(ready))
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _serve(self, ready: concurrent.futures.Future[None]) -> None:
        from aiohttp import web

        from pytest_provd.provd.servers.http import make_http_app
        from pytest_provd.provd.servers.rest import make_rest_app
        from pytest_provd.provd.servers.tftp import TftpServer

        self._stop = asyncio.Event()
        runners: list[web.AppRunner] = []
        tftp: TftpServer | None = None
        try:
            try:
                assert self._executor is not None
                apps = {
                    "rest": make_rest_app(self.app, self._executor, self.token, self.max_body),
                    "http": make_http_app(self.app.pipeline, self._executor),
                }
                for name, web_app in apps.items():
                    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
                    await runner.setup()
                    runners.append(runner)
                    site = web.TCPSite(runner, self.bind, self._ports[name], reuse_address=False)
                    await site.start()
                    port = runner.addresses[0][1]
                    if name == "rest":
                        self.rest_url = f"http://{self.bind}:{port}/provd"
                    else:
                        self.http_url = f"http://{self.bind}:{port}/"
                timeout, retries, max_sessions = self._tftp_limits
                tftp = TftpServer(
                    self.app.pipeline,
                    self._executor,
                    timeout=timeout,
                    retries=retries,
                    max_sessions=max_sessions,
                )
                self.tftp = tftp
                self.tftp_address = await tftp.start(self.bind, self._ports["tftp"])
            except BaseException as exc:
                ready.set_exception(exc)
                return
            ready.set_result(None)
            await self._stop.wait()
        finally:
            if tftp is not None:
                await tftp.close()
            for runner in reversed(runners):
                await runner.cleanup()

    def close(self) -> None:
        """Stop the servers, unload plugins, remove an own temporary state dir (idempotent)."""
        if self._closed:
            return
        self._closed = True
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self.app.close()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedProvd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # helpers for tests -------------------------------------------------------------------

    def reset(self) -> None:
        """Forget devices, configs (defaults come back), plugins, parameters and the log."""
        self.app.reset(with_defaults=self._with_defaults)

    def add_tenant(self, tenant_uuid: str, parent: str | None = None) -> None:
        """Declare a tenant (below *parent*, default the provd's own tenant ``MASTER_TENANT``).

        There is no wazo-auth here: this tree is what ``Wazo-Tenant`` headers and
        ``recurse=true`` are checked against.
        """
        self.app.add_tenant(tenant_uuid, parent)

    def install_plugin_from_tree(self, target: Any, build_root: Path | None = None) -> LoadedPlugin:
        """Install a plugin built from the working tree: a ``tree.Target`` or a built directory."""
        if isinstance(target, str | Path):
            return self.app.pg_install_dir(Path(target))
        from pytest_provd import tree

        root = build_root or (self.state_dir / "builds")
        return self.app.pg_install_dir(tree.build(target, root))

    def install_plugin_dir(self, built_dir: Path) -> LoadedPlugin:
        """Install a built plugin directory and load it."""
        return self.app.pg_install_dir(Path(built_dir))

    def install_plugin(self, plugin_id: str) -> LoadedPlugin:
        """Install *plugin_id* from the ``plugin_server`` parameter (reinstalls if present)."""
        if self.app.plugins.is_installed(plugin_id):
            self.app.pg_uninstall(plugin_id)
        self.app.pg_install(plugin_id)
        return self.app.plugin(plugin_id)

    def create_config(
        self,
        raw_config: JsonDict,
        *,
        parent_ids: list[str] | tuple[str, ...] = ("base", "defaultconfigdevice"),
        config_id: str | None = None,
        **fields: Any,
    ) -> str:
        """Add a config (children of base and defaultconfigdevice by default); returns its id."""
        config: JsonDict = {"parent_ids": list(parent_ids), "raw_config": raw_config, **fields}
        if config_id:
            config["id"] = config_id
        return self.app.cfg_insert(config)

    def create_device(self, **fields: Any) -> str:
        """Add a device; a device with a known model gets its plugin as a phone request would."""
        if "plugin" not in fields and fields.get("vendor"):
            plugin_id = self.app.plugins.associate(fields)
            if plugin_id:
                fields["plugin"] = plugin_id
        return self.app.dev_insert(fields)

    def device(self, device_id: str) -> JsonDict:
        """A device by id."""
        return self.app.devices.get(device_id)

    def find_device(self, **fields: Any) -> JsonDict | None:
        """The first device whose fields equal *fields*, or None."""
        found = self.app.devices.find(**fields)
        return found[0] if found else None

    def call(self, fun: Callable[..., Any], *args: Any) -> Any:
        """Run *fun* under the application lock (consistent reads during traffic)."""
        with self.app.lock:
            return fun(*args)

    def snapshot(self) -> JsonDict:
        """Devices, configs, configure errors and the request log as plain data."""
        with self.app.lock:
            return copy.deepcopy(
                {
                    "devices": self.app.devices.all(),
                    "configs": self.app.configs.all(),
                    "config_errors": self.app.config_errors,
                    "log": self.app.pipeline.log,
                }
            )


__all__ = [
    "ConfigError",
    "DeviceError",
    "EmbeddedProvd",
    "ParameterError",
    "PluginStateError",
    "ProvdApp",
    "SourceError",
    "UnknownDevice",
    "UnknownParameter",
]
