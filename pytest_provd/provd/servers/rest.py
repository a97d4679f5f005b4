"""provd's REST API under ``/provd``, served by aiohttp.

Resources, bodies and status codes follow provd: ``configure``, ``dev_mgr`` (devices,
dhcpinfo, synchronize, reconfigure), ``cfg_mgr`` (configs, raw configs, autocreate),
``pg_mgr`` (install service, plugins, per-plugin firmware install service, reload) and
``status``.  Long operations answer ``201`` with a ``Location`` naming an
operation-in-progress resource whose ``GET`` gives ``{"status": "label|state..."}`` (state:
waiting, progress, success, fail) and which ``DELETE`` removes.

Unlike provd, errors are JSON (``{"error": "..."}``) and never carry a traceback.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pytest_provd.problems import ProvdHarnessError
from pytest_provd.provd.domain.app import (
    ParameterError,
    PluginStateError,
    ProvdApp,
    UnknownParameter,
    UnknownTenant,
)
from pytest_provd.provd.domain.configs import ConfigError, NotDeletable, UnknownConfig
from pytest_provd.provd.domain.devices import DeviceError, UnknownDevice, norm_ip, norm_mac
from pytest_provd.provd.plugins.manager import PluginError

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.proformatique.provd+json"
ACCEPTED_BODY_TYPES = (MEDIA_TYPE, "application/json")
JsonDict = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_KEY = web.AppKey("max_body", int)


class BadRequest(ProvdHarnessError):
    """A request body or parameter the API cannot use (HTTP 400)."""


class NotFound(ProvdHarnessError):
    """No such resource (HTTP 404)."""


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A provd-typed JSON answer."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        content_type=MEDIA_TYPE,
        headers=headers,
    )


def error_response(status: int, message: str) -> web.Response:
    """A JSON error answer."""
    body = json.dumps({"error": message, "status": status}).encode()
    return web.Response(body=body, status=status, content_type="application/json")


def no_content(status: int = 204, location: str | None = None) -> web.Response:
    """An empty answer (``201`` + ``Location`` for created operations)."""
    return web.Response(status=status, headers={"Location": location} if location else None)


# --- operations in progress --------------------------------------------------------------


@dataclass
class Operation:
    """An operation in progress, formatted like provd's ``label|state;current/end(subs)``."""

    label: str | None = None
    state: str = "waiting"
    current: int | None = None
    end: int | None = None
    subs: list[Operation] = field(default_factory=list)
    error: str | None = None

    def format(self) -> str:
        """provd's textual form of the operation."""
        text = f"{self.label}|" if self.label is not None else ""
        text += self.state
        if self.current is not None:
            text += f";{self.current}"
            if self.end:
                text += f"/{self.end}"
        return text + "".join(f"({sub.format()})" for sub in self.subs)


class Operations:
    """Operations by the resource path their POST created them under."""

    def __init__(self, executor: concurrent.futures.Executor) -> None:
        self._executor = executor
        self._by_path: dict[str, Operation] = {}
        self._next = 1

    def start(self, base_path: str, label: str, work: Callable[[], None]) -> str:
        """Run *work* on the pool; returns the new operation's path (``Location``)."""
        path = f"{base_path.rstrip('/')}/{self._next}"
        self._next += 1
        op = Operation(label, "progress")
        self._by_path[path] = op

        def done(future: concurrent.futures.Future[None]) -> None:
            exc = future.exception() if not future.cancelled() else None
            if future.cancelled():
                op.state, op.error = "fail", "cancelled"
            elif exc is not None:
                op.state, op.error = "fail", str(exc)
                if not isinstance(exc, ProvdHarnessError | PluginError):
                    logger.error("operation %s failed", label, exc_info=exc)
            else:
                op.state = "success"

        future = self._executor.submit(work)
        future.add_done_callback(done)
        return path

    def get(self, path: str) -> Operation:
        """The operation at *path* (NotFound)."""
        try:
            return self._by_path[path.rstrip("/")]
        except KeyError:
            raise NotFound(f"no operation at {path}") from None

    def delete(self, path: str) -> None:
        """Forget the operation at *path* (NotFound)."""
        self.get(path)
        del self._by_path[path.rstrip("/")]


