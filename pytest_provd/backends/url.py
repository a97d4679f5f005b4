"""The ``url`` backend: a provd already running, on a loopback address or (opted in) not.

A container with published ports, ``provd-harness serve``, an ``ssh -L`` tunnel, or with
``--provd-allow-remote`` a test VM on the LAN.  The plugin reaches it the way
managing-plugins.md says: through a plugin server (ours: on 127.0.0.1, or on this machine's
address towards a remote provd), then ``pg_mgr`` install.  Everything the run creates is
removed at the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import socket
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pytest_provd import tree
from pytest_provd.backends.base import (
    DEFAULT_HTTP_PORT,
    DEFAULT_TFTP_PORT,
    BackendError,
    Driver,
    ProvdEndpoints,
    plugin_server,
    rest_driver,
)
from pytest_provd.client import ProvdClient, ProvdClientError
from pytest_provd.compat.realplugins import stage_firmware
from pytest_provd.firmware.proxy import FirmwareProxy
from pytest_provd.net import is_loopback_url


@contextlib.contextmanager
def _url_lock(rest_url: str) -> Iterator[None]:
    """Serialise plugin-server switches on one provd across xdist workers (one host)."""
    digest = hashlib.sha1(rest_url.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"pytest-provd-url-{digest}.lock"
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def _proxied(client: ProvdClient, proxies: dict[str, str]) -> Iterator[None]:
    """The provd's ``<scheme>_proxy`` parameters set to *proxies*, and put back."""
    previous = {scheme: client.get_param(f"{scheme}_proxy") for scheme in proxies}
    try:
        for scheme, url in proxies.items():
            client.set_param(f"{scheme}_proxy", url)
        yield
    finally:
        for scheme, value in previous.items():
            client.set_param(f"{scheme}_proxy", value)


