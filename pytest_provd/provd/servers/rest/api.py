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

import concurrent.futures
import logging
import secrets

from aiohttp import web

from pytest_provd.problems import ProvdHarnessError
from pytest_provd.provd.domain.app import ProvdApp
from pytest_provd.provd.domain.errors import (
    ConfigError,
    DeviceError,
    NotDeletable,
    ParameterError,
    PluginStateError,
    UnknownConfig,
    UnknownDevice,
    UnknownParameter,
    UnknownTenant,
)
from pytest_provd.provd.plugins.errors import PluginError
from pytest_provd.provd.servers.rest.common import (
    MAX_BODY_KEY,
    BadRequest,
    Handler,
    JsonDict,
    NotFound,
    Operations,
    Resources,
    error_response,
    json_response,
    no_content,
)
from pytest_provd.provd.servers.rest.configs import ConfigResources
from pytest_provd.provd.servers.rest.devices import DeviceResources
from pytest_provd.provd.servers.rest.plugins import OPERATION_BASES, PluginResources

logger = logging.getLogger(__name__)


class RestApi(Resources):
    """provd's REST API: authentication, errors, the root resources and the groups.

    An exception no handler expected answers 500 and is recorded in the application's
    faults (the test that caused it fails); refusals of bad input answer 4xx.
    """

    def __init__(
        self, app: ProvdApp, executor: concurrent.futures.Executor, token: str | None
    ) -> None:
        super().__init__(app, executor, Operations(executor, app.faults))
        self.token = token
        self.groups = [
            group(app, executor, self.ops)
            for group in (DeviceResources, ConfigResources, PluginResources)
        ]

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
        except Exception as exc:
            where = f"REST {request.method} {request.path}"
            logger.error("%s failed", where, exc_info=exc)
            self.app.faults.record(where, exc)
            return error_response(500, "internal error (details in the harness log)")

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

    def routes(self, r: web.UrlDispatcher) -> None:
        """Register every resource."""
        p = "/provd"
        r.add_get(p, self.root)
        r.add_get(p + "/status", self.status)
        r.add_get(p + "/configure", self.params)
        r.add_get(p + "/configure/{name}", self.param)
        r.add_put(p + "/configure/{name}", self.set_param)
        for group in self.groups:
            group.routes(r, p)
        for base in (*OPERATION_BASES, "/dev_mgr/synchronize"):
            r.add_get(p + base + "/{oip:[0-9]+}", self.operation)
            r.add_delete(p + base + "/{oip:[0-9]+}", self.delete_operation)


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
