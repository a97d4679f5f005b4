"""The embedded provd: REST API, provisioning HTTP and TFTP servers on loopback.

:class:`EmbeddedProvd` runs an aiohttp event loop in a background thread (REST on one port,
provisioning HTTP on another) and a tftpy server in a second thread.  Every phone request goes
through the device pipeline: identification by the loaded plugins' own extractors (HTTP
User-Agent, TFTP file name, DHCP options), device retrieval or creation, association with the
best plugin (its ``pg_associator``), configuration with the device's raw config, and routing
to that plugin's HTTP or TFTP service.  Plugin calls are serialised by one lock, as provd's
single reactor thread serialises them.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
import shutil
import socket
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from aiohttp import web

from pytest_provd.embedded.pluginmgr import (
    HttpRequestInfo,
    LoadedPlugin,
    PluginError,
    PluginManager,
    TftpRequestInfo,
)
from pytest_provd.embedded.state import (
    ConfigStore,
    DeviceStore,
    InvalidResource,
    UnknownResource,
    norm_mac,
)
from pytest_provd.problems import SourceError

logger = logging.getLogger(__name__)
# tftpy logs every "file not found" as a fatal error; the pipeline log records them instead.
logging.getLogger("tftpy").setLevel(logging.CRITICAL)

MEDIA_TYPE = "application/vnd.proformatique.provd+json"
MAX_BODY = 1024 * 1024
_START_TIMEOUT = 10.0
_MIN_SUPPORT = 300


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type=MEDIA_TYPE, headers=headers
    )


def _error(status: int, message: str) -> web.Response:
    return _json({"error": message}, status)


class Pipeline:
    """Identify, retrieve or create, associate, configure, route: provd's request handling."""

    def __init__(self, provd: EmbeddedProvd) -> None:
        self.provd = provd
        self.lock = threading.RLock()
        self.log: list[dict[str, Any]] = []

    def _identify(self, extract: Callable[[LoadedPlugin], dict[str, Any] | None]) -> dict[str, Any]:
        info: dict[str, Any] = {}
        for plugin in self.provd.plugins.loaded.values():
            try:
                found = extract(plugin)
            except PluginError as exc:
                logger.warning("%s", exc)
                continue
            for key, value in (found or {}).items():
                # The most complete answer wins: keep what an earlier plugin found.
                info.setdefault(key, value)
        if "mac" in info:
            try:
                info["mac"] = norm_mac(str(info["mac"]))
            except InvalidResource:
                del info["mac"]
        return info

    def device_for(self, info: dict[str, Any], client_ip: str) -> dict[str, Any] | None:
        """The device *info* designates, created and configured as provd would."""
        devices = self.provd.devices
        info = dict(info)
        info.setdefault("ip", client_ip)
        device = devices.retrieve(info)
        if device is None:
            if not info.get("mac") and not info.get("sn") and not info.get("uuid"):
                return None
            new = {k: v for k, v in info.items() if k in ("mac", "ip", "sn", "uuid")}
            new.update({k: info[k] for k in ("vendor", "model", "version") if k in info})
            new["added"] = "auto"
            config_id = self.provd.configs.autocreate()
            if config_id is not None:
                new["config"] = config_id
            device = devices.get(devices.add(new))
        changed = False
        for key in ("ip", "vendor", "model", "version", "sn", "uuid"):
            if key in info and device.get(key) != info[key]:
                device[key] = info[key]
                changed = True
        if not device.get("plugin") or changed:
            plugin_id = self.provd.plugins.associate(device, _MIN_SUPPORT)
            if plugin_id and plugin_id != device.get("plugin"):
                device["plugin"] = plugin_id
                device["configured"] = False
        if device.get("plugin") and not device.get("configured"):
            self.provd.configure_device(device)
        return device

    def http(self, req: HttpRequestInfo) -> tuple[int, dict[str, str], bytes]:
        """Serve a provisioning HTTP request."""
        with self.lock:
            info = self._identify(lambda p: p.identify_http(req))
            device = self.device_for(info, req.client_ip)
            plugin = self._plugin_of(device)
            entry: dict[str, Any] = {"proto": "http", "path": req.path, "ip": req.client_ip}
            entry["info"] = info
            self.log.append(entry)
            if plugin is None:
                entry["status"] = 404
                return 404, {"Content-Type": "text/plain"}, b"no plugin for this device\n"
            reply = plugin.serve_http(req, device)
            entry.update(status=reply.status, plugin=plugin.id, device=(device or {}).get("id"))
            return reply.status, dict(reply.headers), reply.body

    def tftp(self, filename: str, client_ip: str) -> bytes | None:
        """Serve a TFTP read request (None = file not found)."""
        with self.lock:
            req = TftpRequestInfo(filename, client_ip, {})
            info = self._identify(lambda p: p.identify_tftp(req))
            device = self.device_for(info, client_ip)
            plugin = self._plugin_of(device)
            entry: dict[str, Any] = {"proto": "tftp", "path": filename, "ip": client_ip}
            entry["info"] = info
            self.log.append(entry)
            if plugin is None:
                entry["status"] = 404
                return None
            try:
                data = plugin.serve_tftp(req, device)
            except FileNotFoundError:
                entry["status"] = 404
                return None
            entry.update(status=200, plugin=plugin.id)
            return data

    def dhcp(self, dhcp: dict[str, Any]) -> dict[str, Any] | None:
        """Take a DHCP commit pushed by the DHCP server hook."""
        with self.lock:
            info = self._identify(lambda p: p.identify_dhcp(dhcp))
            if dhcp.get("mac"):
                info.setdefault("mac", norm_mac(str(dhcp["mac"])))
            return self.device_for(info, str(dhcp.get("ip", "")))

    def _plugin_of(self, device: dict[str, Any] | None) -> LoadedPlugin | None:
        if device is None:
            plugins = list(self.provd.plugins.loaded.values())
            return plugins[0] if len(plugins) == 1 else None
        return self.provd.plugins.loaded.get(str(device.get("plugin")))