# --- the application ---------------------------------------------------------------------


class RestApi:
    """Handlers of provd's REST resources over a :class:`ProvdApp`."""

    def __init__(
        self, app: ProvdApp, executor: concurrent.futures.Executor, token: str | None
    ) -> None:
        self.app = app
        self.executor = executor
        self.token = token
        self.ops = Operations(executor)

    async def run(self, fun: Callable[..., Any], *args: Any) -> Any:
        """Call blocking application code on the worker pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fun(*args))

    # plumbing ----------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Auth, and every failure as a JSON error with the right status."""
        if self.token is not None:
            given = request.headers.get("X-Auth-Token", "")
            if not secrets.compare_digest(given.encode(), self.token.encode()):
                return error_response(401, "missing or invalid X-Auth-Token")
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = exc.reason
            if exc.status == 413:
                message = f"request body too large (limit {request.app[MAX_BODY_KEY]} bytes)"
            elif exc.status == 404:
                message = f"no such resource: {request.path}"
            elif exc.status == 405:
                message = f"method {request.method} not allowed on {request.path}"
            return error_response(exc.status, message)
        except UnknownTenant as exc:
            return error_response(401, f"Unauthorized: {exc}")
        except (UnknownConfig, UnknownDevice, UnknownParameter, NotFound) as exc:
            return error_response(404, str(exc))
        except NotDeletable as exc:
            return error_response(403, str(exc))
        except (
            BadRequest,
            ConfigError,
            DeviceError,
            ParameterError,
            PluginStateError,
            PluginError,
            ProvdHarnessError,
        ) as exc:
            return error_response(400, str(exc))
        except Exception:
            logger.exception("REST %s %s failed", request.method, request.path)
            return error_response(500, "internal error (details in the harness log)")

    async def body(self, request: web.Request, key: str | None = None) -> Any:
        """The JSON entity (415/400 when unusable); with *key*, that member of an object."""
        ctype = request.content_type
        if ctype not in ACCEPTED_BODY_TYPES:
            raise web.HTTPUnsupportedMediaType(
                reason=f'Entity must be in media type "{MEDIA_TYPE}"'
            )
        raw = await request.read()
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"Invalid JSON document: {exc}") from None
        if key is None:
            return data
        if not isinstance(data, dict):
            raise BadRequest(f"entity must be a JSON object with a {key!r} key")
        if key not in data:
            raise BadRequest(f"Missing {key!r} key")
        return data[key]

    async def body_id(self, request: web.Request) -> str:
        """The ``{"id": "..."}`` entity of install/uninstall/reload/synchronize requests."""
        value = await self.body(request, "id")
        if not isinstance(value, str) or not value:
            raise BadRequest('"id" must be a non-empty string')
        return value

    def tenant(self, request: web.Request) -> str:
        """The request's tenant: ``Wazo-Tenant``, else the provd's own (401 if unknown)."""
        return self.app.check_tenant(request.headers.get("Wazo-Tenant"))

    def visible_device(self, request: web.Request, device_id: str) -> JsonDict:
        """A device of the request's tenant or a tenant below it (404 otherwise, as provd)."""
        device = self.app.devices.get(device_id)
        if device.get("tenant_uuid") not in self.app.tenant_tree(self.tenant(request)):
            raise NotFound(f"no device {device_id!r}")
        return device

    @staticmethod
    def links(request: web.Request, names: list[tuple[str, str]]) -> web.Response:
        base = request.path.rstrip("/")
        return json_response({"links": [{"rel": rel, "href": f"{base}/{p}"} for rel, p in names]})

    def routes(self, r: web.UrlDispatcher) -> None:
        """Register every resource."""
        p = "/provd"
        r.add_get(p, self.root)
        r.add_get(p + "/status", self.status)
        r.add_get(p + "/configure", self.params)
        r.add_get(p + "/configure/{name}", self.param)
        r.add_put(p + "/configure/{name}", self.set_param)
        r.add_get(p + "/dev_mgr", self.dev_mgr)
        r.add_get(p + "/dev_mgr/devices", self.devices)
        r.add_post(p + "/dev_mgr/devices", self.add_device)
        r.add_get(p + "/dev_mgr/devices/{id}", self.device)
        r.add_put(p + "/dev_mgr/devices/{id}", self.put_device)
        r.add_delete(p + "/dev_mgr/devices/{id}", self.delete_device)
        r.add_post(p + "/dev_mgr/dhcpinfo", self.dhcpinfo)
        r.add_post(p + "/dev_mgr/reconfigure", self.reconfigure)
        r.add_post(p + "/dev_mgr/synchronize", self.synchronize)
        r.add_get(p + "/cfg_mgr", self.cfg_mgr)
        r.add_get(p + "/cfg_mgr/configs", self.configs)
        r.add_post(p + "/cfg_mgr/configs", self.add_config)
        r.add_get(p + "/cfg_mgr/configs/{id}", self.config)
        r.add_put(p + "/cfg_mgr/configs/{id}", self.put_config)
        r.add_delete(p + "/cfg_mgr/configs/{id}", self.delete_config)
        r.add_get(p + "/cfg_mgr/configs/{id}/raw", self.raw_config)
        r.add_post(p + "/cfg_mgr/autocreate", self.autocreate)
        r.add_get(p + "/pg_mgr", self.pg_mgr)
        r.add_get(p + "/pg_mgr/install", self.pg_install_srv)
        r.add_post(p + "/pg_mgr/install/update", self.pg_update)
        r.add_get(p + "/pg_mgr/install/installable", self.pg_installable)
        r.add_get(p + "/pg_mgr/install/installed", self.pg_installed)
        r.add_post(p + "/pg_mgr/install/install", self.pg_install)
        r.add_post(p + "/pg_mgr/install/upgrade", self.pg_upgrade)
        r.add_post(p + "/pg_mgr/install/uninstall", self.pg_uninstall)
        r.add_post(p + "/pg_mgr/reload", self.pg_reload)
        r.add_get(p + "/pg_mgr/plugins", self.plugins)
        r.add_get(p + "/pg_mgr/plugins/{id}", self.plugin)
        r.add_get(p + "/pg_mgr/plugins/{id}/info", self.plugin_info)
        r.add_get(p + "/pg_mgr/plugins/{id}/configure", self.pg_params)
        r.add_get(p + "/pg_mgr/plugins/{id}/configure/{name}", self.pg_param)
        r.add_put(p + "/pg_mgr/plugins/{id}/configure/{name}", self.set_pg_param)
        r.add_get(p + "/pg_mgr/plugins/{id}/install", self.fw_srv)
        r.add_get(p + "/pg_mgr/plugins/{id}/install/installable", self.fw_installable)
        r.add_get(p + "/pg_mgr/plugins/{id}/install/installed", self.fw_installed)
        r.add_post(p + "/pg_mgr/plugins/{id}/install/install", self.fw_install)
        r.add_post(p + "/pg_mgr/plugins/{id}/install/upgrade", self.fw_upgrade)
        r.add_post(p + "/pg_mgr/plugins/{id}/install/uninstall", self.fw_uninstall)
        for base in (
            "/pg_mgr/install/update",
            "/pg_mgr/install/install",
            "/pg_mgr/install/upgrade",
            "/pg_mgr/plugins/{id}/install/install",
            "/pg_mgr/plugins/{id}/install/upgrade",
            "/dev_mgr/synchronize",
        ):
            r.add_get(p + base + "/{oip:[0-9]+}", self.operation)
            r.add_delete(p + base + "/{oip:[0-9]+}", self.delete_operation)

    # root, status, configure -------------------------------------------------------------

    async def root(self, request: web.Request) -> web.Response:
        names = [
            ("dev", "dev_mgr"),
            ("cfg", "cfg_mgr"),
            ("pg", "pg_mgr"),
            ("status", "status"),
            ("srv.configure", "configure"),
        ]
        return self.links(request, names)

    async def status(self, request: web.Request) -> web.Response:
        return json_response({"rest_api": "ok", "plugins_loaded": sorted(self.app.plugins.loaded)})

    async def params(self, request: web.Request) -> web.Response:
        params = self.app.describe_params(self.tenant(request))
        for param in params:
            param["links"] = [
                {"rel": "srv.configure.param", "href": f"{request.path}/{param['id']}"}
            ]
        return json_response({"params": params})

    async def param(self, request: web.Request) -> web.Response:
        value = self.app.get_param(request.match_info["name"], self.tenant(request))
        return json_response({"param": {"value": value}})

    async def set_param(self, request: web.Request) -> web.Response:
        param = await self.body(request, "param")
        if not isinstance(param, dict) or "value" not in param:
            raise BadRequest('Wrong information in entity: expected {"param": {"value": ...}}')
        tenant = self.tenant(request)
        self.app.get_param(request.match_info["name"], tenant)  # 404 first for unknown names
        await self.run(self.app.set_param, request.match_info["name"], param["value"], tenant)
        return no_content()

    # devices -----------------------------------------------------------------------------

    async def dev_mgr(self, request: web.Request) -> web.Response:
        names = [
            ("dev.synchronize", "synchronize"),
            ("dev.reconfigure", "reconfigure"),
            ("dev.dhcpinfo", "dhcpinfo"),
            ("dev.devices", "devices"),
        ]
        return self.links(request, names)

    async def devices(self, request: web.Request) -> web.Response:
        tenant = self.tenant(request)
        recurse = request.query.get("recurse", "false").lower() in ("true", "1", "yes")
        tenants = self.app.tenant_tree(tenant) if recurse else [tenant]
        mine = [d for d in self.app.devices.all() if d.get("tenant_uuid") in tenants]
        return json_response({"devices": find(mine, request)})

    async def add_device(self, request: web.Request) -> web.Response:
        device = await self.body(request, "device")
        if not isinstance(device, dict):
            raise BadRequest(f'"device" must be an object, not {type(device).__name__}')
        device["tenant_uuid"] = self.tenant(request)
        device_id = await self.run(self.app.dev_insert, device)
        location = f"{request.path.rstrip('/')}/{device_id}"
        return json_response({"id": device_id}, 201, {"Location": location})

    async def device(self, request: web.Request) -> web.Response:
        return json_response({"device": self.visible_device(request, request.match_info["id"])})

    async def put_device(self, request: web.Request) -> web.Response:
        device = await self.body(request, "device")
        if not isinstance(device, dict):
            raise BadRequest(f'"device" must be an object, not {type(device).__name__}')
        device_id = request.match_info["id"]
        device["id"] = device_id
        tenant = self.tenant(request)
        old = self.app.devices.get(device_id)
        if old.get("is_new"):
            # a device still in the provd's own tenant is taken by the tenant that edits it
            device["tenant_uuid"] = tenant
        else:
            self.visible_device(request, device_id)
            device["tenant_uuid"] = old.get("tenant_uuid")
        await self.run(self.app.dev_update, device)
        return no_content()

    async def delete_device(self, request: web.Request) -> web.Response:
        self.visible_device(request, request.match_info["id"])
        await self.run(self.app.dev_delete, request.match_info["id"])
        return no_content()

    async def dhcpinfo(self, request: web.Request) -> web.Response:
        info = await self.body(request, "dhcp_info")
        if not isinstance(info, dict):
            raise BadRequest('"dhcp_info" must be an object')
        op = info.get("op")
        if op not in ("commit", "expiry", "release"):
            raise BadRequest("invalid operation value: op must be commit, expiry or release")
        if not isinstance(info.get("ip"), str):
            raise BadRequest('dhcp_info needs an "ip" string')
        ip = norm_ip(info["ip"])
        if op != "commit":
            return no_content()
        if not isinstance(info.get("mac"), str):
            raise BadRequest('dhcp_info needs a "mac" string')
        mac = norm_mac(info["mac"])
        options = dhcp_options(info.get("options"))
        await self.run(self.app.pipeline.dhcp, ip, mac, options)
        return no_content()

    async def reconfigure(self, request: web.Request) -> web.Response:
        device_id = await self.body_id(request)
        self.visible_device(request, device_id)
        await self.run(self.app.dev_reconfigure, device_id)
        return no_content()

    async def synchronize(self, request: web.Request) -> web.Response:
        device_id = await self.body_id(request)
        self.visible_device(request, device_id)  # 404 before starting an operation
        location = self.ops.start(request.path, "sync", lambda: self.app.dev_synchronize(device_id))
        return no_content(201, location)

    # configs -----------------------------------------------------------------------------

    async def cfg_mgr(self, request: web.Request) -> web.Response:
        return self.links(request, [("cfg.configs", "configs"), ("cfg.autocreate", "autocreate")])

    async def configs(self, request: web.Request) -> web.Response:
        return json_response({"configs": find(self.app.configs.all(), request)})

    async def add_config(self, request: web.Request) -> web.Response:
        config = await self.body(request, "config")
        config_id = await self.run(self.app.cfg_insert, config)
        location = f"{request.path.rstrip('/')}/{config_id}"
        return json_response({"id": config_id}, 201, {"Location": location})

    async def config(self, request: web.Request) -> web.Response:
        return json_response({"config": self.app.configs.get(request.match_info["id"])})

    async def put_config(self, request: web.Request) -> web.Response:
        config = await self.body(request, "config")
        if not isinstance(config, dict):
            raise BadRequest(f'"config" must be an object, not {type(config).__name__}')
        config["id"] = request.match_info["id"]
        await self.run(self.app.cfg_update, config)
        return no_content()

    async def delete_config(self, request: web.Request) -> web.Response:
        await self.run(self.app.cfg_delete, request.match_info["id"])
        return no_content()

    async def raw_config(self, request: web.Request) -> web.Response:
        raw = self.app.configs.raw(request.match_info["id"])
        if raw is None:
            raise NotFound(f"no config {request.match_info['id']!r}")
        return json_response({"raw_config": raw})

    async def autocreate(self, request: web.Request) -> web.Response:
        config_id = await self.run(self.app.cfg_create_new)
        if config_id is None:
            raise BadRequest("no config with the autocreate role (or it has no SIP line 1)")
        location = f"{request.path.rsplit('/', 1)[0]}/configs/{config_id}"
        return json_response({"id": config_id}, 201, {"Location": location})

    # plugins -----------------------------------------------------------------------------

    async def pg_mgr(self, request: web.Request) -> web.Response:
        names = [("srv.install", "install"), ("pg.plugins", "plugins"), ("pg.reload", "reload")]
        return self.links(request, names)

    async def pg_install_srv(self, request: web.Request) -> web.Response:
        names = [
            ("srv.install.install", "install"),
            ("srv.install.uninstall", "uninstall"),
            ("srv.install.installed", "installed"),
            ("srv.install.installable", "installable"),
            ("srv.install.upgrade", "upgrade"),
            ("srv.install.update", "update"),
        ]
        return self.links(request, names)

    async def pg_update(self, request: web.Request) -> web.Response:
        self.app._server()  # 400 at once when no plugin server is set, as provd does
        location = self.ops.start(request.path, "update", self.app.pg_update)
        return no_content(201, location)

    async def pg_installable(self, request: web.Request) -> web.Response:
        return json_response({"pkgs": self.app.pg_installable()})

    async def pg_installed(self, request: web.Request) -> web.Response:
        return json_response({"pkgs": await self.run(self.app.plugins.installed)})

    async def pg_install(self, request: web.Request) -> web.Response:
        plugin_id = await self.body_id(request)
        if self.app.plugins.is_installed(plugin_id):
            raise PluginStateError(f"plugin {plugin_id} is already installed")
        self.app._server()
        location = self.ops.start(
            request.path, "install_pkg", lambda: self.app.pg_install(plugin_id)
        )
        return no_content(201, location)

    async def pg_upgrade(self, request: web.Request) -> web.Response:
        plugin_id = await self.body_id(request)
        if not self.app.plugins.is_installed(plugin_id):
            raise PluginStateError(f"plugin {plugin_id} is not already installed")
        self.app._server()
        location = self.ops.start(
            request.path, "upgrade_pkg", lambda: self.app.pg_install(plugin_id, upgrade=True)
        )
        return no_content(201, location)

    async def pg_uninstall(self, request: web.Request) -> web.Response:
        await self.run(self.app.pg_uninstall, await self.body_id(request))
        return no_content()

    async def pg_reload(self, request: web.Request) -> web.Response:
        await self.run(self.app.pg_reload, await self.body_id(request))
        return no_content()

    async def plugins(self, request: web.Request) -> web.Response:
        base = request.path.rstrip("/")
        plugins = {
            pid: {"links": [{"rel": "pg.plugin", "href": f"{base}/{pid}"}]}
            for pid in sorted(self.app.plugins.loaded)
        }
        return json_response({"plugins": plugins})

    async def plugin(self, request: web.Request) -> web.Response:
        plugin = self._loaded(request)
        names = [("pg.info", "info")]
        if plugin.firmware is not None:
            names.append(("srv.install", "install"))
        if plugin.params is not None:
            names.append(("srv.configure", "configure"))
        return self.links(request, names)

    def _params(self, request: web.Request) -> Any:
        params = self._loaded(request).params
        if params is None:
            raise NotFound(f"plugin {request.match_info['id']} has no configure service")
        return params

    async def pg_params(self, request: web.Request) -> web.Response:
        params = await self.run(self._params(request).describe)
        for param in params:
            href = f"{request.path.rstrip('/')}/{param['id']}"
            param["links"] = [{"rel": "srv.configure.param", "href": href}]
        return json_response({"params": params})

    async def pg_param(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            value = await self.run(self._params(request).get, name)
        except KeyError:
            raise NotFound(f"no parameter {name!r}") from None
        return json_response({"param": {"value": value}})

    async def set_pg_param(self, request: web.Request) -> web.Response:
        param = await self.body(request, "param")
        if not isinstance(param, dict) or "value" not in param:
            raise BadRequest('Wrong information in entity: expected {"param": {"value": ...}}')
        name = request.match_info["name"]
        try:
            await self.run(self._params(request).set, name, param["value"])
        except KeyError:
            raise NotFound(f"no parameter {name!r}") from None
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return no_content()

    def _loaded(self, request: web.Request) -> Any:
        plugin = self.app.plugins.loaded.get(request.match_info["id"])
        if plugin is None:
            raise NotFound(f"no plugin {request.match_info['id']!r} loaded")
        return plugin

    def _firmware(self, request: web.Request) -> Any:
        firmware = self._loaded(request).firmware
        if firmware is None:
            raise NotFound(f"plugin {request.match_info['id']} has no install service")
        return firmware

    async def plugin_info(self, request: web.Request) -> web.Response:
        return json_response({"plugin_info": self._loaded(request).info})

    async def fw_srv(self, request: web.Request) -> web.Response:
        self._firmware(request)
        names = [
            ("srv.install.install", "install"),
            ("srv.install.uninstall", "uninstall"),
            ("srv.install.installed", "installed"),
            ("srv.install.installable", "installable"),
        ]
        return self.links(request, names)

    async def fw_installable(self, request: web.Request) -> web.Response:
        return json_response({"pkgs": await self.run(self._firmware(request).installable)})

    async def fw_installed(self, request: web.Request) -> web.Response:
        return json_response({"pkgs": await self.run(self._firmware(request).installed)})

    def _fw_pkg_op(self, request: web.Request, pkg_id: str, method: str, label: str) -> str:
        firmware = self._firmware(request)
        if pkg_id not in firmware.installable():
            raise BadRequest(f"package not found: {pkg_id}")

        def work() -> None:
            with self.app.lock:
                getattr(firmware, method)(pkg_id)

        return self.ops.start(request.path, label, work)

    async def fw_install(self, request: web.Request) -> web.Response:
        pkg_id = await self.body_id(request)
        return no_content(201, self._fw_pkg_op(request, pkg_id, "install", "install_pkg"))

    async def fw_upgrade(self, request: web.Request) -> web.Response:
        pkg_id = await self.body_id(request)
        return no_content(201, self._fw_pkg_op(request, pkg_id, "upgrade", "upgrade_pkg"))

    async def fw_uninstall(self, request: web.Request) -> web.Response:
        pkg_id = await self.body_id(request)
        firmware = self._firmware(request)
        if pkg_id not in firmware.installed():
            raise BadRequest(f"package {pkg_id} is not installed")
        await self.run(firmware.uninstall, pkg_id)
        return no_content()

    # operations --------------------------------------------------------------------------

    async def operation(self, request: web.Request) -> web.Response:
        op = self.ops.get(request.path)
        data: JsonDict = {"status": op.format()}
        if op.error:
            data["error"] = op.error
        return json_response(data)

    async def delete_operation(self, request: web.Request) -> web.Response:
        self.ops.delete(request.path)
        return no_content()


# --- helpers ------------------------------------------------------------------------------


def dhcp_options(raw: Any) -> dict[int, str]:
    """provd's dhcpinfo options: ``CCC`` decimal code + value bytes as dot-separated hex.

    A value without dots is read as plain hex pairs (what simple hooks send).  Each byte
    becomes one character, as provd hands options to the extractors.
    """
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise BadRequest('"options" must be a list of strings')
    options: dict[int, str] = {}
    for item in raw:
        if not isinstance(item, str) or len(item) < 3 or not item[:3].isdigit():
            raise BadRequest(f"bad DHCP option {item!r}: expected 3 decimal digits then hex")
        value = item[3:]
        try:
            if "." in value:
                chars = [int(token, 16) for token in value.split(".")]
            else:
                chars = list(bytes.fromhex(value))
        except ValueError:
            raise BadRequest(f"bad DHCP option {item!r}: value is not hex") from None
        if any(c > 255 for c in chars):
            raise BadRequest(f"bad DHCP option {item!r}: byte out of range")
        options[int(item[:3])] = "".join(map(chr, chars))
    return options


def find(docs: list[JsonDict], request: web.Request) -> list[JsonDict]:
    """provd's find parameters: ``q`` (JSON selector), ``fields``, ``skip``, ``limit``, ``sort``."""
    query = request.query
    if "q" in query:
        try:
            selector = json.loads(query["q"])
        except ValueError:
            raise BadRequest("q: invalid JSON selector") from None
        if not isinstance(selector, dict):
            raise BadRequest("q: selector must be an object")
        docs = [d for d in docs if _matches(d, selector)]
    if "sort" in query:
        key = query["sort"]
        reverse = query.get("sort_ord", "ASC").upper() == "DESC"
        docs.sort(key=lambda d: (key not in d, str(d.get(key, ""))), reverse=reverse)
    try:
        skip = int(query.get("skip", "0"))
        limit = int(query.get("limit", "0"))
    except ValueError:
        raise BadRequest("skip and limit must be integers") from None
    if skip < 0 or limit < 0:
        raise BadRequest("skip and limit must be positive")
    docs = docs[skip:]
    if limit:
        docs = docs[:limit]
    if "fields" in query:
        wanted = query["fields"].split(",")
        docs = [{k: v for k, v in d.items() if k in wanted} for d in docs]
    return docs


def _matches(doc: JsonDict, selector: JsonDict) -> bool:
    for key, cond in selector.items():
        value = doc.get(key)
        if isinstance(cond, dict):
            for op, arg in cond.items():
                if op == "$in" and (not isinstance(arg, list) or value not in arg):
                    return False
                if op == "$nin" and isinstance(arg, list) and value in arg:
                    return False
                if op == "$ne" and value == arg:
                    return False
                if op == "$exists" and (key in doc) != bool(arg):
                    return False
                if op == "$contains" and not (isinstance(value, str) and str(arg) in value):
                    return False
        elif value != cond:
            return False
    return True


def make_rest_app(
    app: ProvdApp,
    executor: concurrent.futures.Executor,
    token: str | None = None,
    max_body: int = 1024 * 1024,
) -> web.Application:
    """The aiohttp application serving provd's REST API over *app*."""
    api = RestApi(app, executor, token)
    web_app = web.Application(client_max_size=max_body, middlewares=[api.middleware])
    web_app[MAX_BODY_KEY] = max_body
    api.routes(web_app.router)
    return web_app
