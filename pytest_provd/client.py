"""A small synchronous client of provd's REST API (embedded or real), for tests, emulators, users.

Every call has a bounded time-out; operations in progress (plugin install, update, firmware
install, synchronize) are polled until ``success`` or ``fail`` within ``op_timeout``.  Any
non-2xx answer raises :class:`ProvdClientError` carrying the status and the decoded body.
"""

from __future__ import annotations

import http.client
import json
import select
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

MEDIA_TYPE = "application/vnd.proformatique.provd+json"
_URLLIB_AGENT = "Python-urllib/{}.{}".format(*sys.version_info[:2])
# How a kept connection provd closed while idle fails (it never read the request).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
JsonDict = dict[str, Any]


class ProvdClientError(Exception):
    """A non-2xx answer (or a failed operation): ``status`` and the decoded ``body``."""

    def __init__(self, status: int, body: Any, method: str = "", url: str = "") -> None:
        self.status = status
        self.body = body
        self.method = method
        self.url = url
        detail = body.get("error", body) if isinstance(body, dict) else body
        super().__init__(f"{method} {url} -> {status}: {detail}".strip())


def operation_state(status: str) -> str:
    """The state of a provd operation status string (``label|state;cur/end(sub)...``)."""
    head = status.split("(", 1)[0]
    head = head.split("|", 1)[-1]
    return head.split(";", 1)[0]