def _local_address_towards(host: str, port: int) -> str:
    """This machine's address on the route to *host* (a UDP connect sends nothing)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, port))
        except OSError as exc:
            raise BackendError(f"no route to the provd at {host}: {exc}") from None
        return str(probe.getsockname()[0])


class UrlBackend:
    """An already running provd at *rest_url*; nothing is started.

    Only on a loopback address unless *allow_remote* (``--provd-allow-remote``).
    Plugins are installed the way a maintainer installs them on a test box: this backend
    packages the built plugin into a plugin server of its own (HTTP on 127.0.0.1), points the
    provd's ``plugin_server`` at it, runs ``pg_mgr`` update + install, and restores the
    previous ``plugin_server``.  A plugin already installed there is refused, never replaced.
    :meth:`close` uninstalls what it installed and deletes the devices and configs it
    created (by MAC and id, so other devices of that provd are left alone).
    """

    name = "url"

    def __init__(
        self,
        rest_url: str,
        *,
        http_url: str | None = None,
        tftp_port: int = DEFAULT_TFTP_PORT,
        token: str | None = None,
        timeout: float = 5.0,
        op_timeout: float = 120.0,
        allow_remote: bool = False,
        firmware_dir: Path | None = None,
    ) -> None:
        if not allow_remote and not is_loopback_url(rest_url):
            raise BackendError(
                f"--provd-url {rest_url}: only loopback provds unless --provd-allow-remote "
                "(or publish the container's ports on 127.0.0.1, or tunnel with ssh -L)"
            )
        parts = urllib.parse.urlsplit(rest_url)
        host = parts.hostname or "127.0.0.1"
        host = "127.0.0.1" if host == "localhost" else host
        http_url = http_url or f"http://{host}:{DEFAULT_HTTP_PORT}/"
        if not allow_remote and not is_loopback_url(http_url):
            raise BackendError(f"--provd-http-url {http_url}: not a loopback URL")
        self.endpoints = ProvdEndpoints(rest_url.rstrip("/"), http_url, (host, tftp_port), token)
        self._remote_port = parts.port or (443 if parts.scheme == "https" else 80)
        self.firmware_dir = firmware_dir
        # Firmware staged for a loopback provd's fetchfw (a remote one downloads as it does).
        self._stage_firmware = is_loopback_url(rest_url)
        self._stage: Path | None = None
        self._limits: dict[str, dict[str, str]] = {}
        self.timeout = timeout
        self.op_timeout = op_timeout
        self._installed: list[str] = []
        self._macs: set[str] = set()
        self._configs: list[str] = []
        self._lock = threading.Lock()

    def _client(self) -> ProvdClient:
        return ProvdClient(
            self.endpoints.rest_url, self.endpoints.token, self.timeout, op_timeout=self.op_timeout
        )

    def start(self) -> ProvdEndpoints:
        try:
            self._client().params()
        except ProvdClientError as exc:
            # The user named this provd: unreachable is a failure, not a skip.
            raise BackendError(f"provd at {self.endpoints.rest_url}: {exc}") from None
        return self.endpoints

    def install_plugin(self, built_dir: Path) -> str:
        plugin_id = built_dir.name
        client = self._client()
        with tempfile.TemporaryDirectory(prefix="provd-url-pkg-") as tmp:
            source = built_dir
            if self._stage_firmware:
                if self._stage is None:
                    self._stage = Path(tempfile.mkdtemp(prefix="provd-url-firmware-"))
                # A copy whose pkgs.db real fetchfw can be fed on loopback (stage_firmware).
                source = Path(tmp) / "src" / plugin_id
                shutil.copytree(built_dir, source, symlinks=True)
                limits = stage_firmware(source, self.firmware_dir, self._stage)
                self._limits[plugin_id] = {k: v.message for k, v in limits.items()}
            tree.package(source, Path(tmp))
            tree.write_plugins_db(Path(tmp))
            serve_on = "127.0.0.1"
            if not is_loopback_url(self.endpoints.rest_url):
                # A remote provd downloads the plugin from this machine.
                serve_on = _local_address_towards(self.endpoints.tftp_address[0], self._remote_port)
            with _url_lock(self.endpoints.rest_url), plugin_server(Path(tmp), serve_on) as url:
                try:
                    if plugin_id in client.installed_plugins():
                        raise BackendError(
                            f"{plugin_id} is already installed on the provd at "
                            f"{self.endpoints.rest_url}; the url backend never replaces a "
                            "plugin it did not install: uninstall it there first"
                        )
                    previous = client.get_param("plugin_server")
                    client.set_plugin_server(url)
                    try:
                        client.update_plugins()
                        client.install_plugin(plugin_id)
                    finally:
                        client.set_param("plugin_server", previous)
                except ProvdClientError as exc:
                    raise BackendError(
                        f"installing {plugin_id} on {self.endpoints.rest_url}: {exc}"
                    ) from None
        with self._lock:
            self._installed.append(plugin_id)
        return plugin_id

    def install_firmware(self, plugin_id: str) -> dict[str, str]:
        """Install every package through the provd's REST API; on loopback, with its proxies
        pointed at a loopback firmware proxy serving the staged files meanwhile (its own
        fetchfw then never leaves this host), put back after."""
        client = self._client()
        failed = dict(self._limits.get(plugin_id, {}))
        try:
            installable = client.installable_firmware(plugin_id)
        except ProvdClientError as exc:
            return {"*": str(exc)}
        with contextlib.ExitStack() as stack:
            if self._stage is not None:
                stack.enter_context(_url_lock(self.endpoints.rest_url))
                proxy = stack.enter_context(FirmwareProxy(self._stage))
                # Staged URLs are all http: provd's https_proxy (host:port) is not needed.
                stack.enter_context(_proxied(client, {"http": proxy.url}))
            for pkg_id in sorted(installable):
                if pkg_id in failed:
                    continue
                try:
                    client.install_firmware(plugin_id, pkg_id)
                except ProvdClientError as exc:
                    failed[pkg_id] = str(exc)
        return failed

    def track(self, mac: str | None = None, config_id: str | None = None) -> None:
        with self._lock:
            if mac:
                self._macs.add(mac.lower())
            if config_id:
                self._configs.append(config_id)

    def driver(self) -> Driver:
        return rest_driver(self.endpoints)

    def dhcp_hook(self) -> Callable[[dict[str, Any]], None] | None:
        return None

    def close(self) -> None:
        """Remove this run's devices, configs and plugins from the provd (best effort, bounded)."""
        client = self._client()
        with self._lock:
            macs, self._macs = self._macs, set()
            configs, self._configs = self._configs, []
            installed, self._installed = self._installed, []
        errors: list[str] = []
        try:
            for device in client.devices():
                if str(device.get("mac", "")).lower() in macs:
                    client.delete_device(str(device["id"]))
        except ProvdClientError as exc:
            errors.append(str(exc))
        for config_id in reversed(configs):
            try:
                client.delete_config(config_id)
            except ProvdClientError as exc:
                if exc.status != 404:
                    errors.append(str(exc))
        for plugin_id in installed:
            try:
                client.uninstall_plugin(plugin_id)
            except ProvdClientError as exc:
                errors.append(str(exc))
        if self._stage is not None:
            shutil.rmtree(self._stage, ignore_errors=True)
        if errors:
            raise BackendError(
                f"cleaning up the provd at {self.endpoints.rest_url}: " + "; ".join(errors)
            )
