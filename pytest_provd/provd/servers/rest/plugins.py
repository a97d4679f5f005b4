"""``/provd/pg_mgr``: the plugin install service, loaded plugins, their configure and
firmware install services."""

from __future__ import annotations

from aiohttp import web

from pytest_provd.provd.domain.errors import PluginStateError
from pytest_provd.provd.plugins.loader import LoadedPlugin
from pytest_provd.provd.plugins.services import PluginFirmware, PluginParams
from pytest_provd.provd.servers.rest.common import (
    BadRequest,
    NotFound,
    Resources,
    json_response,
    no_content,
)

# POSTs answering 201 with an operation in progress under ``<path>/<n>``.
OPERATION_BASES = (
    "/pg_mgr/install/update",
    "/pg_mgr/install/install",
    "/pg_mgr/install/upgrade",
    "/pg_mgr/plugins/{id}/install/install",
    "/pg_mgr/plugins/{id}/install/upgrade",
)


class PluginResources(Resources):
    """The plugin manager's resources."""

    def routes(self, r: web.UrlDispatcher, p: str) -> None:
        """Register the resources under *p* (``/provd``)."""
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
        self.app.plugin_server()  # 400 at once when no plugin server is set, as provd does
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
        self.app.plugin_server()
        location = self.ops.start(
            request.path, "install_pkg", lambda: self.app.pg_install(plugin_id)
        )
        return no_content(201, location)

    async def pg_upgrade(self, request: web.Request) -> web.Response:
        plugin_id = await self.body_id(request)
        if not self.app.plugins.is_installed(plugin_id):
            raise PluginStateError(f"plugin {plugin_id} is not already installed")
        self.app.plugin_server()
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

    def _params(self, request: web.Request) -> PluginParams:
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

    def _loaded(self, request: web.Request) -> LoadedPlugin:
        plugin = self.app.plugins.loaded.get(request.match_info["id"])
        if plugin is None:
            raise NotFound(f"no plugin {request.match_info['id']!r} loaded")
        return plugin

    def _firmware(self, request: web.Request) -> PluginFirmware:
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
