"""``/provd/dev_mgr``: devices (per tenant), dhcpinfo, reconfigure and synchronize."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pytest_provd.provd.domain.devices import norm_ip, norm_mac
from pytest_provd.provd.servers.rest.common import (
    BadRequest,
    Resources,
    find,
    json_response,
    no_content,
)


class DeviceResources(Resources):
    """The device manager's resources."""

    def routes(self, r: web.UrlDispatcher, p: str) -> None:
        """Register the resources under *p* (``/provd``)."""
        r.add_get(p + "/dev_mgr", self.dev_mgr)
        r.add_get(p + "/dev_mgr/devices", self.devices)
        r.add_post(p + "/dev_mgr/devices", self.add_device)
        r.add_get(p + "/dev_mgr/devices/{id}", self.device)
        r.add_put(p + "/dev_mgr/devices/{id}", self.put_device)
        r.add_delete(p + "/dev_mgr/devices/{id}", self.delete_device)
        r.add_post(p + "/dev_mgr/dhcpinfo", self.dhcpinfo)
        r.add_post(p + "/dev_mgr/reconfigure", self.reconfigure)
        r.add_post(p + "/dev_mgr/synchronize", self.synchronize)

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
