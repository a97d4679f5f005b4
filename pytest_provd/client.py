"""A small synchronous client of provd's REST API (embedded or real), for tests and tools."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

MEDIA_TYPE = "application/vnd.proformatique.provd+json"


class ProvdClientError(Exception):
    """A non-2xx answer: ``status`` and the decoded ``body``."""

    def __init__(self, method: str, url: str, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{method} {url} -> {status}: {body}")


class ProvdClient:
    """REST calls with a bounded time-out each; ``X-Auth-Token`` sent when a token is given."""

    __test__ = False

    def __init__(self, rest_url: str, token: str | None = None, timeout: float = 10.0) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
        """One call; returns ``(status, headers, decoded JSON or None)``."""
        url = self.rest_url + path
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": MEDIA_TYPE}
        if data is not None:
            headers["Content-Type"] = MEDIA_TYPE
        if self.token:
            headers["X-Auth-Token"] = self.token
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return resp.status, dict(resp.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                decoded: Any = json.loads(raw)
            except ValueError:
                decoded = raw.decode("utf-8", "replace")
            raise ProvdClientError(method, url, exc.code, decoded) from None

    def _wait(self, headers: dict[str, str], timeout: float = 60.0) -> dict[str, Any]:
        location = headers.get("Location", "")
        path = location.split("/provd", 1)[-1]
        deadline = time.monotonic() + timeout
        while True:
            _, _, body = self.request("GET", path)
            if body["status"] in ("success", "fail") or time.monotonic() > deadline:
                self.request("DELETE", path)
                if body["status"] != "success":
                    raise ProvdClientError("OIP", location, 500, body)
                return dict(body)
            time.sleep(0.05)

    # configure
    def set_param(self, name: str, value: str | None) -> None:
        """``PUT /configure/<name>``."""
        self.request("PUT", f"/configure/{name}", {"param": {"value": value}})

    def get_param(self, name: str) -> Any:
        """``GET /configure/<name>``."""
        return self.request("GET", f"/configure/{name}")[2]["param"]["value"]

    # configs
    def add_config(self, config: dict[str, Any]) -> str:
        """Create a config; returns its id."""
        return str(self.request("POST", "/cfg_mgr/configs", {"config": config})[2]["id"])

    def get_config(self, config_id: str) -> dict[str, Any]:
        """A config by id."""
        return dict(self.request("GET", f"/cfg_mgr/configs/{config_id}")[2]["config"])

    def update_config(self, config_id: str, config: dict[str, Any]) -> None:
        """Replace a config."""
        self.request("PUT", f"/cfg_mgr/configs/{config_id}", {"config": config})

    def raw_config(self, config_id: str) -> dict[str, Any]:
        """The flattened raw config."""
        return dict(self.request("GET", f"/cfg_mgr/configs/{config_id}/raw")[2]["raw_config"])

    # devices
    def add_device(self, device: dict[str, Any]) -> str:
        """Create a device; returns its id."""
        return str(self.request("POST", "/dev_mgr/devices", {"device": device})[2]["id"])

    def get_device(self, device_id: str) -> dict[str, Any]:
        """A device by id."""
        return dict(self.request("GET", f"/dev_mgr/devices/{device_id}")[2]["device"])

    def devices(self) -> list[dict[str, Any]]:
        """All devices."""
        return list(self.request("GET", "/dev_mgr/devices")[2]["devices"])

    def update_device(self, device_id: str, device: dict[str, Any]) -> None:
        """Replace a device."""
        self.request("PUT", f"/dev_mgr/devices/{device_id}", {"device": device})

    def delete_device(self, device_id: str) -> None:
        """Remove a device."""
        self.request("DELETE", f"/dev_mgr/devices/{device_id}")

    def dhcpinfo(self, ip: str, mac: str, options: list[str], op: str = "commit") -> None:
        """Push a DHCP transaction, as Wazo's dhcpd hook does."""
        info = {"op": op, "ip": ip, "mac": mac, "options": options}
        self.request("POST", "/dev_mgr/dhcpinfo", {"dhcp_info": info})

    # plugins
    def update_plugins(self) -> None:
        """Refresh the installable list from the plugin server."""
        self._wait(self.request("POST", "/pg_mgr/install/update", {})[1])

    def installable_plugins(self) -> dict[str, Any]:
        """Plugins the plugin server offers."""
        return dict(self.request("GET", "/pg_mgr/install/installable")[2]["pkgs"])

    def installed_plugins(self) -> dict[str, Any]:
        """Installed plugins."""
        return dict(self.request("GET", "/pg_mgr/install/installed")[2]["pkgs"])

    def install_plugin(self, plugin_id: str) -> None:
        """Install a plugin from the plugin server (waits for the operation)."""
        self._wait(self.request("POST", "/pg_mgr/install/install", {"id": plugin_id})[1])

    def install_firmware(self, plugin_id: str, pkg_id: str) -> None:
        """Install one firmware package of a plugin (waits for the operation)."""
        path = f"/pg_mgr/plugins/{plugin_id}/install/install"
        self._wait(self.request("POST", path, {"id": pkg_id})[1])

    def installable_firmware(self, plugin_id: str) -> dict[str, Any]:
        """Firmware packages a plugin offers."""
        return dict(
            self.request("GET", f"/pg_mgr/plugins/{plugin_id}/install/installable")[2]["pkgs"]
        )
