"""``/provd/cfg_mgr``: configs, their raw configs, and autocreate."""

from __future__ import annotations

from aiohttp import web

from pytest_provd.provd.servers.rest.common import (
    BadRequest,
    NotFound,
    Resources,
    find,
    json_response,
    no_content,
)


class ConfigResources(Resources):
    """The config manager's resources."""

    def routes(self, r: web.UrlDispatcher, p: str) -> None:
        """Register the resources under *p* (``/provd``)."""
        r.add_get(p + "/cfg_mgr", self.cfg_mgr)
        r.add_get(p + "/cfg_mgr/configs", self.configs)
        r.add_post(p + "/cfg_mgr/configs", self.add_config)
        r.add_get(p + "/cfg_mgr/configs/{id}", self.config)
        r.add_put(p + "/cfg_mgr/configs/{id}", self.put_config)
        r.add_delete(p + "/cfg_mgr/configs/{id}", self.delete_config)
        r.add_get(p + "/cfg_mgr/configs/{id}/raw", self.raw_config)
        r.add_post(p + "/cfg_mgr/autocreate", self.autocreate)

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