class EmbeddedProvd:
    """A provd-compatible server for tests: start it, install plugins, point phones at it."""

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        bind: str = "127.0.0.1",
        rest_port: int = 0,
        http_port: int = 0,
        tftp_port: int = 0,
        token: str | None = None,
    ) -> None:
        self._own_dir = state_dir is None
        self.state_dir = Path(state_dir or tempfile.mkdtemp(prefix="provd-embedded-"))
        self.bind = bind
        self._ports = {"rest": rest_port, "http": http_port, "tftp": tftp_port}
        self.token = token
        self.configs = ConfigStore()
        self.devices = DeviceStore()
        self.params: dict[str, Any] = {"plugin_server": None, "http_proxy": None, "locale": None}
        self.plugins = PluginManager(self.state_dir / "plugins", gen_cfg={"proxies": {}})
        self.pipeline = Pipeline(self)
        self.operations: dict[str, dict[str, Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._tftp: Any = None
        self._tftp_thread: threading.Thread | None = None
        self.rest_url = self.http_url = ""
        self.tftp_address: tuple[str, int] = (bind, 0)
        self._add_default_configs()

    def _add_default_configs(self) -> None:
        base = {
            "ip": self.bind,
            "http_port": 0,
            "tftp_port": 0,
            "ntp_enabled": False,
        }
        self.configs.add({"id": "base", "parent_ids": [], "raw_config": base, "deletable": False})
        self.configs.add(
            {"id": "defaultconfigdevice", "parent_ids": [], "raw_config": {}, "deletable": False}
        )

    # life cycle -----------------------------------------------------------------------------

    def start(self) -> EmbeddedProvd:
        """Start the three servers; returns when they accept requests."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._start_web())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._stop_web())
            loop.close()

        self._thread = threading.Thread(target=run, name="provd-embedded", daemon=True)
        self._thread.start()
        if not ready.wait(_START_TIMEOUT) or failure:
            self.close()
            raise RuntimeError(f"embedded provd did not start: {failure or 'time-out'}")
        self._start_tftp()
        base = self.configs.configs["base"]["raw_config"]
        base["http_port"] = int(self.http_url.rsplit(":", 1)[1].rstrip("/"))
        base["tftp_port"] = self.tftp_address[1]
        base["http_base_url"] = self.http_url.rstrip("/")
        return self

    async def _start_web(self) -> None:
        for name, app in (("rest", self._rest_app()), ("http", self._http_app())):
            runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await runner.setup()
            site = web.TCPSite(runner, self.bind, self._ports[name])
            await site.start()
            self._runners.append(runner)
            server = site._server
            assert server is not None and isinstance(server, asyncio.base_events.Server)
            port = server.sockets[0].getsockname()[1]
            if name == "rest":
                self.rest_url = f"http://{self.bind}:{port}/provd"
            else:
                self.http_url = f"http://{self.bind}:{port}/"

    async def _stop_web(self) -> None:
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()

    def _start_tftp(self) -> None:
        import tftpy

        root = self.state_dir / "tftp-empty-root"
        root.mkdir(parents=True, exist_ok=True)

        def serve(filename: str, raddress: str = "", rport: int = 0) -> io.BytesIO | None:
            name = filename.replace("\\", "/")
            if "\0" in name or ".." in name.split("/"):
                return None
            data = self.pipeline.tftp(name.lstrip("/"), raddress)
            return io.BytesIO(data) if data is not None else None

        def refuse_upload(path: str, context: Any) -> None:
            # Without this hook tftpy writes uploads into its root: provisioning is read-only.
            return None

        self._tftp = tftpy.TftpServer(str(root), dyn_file_func=serve, upload_open=refuse_upload)
        self._tftp_thread = threading.Thread(
            target=self._tftp.listen,
            kwargs={"listenip": self.bind, "listenport": self._ports["tftp"], "timeout": 2},
            name="provd-tftp",
            daemon=True,
        )
        self._tftp_thread.start()
        if not self._tftp.is_running.wait(_START_TIMEOUT):
            raise RuntimeError("embedded provd TFTP server did not start")
        self.tftp_address = (self.bind, int(self._tftp.listenport))

    def close(self) -> None:
        """Stop the servers and unload plugins (idempotent)."""
        if self._tftp is not None:
            self._tftp.stop(now=True)
            # tftpy checks its stop flag between selects: a datagram wakes it at once.
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as wake:
                wake.sendto(b"\x00\x09", self.tftp_address)
            if self._tftp_thread is not None:
                self._tftp_thread.join(5)
            self._tftp = None
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None
        self.plugins.close()
        if self._own_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedProvd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # provd operations -----------------------------------------------------------------------

    def install_plugin_dir(self, built_dir: Path) -> LoadedPlugin:
        """Install a built plugin directory (from the working tree) and load it."""
        dest = self.plugins.plugins_dir / built_dir.name
        if built_dir.name in self.plugins.loaded:
            self.plugins.unload(built_dir.name)
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(built_dir, dest, symlinks=True)
        plugin = self.plugins.load(built_dir.name)
        plugin.configure_common(self.configs.raw("base"))
        return plugin

    def install_plugin(self, plugin_id: str) -> LoadedPlugin:
        """Install *plugin_id* from the configured plugin server and load it."""
        server = self.params.get("plugin_server")
        if not server:
            raise InvalidResource("no plugin_server configured")
        if plugin_id in self.plugins.loaded:
            self.plugins.unload(plugin_id)
        self.plugins.install_from_server(str(server), plugin_id)
        plugin = self.plugins.load(plugin_id)
        plugin.configure_common(self.configs.raw("base"))
        return plugin

    def configure_device(self, device: dict[str, Any]) -> None:
        """Configure *device* with its plugin and raw config (provd's device update step)."""
        plugin = self.plugins.loaded.get(str(device.get("plugin")))
        config_id = device.get("config")
        if plugin is None or not config_id or config_id not in self.configs.configs:
            device["configured"] = False
            return
        raw = self.configs.raw("base")
        from pytest_provd.embedded.state import deep_update

        deep_update(raw, self.configs.raw(str(config_id)))
        try:
            plugin.configure(device, raw)
        except PluginError as exc:
            logger.warning("configure %s: %s", device.get("id"), exc)
            device["configured"] = False
            device["error"] = str(exc)
            return
        device["configured"] = True

    def create_config(self, raw_config: dict[str, Any], *, config_id: str | None = None) -> str:
        """Add a config inheriting from ``base``; returns its id."""
        config: dict[str, Any] = {"parent_ids": ["base"], "raw_config": raw_config}
        if config_id:
            config["id"] = config_id
        return self.configs.add(config)

    def create_device(self, **fields: Any) -> str:
        """Add a device; associates and configures it when it has a plugin or a model."""
        device_id = self.devices.add(fields)
        device = self.devices.get(device_id)
        with self.pipeline.lock:
            if not device.get("plugin"):
                device["plugin"] = self.plugins.associate(device, _MIN_SUPPORT)
            self.configure_device(device)
        return device_id

    # REST -----------------------------------------------------------------------------------

    def _rest_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY, middlewares=[self._errors])
        r = app.router
        r.add_get("/provd", self._root)
        r.add_get("/provd/status", self._status)
        r.add_get("/provd/configure", self._params)
        r.add_get("/provd/configure/{name}", self._param)
        r.add_put("/provd/configure/{name}", self._set_param)
        r.add_get("/provd/dev_mgr/devices", self._devices)
        r.add_post("/provd/dev_mgr/devices", self._add_device)
        r.add_get("/provd/dev_mgr/devices/{id}", self._device)
        r.add_put("/provd/dev_mgr/devices/{id}", self._put_device)
        r.add_delete("/provd/dev_mgr/devices/{id}", self._del_device)
        r.add_post("/provd/dev_mgr/dhcpinfo", self._dhcpinfo)
        r.add_post("/provd/dev_mgr/reconfigure", self._reconfigure)
        r.add_post("/provd/dev_mgr/synchronize", self._synchronize)
        r.add_get("/provd/cfg_mgr/configs", self._configs)
        r.add_post("/provd/cfg_mgr/configs", self._add_config)
        r.add_get("/provd/cfg_mgr/configs/{id}", self._config)
        r.add_put("/provd/cfg_mgr/configs/{id}", self._put_config)
        r.add_delete("/provd/cfg_mgr/configs/{id}", self._del_config)
        r.add_get("/provd/cfg_mgr/configs/{id}/raw", self._raw_config)
        r.add_post("/provd/cfg_mgr/autocreate", self._autocreate)
        r.add_get("/provd/pg_mgr/plugins", self._plugins)
        r.add_get("/provd/pg_mgr/plugins/{id}/info", self._plugin_info)
        r.add_post("/provd/pg_mgr/install/update", self._pg_update)
        r.add_get("/provd/pg_mgr/install/installable", self._pg_installable)
        r.add_get("/provd/pg_mgr/install/installed", self._pg_installed)
        r.add_post("/provd/pg_mgr/install/install", self._pg_install)
        r.add_post("/provd/pg_mgr/install/uninstall", self._pg_uninstall)
        r.add_post("/provd/pg_mgr/reload", self._pg_reload)
        r.add_get("/provd/pg_mgr/plugins/{id}/install/installable", self._fw_installable)
        r.add_get("/provd/pg_mgr/plugins/{id}/install/installed", self._fw_installed)
        r.add_post("/provd/pg_mgr/plugins/{id}/install/install", self._fw_install)
        r.add_post("/provd/pg_mgr/plugins/{id}/install/uninstall", self._fw_uninstall)
        r.add_get("/provd/operation/{id}", self._operation)
        r.add_delete("/provd/operation/{id}", self._del_operation)
        return app

    @web.middleware
    async def _errors(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.token and request.headers.get("X-Auth-Token") != self.token:
            return _error(401, "missing or wrong X-Auth-Token")
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status >= 400:
                return _error(exc.status, exc.reason)
            raise
        except InvalidResource as exc:
            return _error(400, str(exc))
        except UnknownResource as exc:
            return _error(404, str(exc))
        except (PluginError, SourceError) as exc:
            return _error(400, str(exc))
        except Exception:
            logger.exception("REST %s %s failed", request.method, request.path)
            return _error(500, "internal error (see the harness log)")

    async def _body(self, request: web.Request, key: str) -> Any:
        try:
            data = await request.json(loads=json.loads)
        except web.HTTPRequestEntityTooLarge:
            raise
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidResource(f"request body is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or key not in data:
            raise InvalidResource(f'request body must be an object with a "{key}" key')
        return data[key]

    def _operation_done(self, label: str, error: str | None = None) -> web.Response:
        op_id = str(len(self.operations) + 1)
        self.operations[op_id] = {"label": label, "state": "fail" if error else "success"}
        if error:
            self.operations[op_id]["error"] = error
        return web.Response(status=201, headers={"Location": f"/provd/operation/{op_id}"})

    async def _root(self, request: web.Request) -> web.Response:
        names = ["configure", "dev_mgr", "cfg_mgr", "pg_mgr", "status"]
        return _json({"links": [{"rel": n, "href": f"/provd/{n}"} for n in names]})

    async def _status(self, request: web.Request) -> web.Response:
        return _json({"rest_api": "ok", "plugins": sorted(self.plugins.loaded)})

    async def _params(self, request: web.Request) -> web.Response:
        return _json({"params": [{"id": k, "value": v} for k, v in sorted(self.params.items())]})

    async def _param(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.params:
            raise UnknownResource(f"no parameter {name!r}")
        return _json({"param": {"value": self.params[name]}})

    async def _set_param(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.params:
            raise UnknownResource(f"no parameter {name!r}")
        value = await self._body(request, "param")
        if not isinstance(value, dict) or "value" not in value:
            raise InvalidResource('expected {"param": {"value": ...}}')
        if value["value"] is not None and not isinstance(value["value"], str):
            raise InvalidResource(f"parameter {name!r} takes a string")
        self.params[name] = value["value"]
        return web.Response(status=204)

    async def _devices(self, request: web.Request) -> web.Response:
        return _json({"devices": list(self.devices.devices.values())})

    async def _add_device(self, request: web.Request) -> web.Response:
        device = await self._body(request, "device")
        if not isinstance(device, dict):
            raise InvalidResource("device must be a JSON object")
        device_id = self.create_device(**device)
        return _json({"id": device_id}, 201, {"Location": f"/provd/dev_mgr/devices/{device_id}"})

    async def _device(self, request: web.Request) -> web.Response:
        return _json({"device": self.devices.get(request.match_info["id"])})

    async def _put_device(self, request: web.Request) -> web.Response:
        device = await self._body(request, "device")
        device_id = request.match_info["id"]
        with self.pipeline.lock:
            old = self.devices.replace(device_id, device)
            new = self.devices.get(device_id)
            if old.get("plugin") in self.plugins.loaded and old.get("configured"):
                self.plugins.loaded[old["plugin"]].deconfigure(old)
            if not new.get("plugin"):
                new["plugin"] = self.plugins.associate(new, _MIN_SUPPORT)
            self.configure_device(new)
        return web.Response(status=204)

    async def _del_device(self, request: web.Request) -> web.Response:
        with self.pipeline.lock:
            device = self.devices.delete(request.match_info["id"])
            plugin = self.plugins.loaded.get(str(device.get("plugin")))
            if plugin is not None and device.get("configured"):
                plugin.deconfigure(device)
        return web.Response(status=204)

    async def _dhcpinfo(self, request: web.Request) -> web.Response:
        info = await self._body(request, "dhcp_info")
        if not isinstance(info, dict) or info.get("op") not in ("commit", "expiry", "release"):
            raise InvalidResource('dhcp_info needs "op": commit, expiry or release')
        if info["op"] != "commit":
            return web.Response(status=204)
        if not isinstance(info.get("ip"), str) or not isinstance(info.get("mac"), str):
            raise InvalidResource('dhcp_info needs "ip" and "mac" strings')
        options: dict[int, str] = {}
        for raw in info.get("options") or []:
            # provd's hook format: 3-digit option code followed by the hex-encoded value.
            if not isinstance(raw, str) or len(raw) < 3 or not raw[:3].isdigit():
                raise InvalidResource(f"bad DHCP option {raw!r}: expected 'CCC<hex value>'")
            try:
                options[int(raw[:3])] = bytes.fromhex(raw[3:]).decode("latin-1")
            except ValueError as exc:
                raise InvalidResource(f"bad DHCP option {raw!r}: {exc}") from exc
        self.pipeline.dhcp({"ip": info["ip"], "mac": info["mac"], "options": options})
        return web.Response(status=204)

    async def _device_id(self, request: web.Request) -> dict[str, Any]:
        device_id = await self._body(request, "id")
        if not isinstance(device_id, str):
            raise InvalidResource('"id" must be a string')
        return self.devices.get(device_id)

    async def _reconfigure(self, request: web.Request) -> web.Response:
        device = await self._device_id(request)
        with self.pipeline.lock:
            self.configure_device(device)
        return web.Response(status=204)

    async def _synchronize(self, request: web.Request) -> web.Response:
        device = await self._device_id(request)
        plugin = self.plugins.loaded.get(str(device.get("plugin")))
        if plugin is None or not device.get("config"):
            raise InvalidResource("device has no plugin or no config")
        try:
            with self.pipeline.lock:
                plugin.synchronize(device, self.configs.raw(str(device["config"])))
        except PluginError as exc:
            return self._operation_done("synchronize", str(exc))
        return self._operation_done("synchronize")

    async def _configs(self, request: web.Request) -> web.Response:
        return _json({"configs": list(self.configs.configs.values())})

    async def _add_config(self, request: web.Request) -> web.Response:
        config_id = self.configs.add(await self._body(request, "config"))
        return _json({"id": config_id}, 201, {"Location": f"/provd/cfg_mgr/configs/{config_id}"})

    async def _config(self, request: web.Request) -> web.Response:
        return _json({"config": self.configs.get(request.match_info["id"])})

    async def _put_config(self, request: web.Request) -> web.Response:
        config_id = request.match_info["id"]
        self.configs.update(config_id, await self._body(request, "config"))
        with self.pipeline.lock:
            for device in self.devices.devices.values():
                if device.get("config") == config_id:
                    self.configure_device(device)
        return web.Response(status=204)

    async def _del_config(self, request: web.Request) -> web.Response:
        self.configs.delete(request.match_info["id"])
        return web.Response(status=204)

    async def _raw_config(self, request: web.Request) -> web.Response:
        return _json({"raw_config": self.configs.raw(request.match_info["id"])})

    async def _autocreate(self, request: web.Request) -> web.Response:
        config_id = self.configs.autocreate()
        if config_id is None:
            raise InvalidResource("no config with role 'autocreate'")
        return _json({"id": config_id}, 201)

    async def _plugins(self, request: web.Request) -> web.Response:
        return _json({"plugins": {pid: {"id": pid} for pid in sorted(self.plugins.loaded)}})

    def _loaded(self, request: web.Request) -> LoadedPlugin:
        plugin_id = request.match_info["id"]
        plugin = self.plugins.loaded.get(plugin_id)
        if plugin is None:
            raise UnknownResource(f"no plugin {plugin_id!r} loaded")
        return plugin

    async def _plugin_info(self, request: web.Request) -> web.Response:
        return _json({"plugin_info": self._loaded(request).info})

    async def _pg_update(self, request: web.Request) -> web.Response:
        server = self.params.get("plugin_server")
        if not server:
            return self._operation_done("update", "no plugin_server configured")
        try:
            self._installable = self.plugins.installable(str(server))
        except SourceError as exc:
            return self._operation_done("update", str(exc))
        return self._operation_done("update")

    async def _pg_installable(self, request: web.Request) -> web.Response:
        return _json({"pkgs": getattr(self, "_installable", {})})

    async def _pg_installed(self, request: web.Request) -> web.Response:
        return _json({"pkgs": self.plugins.installed()})

    async def _pg_install(self, request: web.Request) -> web.Response:
        plugin_id = await self._body(request, "id")
        if not isinstance(plugin_id, str):
            raise InvalidResource('"id" must be a string')
        try:
            with self.pipeline.lock:
                self.install_plugin(plugin_id)
        except (PluginError, SourceError) as exc:
            return self._operation_done(f"install {plugin_id}", str(exc))
        return self._operation_done(f"install {plugin_id}")

    async def _pg_uninstall(self, request: web.Request) -> web.Response:
        plugin_id = await self._body(request, "id")
        if not isinstance(plugin_id, str) or not self.plugins.is_installed(plugin_id):
            raise UnknownResource(f"plugin {plugin_id!r} is not installed")
        with self.pipeline.lock:
            if plugin_id in self.plugins.loaded:
                self.plugins.unload(plugin_id)
            self.plugins.uninstall(plugin_id)
        return web.Response(status=204)

    async def _pg_reload(self, request: web.Request) -> web.Response:
        plugin_id = await self._body(request, "id")
        if not isinstance(plugin_id, str) or plugin_id not in self.plugins.loaded:
            raise UnknownResource(f"plugin {plugin_id!r} is not loaded")
        with self.pipeline.lock:
            self.plugins.reload(plugin_id)
        return web.Response(status=204)

    def _firmware(self, request: web.Request) -> Any:
        firmware = self._loaded(request).firmware
        if firmware is None:
            raise UnknownResource("plugin has no install service")
        return firmware

    async def _fw_installable(self, request: web.Request) -> web.Response:
        return _json({"pkgs": self._firmware(request).installable()})

    async def _fw_installed(self, request: web.Request) -> web.Response:
        return _json({"pkgs": self._firmware(request).installed()})

    async def _fw_install(self, request: web.Request) -> web.Response:
        pkg_id = await self._body(request, "id")
        if not isinstance(pkg_id, str):
            raise InvalidResource('"id" must be a string')
        firmware = self._firmware(request)
        try:
            with self.pipeline.lock:
                firmware.install(pkg_id)
        except (PluginError, SourceError, KeyError) as exc:
            return self._operation_done(f"install {pkg_id}", str(exc))
        return self._operation_done(f"install {pkg_id}")

    async def _fw_uninstall(self, request: web.Request) -> web.Response:
        pkg_id = await self._body(request, "id")
        if not isinstance(pkg_id, str):
            raise InvalidResource('"id" must be a string')
        with self.pipeline.lock:
            self._firmware(request).uninstall(pkg_id)
        return web.Response(status=204)

    async def _operation(self, request: web.Request) -> web.Response:
        op = self.operations.get(request.match_info["id"])
        if op is None:
            raise UnknownResource("no such operation")
        return _json({"status": op["state"], **{k: v for k, v in op.items() if k != "state"}})

    async def _del_operation(self, request: web.Request) -> web.Response:
        if self.operations.pop(request.match_info["id"], None) is None:
            raise UnknownResource("no such operation")
        return web.Response(status=204)

    # provisioning HTTP ----------------------------------------------------------------------

    def _http_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_route("*", "/{path:.*}", self._provision)
        return app

    async def _provision(self, request: web.Request) -> web.Response:
        raw_path = request.raw_path.split("?", 1)[0]
        path = unquote(raw_path)
        if ".." in path.split("/") or "\0" in path or "\\" in path:
            return web.Response(status=403, text="forbidden path\n")
        query = {k: v for k, v in parse_qs(request.query_string).items()}
        body = await request.read() if request.can_read_body else b""
        req = HttpRequestInfo(
            request.method,
            path,
            query,
            dict(request.headers),
            request.remote or "",
            body,
        )
        loop = asyncio.get_running_loop()
        status, headers, data = await loop.run_in_executor(None, self.pipeline.http, req)
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
        return web.Response(status=status, headers=headers, body=data)

    # helpers --------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Devices and configs as JSON-able data (for reports and assertions)."""
        return copy.deepcopy(
            {"devices": self.devices.devices, "configs": self.configs.configs, "log": []}
        )
