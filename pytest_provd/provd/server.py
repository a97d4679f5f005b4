"""The embedded provd on loopback: :class:`EmbeddedProvd` serves a :class:`ProvdApp`.

The REST API and the TFTP server share one asyncio loop in a background thread, their
blocking plugin calls run on a small thread pool; the provisioning HTTP server serves each
connection on a thread of its own pool.  This module sits above both the application
(:mod:`pytest_provd.provd.domain`) and its servers (:mod:`pytest_provd.provd.servers`), which
know nothing of each other's start-up.

A crash of the harness's own code while serving is recorded (:attr:`EmbeddedProvd.server_errors`)
and :meth:`EmbeddedProvd.check` raises it; the ``provd`` fixture calls it after each test.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import shutil
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from pytest_provd import tree
from pytest_provd.firmware import FIRMWARE_DIR_CFG
from pytest_provd.provd.domain.app import ProvdApp
from pytest_provd.provd.domain.configs import ConfigManager
from pytest_provd.provd.domain.devices import DeviceManager
from pytest_provd.provd.domain.faults import ServerFault, ServerFaultError
from pytest_provd.provd.domain.pipeline import Pipeline
from pytest_provd.provd.plugins.manager import LoadedPlugin, PluginManager
from pytest_provd.provd.servers.http import provisioning_server
from pytest_provd.provd.servers.rest import make_rest_app
from pytest_provd.provd.servers.tftp import TftpServer

JsonDict = dict[str, Any]
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

__all__ = ["EmbeddedProvd", "ServerFault", "ServerFaultError"]


class EmbeddedProvd:
    """A provd-compatible server on loopback, for tests: REST, provisioning HTTP and TFTP.

    ``with EmbeddedProvd() as provd:`` or ``provd = EmbeddedProvd(state_dir).start()`` then
    ``provd.close()``.  Ports are chosen free unless given.  *firmware_dir* is a cache of real
    firmware files plugins install packages from (default: synthetic firmware).
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
        firmware_dir: Path | None = None,
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
        self._firmware_dir = firmware_dir
        self.set_firmware_dir(firmware_dir)
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
        self.targets: list[tree.Target] = []
        """The build targets ``--provd-plugin`` selected (set by the ``provd`` fixture)."""
        self.builder: Callable[[tree.Target], Path] | None = None
        """What :meth:`build` uses instead of building into the state dir."""

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

    @property
    def server_errors(self) -> list[ServerFault]:
        """Crashes of the harness's own code while serving, since the last reset.

        A handler that raised unexpectedly (a 500 of the REST API or the provisioning HTTP
        server, a dropped TFTP transfer, a failed operation) is listed with the request and
        the end of its traceback.  A client's bad input (4xx) and a plugin's own errors are not.
        """
        return self.app.faults.items()

    def check(self) -> None:
        """Raise :class:`ServerFaultError` listing :attr:`server_errors`, if there are any.

        The ``provd`` fixture calls it when each test ends, as pytest-httpserver's ``check()``.
        """
        __tracebackhide__ = True  # the report is the fault list, not this frame
        faults = self.app.faults.items()
        if faults:
            raise ServerFaultError(faults, self.app.faults.dropped)

    def set_firmware_dir(self, firmware_dir: Path | None) -> None:
        """Where plugins loaded from now on take real firmware files (None: synthetic).

        It travels in the ``gen_cfg`` plugins receive, as provd's general configuration does;
        :meth:`reset` restores the constructor's value.
        """
        if firmware_dir is None:
            self.app.gen_cfg.pop(FIRMWARE_DIR_CFG, None)
        else:
            self.app.gen_cfg[FIRMWARE_DIR_CFG] = str(Path(firmware_dir).resolve())

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
        self._stop = asyncio.Event()
        runner: web.AppRunner | None = None
        http_server = None
        tftp: TftpServer | None = None
        try:
            try:
                assert self._executor is not None
                rest = make_rest_app(self.app, self._executor, self.token, self.max_body)
                runner = web.AppRunner(rest, access_log=None, handle_signals=False)
                await runner.setup()
                site = web.TCPSite(runner, self.bind, self._ports["rest"], reuse_address=False)
                await site.start()
                self.rest_url = f"http://{self.bind}:{runner.addresses[0][1]}/provd"
                http_server = provisioning_server(self.app.pipeline)
                http_port = http_server.start(self.bind, self._ports["http"])
                self.http_url = f"http://{self.bind}:{http_port}/"
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
            if http_server is not None:
                http_server.close()
            if runner is not None:
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
        """Forget devices, configs (defaults come back), plugins, parameters, the log and
        :attr:`server_errors`; the firmware directory goes back to the constructor's."""
        self.app.reset(with_defaults=self._with_defaults)
        self.set_firmware_dir(self._firmware_dir)

    def add_tenant(self, tenant_uuid: str, parent: str | None = None) -> None:
        """Declare a tenant (below *parent*, default the provd's own tenant ``MASTER_TENANT``).

        There is no wazo-auth here: this tree is what ``Wazo-Tenant`` headers and
        ``recurse=true`` are checked against.
        """
        self.app.add_tenant(tenant_uuid, parent)

    def install_plugin_from_tree(
        self, target: tree.Target | str | Path, build_root: Path | None = None
    ) -> LoadedPlugin:
        """Install a plugin built from the working tree: a ``tree.Target`` or a built directory."""
        if isinstance(target, str | Path):
            return self.app.pg_install_dir(Path(target))
        root = build_root or (self.state_dir / "builds")
        return self.app.pg_install_dir(tree.build(target, root))

    def build(self, target: tree.Target) -> Path:
        """The built directory of *target* (the run's shared build with ``--provd-plugin``)."""
        if self.builder is not None:
            return self.builder(target)
        return tree.build(target, self.state_dir / "builds")

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