class ProvdClient:
    """Synchronous provd REST client: ``ProvdClient(rest_url, token=None, timeout=5)``.

    ``tenant=`` sends ``Wazo-Tenant`` with every request (``with_tenant()`` gives a copy).
    Calls to a plain-HTTP provd reuse kept-alive connections; :meth:`close` closes them.
    """

    __test__ = False

    def __init__(
        self,
        rest_url: str,
        token: str | None = None,
        timeout: float = 5.0,
        *,
        op_timeout: float = 60.0,
        tenant: str | None = None,
    ) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.token = token
        self.tenant = tenant
        self.timeout = timeout
        self.op_timeout = op_timeout
        parts = urllib.parse.urlsplit(self.rest_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        # Plain HTTP to provd without a proxy goes over kept-alive connections (a new one
        # per call costs both sides more than most calls); anything else through urllib.
        self._idle: list[http.client.HTTPConnection] = []
        self._host = parts.hostname or ""
        self._port = parts.port or 80
        direct = "http" not in urllib.request.getproxies() or urllib.request.proxy_bypass(
            parts.netloc
        )
        self._keep_prefix = self._origin + "/" if parts.scheme == "http" and direct else ""

    def with_tenant(self, tenant: str | None) -> ProvdClient:
        """The same client acting for *tenant*."""
        return ProvdClient(
            self.rest_url, self.token, self.timeout, op_timeout=self.op_timeout, tenant=tenant
        )

    # plumbing ----------------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: Any = None, *, query: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """One call; ``(status, headers, decoded JSON or None)``; ProvdClientError on 4xx/5xx."""
        url = path if path.startswith("http") else self.rest_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Accept": MEDIA_TYPE}
        if data is not None:
            headers["Content-Type"] = MEDIA_TYPE
        if self.token:
            headers["X-Auth-Token"] = self.token
        if self.tenant:
            headers["Wazo-Tenant"] = self.tenant
        if url.startswith(self._keep_prefix) and self._keep_prefix:
            return self._kept_request(method, url, data, headers)
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return resp.status, dict(resp.headers), _decode(raw)
        except urllib.error.HTTPError as exc:
            with exc:
                raise ProvdClientError(exc.code, _decode(exc.read()), method, url) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise ProvdClientError(0, str(exc), method, url) from None

    def _kept_request(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        """:meth:`request` on a kept-alive connection, answering and failing as urllib did."""
        target = url[len(self._origin) :] or "/"
        headers["User-Agent"] = _URLLIB_AGENT
        for attempt in (1, 2):
            conn, reused = self._connection()
            try:
                try:
                    conn.request(method, target, body=data, headers=headers)
                except OSError as exc:
                    if attempt == 1 and reused and isinstance(exc, _STALE):
                        continue  # provd closed it meanwhile: never read the request
                    raise ProvdClientError(0, f"<urlopen error {exc}>", method, url) from None
                try:
                    resp = conn.getresponse()
                    raw = resp.read()
                except (TimeoutError, ConnectionError) as exc:
                    if attempt == 1 and reused and isinstance(exc, _STALE):
                        continue
                    raise ProvdClientError(0, str(exc), method, url) from None
            except BaseException:
                conn.close()
                raise
            if resp.will_close:
                conn.close()
            else:
                self._idle.append(conn)
            if not 200 <= resp.status < 300:
                raise ProvdClientError(resp.status, _decode(raw), method, url)
            return resp.status, dict(resp.headers), _decode(raw)
        raise AssertionError("unreachable")  # the second attempt returns or raises

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        """An idle kept connection still open (and True), else a new one (and False)."""
        while self._idle:
            try:
                conn = self._idle.pop()
            except IndexError:  # another thread took the last one
                break
            sock = conn.sock
            # Readable while idle: provd closed it (or sent what nobody asked for).  poll(),
            # not select(): a process serving many targets has descriptors above 1023.
            if sock is not None:
                probe = select.poll()
                probe.register(sock, select.POLLIN)
                if not probe.poll(0):
                    return conn, True
            conn.close()
        return http.client.HTTPConnection(self._host, self._port, timeout=self.timeout), False

    def close(self) -> None:
        """Close the kept-alive connections (a later call opens new ones)."""
        idle = getattr(self, "_idle", [])  # __del__ of a client whose __init__ failed
        while idle:
            try:
                idle.pop().close()
            except IndexError:
                break

    def __del__(self) -> None:
        self.close()

    def wait_operation(self, location: str, timeout: float | None = None) -> str:
        """Poll the operation at *location* until it ends; returns its status, deletes it.

        Raises ProvdClientError when it fails or outlasts *timeout*.
        """
        url = location if location.startswith("http") else self._origin + location
        deadline = time.monotonic() + (self.op_timeout if timeout is None else timeout)
        delay = 0.005
        while True:
            body = self.request("GET", url)[2]
            status = str(body.get("status", ""))
            state = operation_state(status)
            if state in ("success", "fail"):
                self.request("DELETE", url)
                if state == "fail":
                    raise ProvdClientError(500, body, "OPERATION", url)
                return status
            if time.monotonic() > deadline:
                raise ProvdClientError(504, f"operation still {status!r}", "OPERATION", url)
            time.sleep(delay)  # polling an operation resource: no event to wait on over HTTP
            delay = min(delay * 2, 0.2)

    def _start(self, path: str, body: Any) -> str:
        headers = self.request("POST", path, body)[1]
        location = headers.get("Location")
        if not location:
            raise ProvdClientError(502, "no Location header for the operation", "POST", path)
        return self.wait_operation(location)

    # configure ---------------------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """Every configure parameter by id."""
        return {p["id"]: p["value"] for p in self.request("GET", "/configure")[2]["params"]}

    def get_param(self, name: str) -> Any:
        """``GET /configure/<name>``."""
        return self.request("GET", f"/configure/{name}")[2]["param"]["value"]

    def set_param(self, name: str, value: Any) -> None:
        """``PUT /configure/<name>``."""
        self.request("PUT", f"/configure/{name}", {"param": {"value": value}})

    def set_plugin_server(self, url: str) -> None:
        """Point provd at a plugin server (URL or, for the embedded provd, a directory)."""
        self.set_param("plugin_server", url)

    # configs -----------------------------------------------------------------------------

    def add_config(self, config: JsonDict) -> str:
        """Create a config; returns its id."""
        return str(self.request("POST", "/cfg_mgr/configs", {"config": config})[2]["id"])

    def get_config(self, config_id: str) -> JsonDict:
        """A config by id."""
        return dict(self.request("GET", f"/cfg_mgr/configs/{_q(config_id)}")[2]["config"])

    def configs(self, **selector: Any) -> list[JsonDict]:
        """Configs, optionally those whose fields equal *selector*."""
        query = {"q": json.dumps(selector)} if selector else None
        return list(self.request("GET", "/cfg_mgr/configs", query=query)[2]["configs"])

    def update_config(self, config_id: str, config: JsonDict) -> None:
        """Replace a config."""
        self.request("PUT", f"/cfg_mgr/configs/{_q(config_id)}", {"config": config})

    def delete_config(self, config_id: str) -> None:
        """Remove a config."""
        self.request("DELETE", f"/cfg_mgr/configs/{_q(config_id)}")

    def raw_config(self, config_id: str) -> JsonDict:
        """The flattened raw config."""
        return dict(self.request("GET", f"/cfg_mgr/configs/{_q(config_id)}/raw")[2]["raw_config"])

    def autocreate(self) -> str:
        """A new transient config from the autocreate config; returns its id."""
        return str(self.request("POST", "/cfg_mgr/autocreate", {})[2]["id"])

    # devices -----------------------------------------------------------------------------

    def add_device(self, device: JsonDict) -> str:
        """Create a device; returns its id."""
        return str(self.request("POST", "/dev_mgr/devices", {"device": device})[2]["id"])

    def get_device(self, device_id: str) -> JsonDict:
        """A device by id."""
        return dict(self.request("GET", f"/dev_mgr/devices/{_q(device_id)}")[2]["device"])

    def devices(self, *, recurse: bool = False, **selector: Any) -> list[JsonDict]:
        """Devices, optionally those whose fields equal *selector* (e.g. ``mac=...``).

        Only the client's tenant's devices, and with *recurse* those of the tenants below it.
        """
        query = {"q": json.dumps(selector)} if selector else {}
        if recurse:
            query["recurse"] = "true"
        return list(self.request("GET", "/dev_mgr/devices", query=query or None)[2]["devices"])

    def find_device(self, **selector: Any) -> JsonDict | None:
        """The first device matching *selector*, or None."""
        found = self.devices(**selector)
        return found[0] if found else None

    def update_device(self, device_id: str, device: JsonDict) -> None:
        """Replace a device."""
        self.request("PUT", f"/dev_mgr/devices/{_q(device_id)}", {"device": device})

    def delete_device(self, device_id: str) -> None:
        """Remove a device."""
        self.request("DELETE", f"/dev_mgr/devices/{_q(device_id)}")

    def reconfigure(self, device_id: str) -> None:
        """Configure a device again."""
        self.request("POST", "/dev_mgr/reconfigure", {"id": device_id})

    def synchronize(self, device_id: str) -> str:
        """Ask a device to resync (waits for the operation)."""
        return self._start("/dev_mgr/synchronize", {"id": device_id})

    def dhcpinfo(self, ip: str, mac: str, options: list[str], op: str = "commit") -> None:
        """Push a DHCP transaction as Wazo's dhcpd hook does (options: ``CCC`` + dotted hex)."""
        info = {"op": op, "ip": ip, "mac": mac, "options": options}
        self.request("POST", "/dev_mgr/dhcpinfo", {"dhcp_info": info})

    # plugins -----------------------------------------------------------------------------

    def update_plugins(self) -> str:
        """Refresh the installable list from the plugin server (waits)."""
        return self._start("/pg_mgr/install/update", {})

    def installable_plugins(self) -> dict[str, JsonDict]:
        """Plugins the plugin server offers (after :meth:`update_plugins`)."""
        return dict(self.request("GET", "/pg_mgr/install/installable")[2]["pkgs"])

    def installed_plugins(self) -> dict[str, JsonDict]:
        """Installed plugins."""
        return dict(self.request("GET", "/pg_mgr/install/installed")[2]["pkgs"])

    def loaded_plugins(self) -> list[str]:
        """Ids of loaded plugins."""
        return sorted(self.request("GET", "/pg_mgr/plugins")[2]["plugins"])

    def plugin_info(self, plugin_id: str) -> JsonDict:
        """A loaded plugin's plugin-info."""
        return dict(self.request("GET", f"/pg_mgr/plugins/{_q(plugin_id)}/info")[2]["plugin_info"])

    def install_plugin(self, plugin_id: str) -> str:
        """Install a plugin from the plugin server (waits)."""
        return self._start("/pg_mgr/install/install", {"id": plugin_id})

    def upgrade_plugin(self, plugin_id: str) -> str:
        """Upgrade an installed plugin from the plugin server (waits)."""
        return self._start("/pg_mgr/install/upgrade", {"id": plugin_id})

    def uninstall_plugin(self, plugin_id: str) -> None:
        """Uninstall a plugin."""
        self.request("POST", "/pg_mgr/install/uninstall", {"id": plugin_id})

    def reload_plugin(self, plugin_id: str) -> None:
        """Reload a plugin."""
        self.request("POST", "/pg_mgr/reload", {"id": plugin_id})

    # firmware ----------------------------------------------------------------------------

    def plugin_params(self, plugin_id: str) -> dict[str, Any]:
        """A plugin's ``configure`` service parameters by id."""
        path = f"/pg_mgr/plugins/{_q(plugin_id)}/configure"
        return {p["id"]: p["value"] for p in self.request("GET", path)[2]["params"]}

    def set_plugin_param(self, plugin_id: str, name: str, value: Any) -> None:
        """``PUT /pg_mgr/plugins/<id>/configure/<name>``."""
        path = f"/pg_mgr/plugins/{_q(plugin_id)}/configure/{_q(name)}"
        self.request("PUT", path, {"param": {"value": value}})

    def _fw(self, plugin_id: str) -> str:
        return f"/pg_mgr/plugins/{_q(plugin_id)}/install"

    def installable_firmware(self, plugin_id: str) -> dict[str, JsonDict]:
        """Firmware packages a plugin offers."""
        return dict(self.request("GET", self._fw(plugin_id) + "/installable")[2]["pkgs"])

    def installed_firmware(self, plugin_id: str) -> dict[str, JsonDict]:
        """Firmware packages installed for a plugin."""
        return dict(self.request("GET", self._fw(plugin_id) + "/installed")[2]["pkgs"])

    def install_firmware(self, plugin_id: str, pkg_id: str) -> str:
        """Install one firmware package (waits)."""
        return self._start(self._fw(plugin_id) + "/install", {"id": pkg_id})

    def uninstall_firmware(self, plugin_id: str, pkg_id: str) -> None:
        """Uninstall one firmware package."""
        self.request("POST", self._fw(plugin_id) + "/uninstall", {"id": pkg_id})

    def install_all_firmware(self, plugin_id: str) -> list[str]:
        """Install every package not installed yet (``p.install_all()``); returns their ids."""
        installed = self.installed_firmware(plugin_id)
        done = []
        for pkg_id in sorted(self.installable_firmware(plugin_id)):
            if pkg_id not in installed:
                self.install_firmware(plugin_id, pkg_id)
                done.append(pkg_id)
        return done

    def status(self) -> JsonDict:
        """``GET /status``."""
        return dict(self.request("GET", "/status")[2])


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
