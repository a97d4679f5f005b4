"""Where the provd under test runs: embedded (ours), a real installed wazo_provd, or a URL.

Every backend gives the same :class:`ProvdEndpoints` and the same three verbs (install a
plugin built from the working tree, install its firmware, clean up), so the generated suite's
phones do not care which provd they boot against.

- ``embedded``: :class:`EmbeddedBackend`, our server, one per target.
- ``url``: :class:`UrlBackend`, a provd already running on a loopback address (a container
  with published ports, ``provd-harness serve``, an ``ssh -L`` tunnel).  The plugin reaches
  it the way managing-plugins.md says: through a plugin server (ours, on 127.0.0.1), then
  ``pg_mgr`` install.  Everything the run creates is removed at the end.
- ``real``: :class:`RealBackend`, an installed ``wazo_provd`` run in-process
  (:mod:`pytest_provd.backends.realprovd`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import http.server
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pytest_provd.net import is_loopback_url
from pytest_provd.problems import ProvdHarnessError

if TYPE_CHECKING:
    from pytest_provd.backends.realprovd import RealProvd

DEFAULT_HTTP_PORT = 8667
DEFAULT_TFTP_PORT = 69


class BackendUnavailable(ProvdHarnessError):
    """The backend cannot run here (not importable, not reachable); tests should skip."""


class BackendError(ProvdHarnessError):
    """The backend runs but refused what was asked (install failed, plugin already there)."""


@dataclass(frozen=True)
class ProvdEndpoints:
    """Addresses of a running provd."""

    rest_url: str
    http_url: str
    tftp_address: tuple[str, int]
    token: str | None = None


class Backend(Protocol):
    """A provd the harness can start, install plugins into and stop."""

    name: str

    def start(self) -> ProvdEndpoints:
        """Start (or attach); returns the endpoints."""
        ...

    def close(self) -> None:
        """Stop (or detach and remove what this run created); idempotent."""
        ...

    def install_plugin(self, built_dir: Path) -> str:
        """Install a plugin built from the working tree; returns its id."""
        ...

    def install_firmware(self, plugin_id: str) -> dict[str, str]:
        """Install every firmware package of *plugin_id*; ``{pkg_id: why}`` for failures."""
        ...

    def track(self, mac: str | None = None, config_id: str | None = None) -> None:
        """Remember a device MAC or config id the run created, to remove at close."""
        ...

    def driver(self) -> Driver:
        """What creates configs and devices on this provd (its REST client, or the app)."""
        ...

    def dhcp_hook(self) -> Callable[[dict[str, Any]], None] | None:
        """Where a DHCP commit goes when not to ``rest_url``/dev_mgr/dhcpinfo."""
        ...


class Driver(Protocol):
    """The calls the generated suite makes on a provd: a config, a device, then a look at
    the device as provd recorded it."""

    def add_config(self, config: dict[str, Any]) -> str: ...

    def add_device(self, device: dict[str, Any]) -> str: ...

    def find_device(self, **selector: Any) -> dict[str, Any] | None: ...


def _rest_driver(endpoints: ProvdEndpoints) -> Driver:
    from pytest_provd.client import ProvdClient

    return ProvdClient(endpoints.rest_url, endpoints.token)


class EmbeddedBackend:
    """Our embedded provd (:class:`~pytest_provd.provd.domain.app.EmbeddedProvd`)."""

    name = "embedded"

    def __init__(self, state_dir: Path | None = None, **options: Any) -> None:
        from pytest_provd.provd.domain.app import EmbeddedProvd

        self.provd = EmbeddedProvd(state_dir, **options)

    def start(self) -> ProvdEndpoints:
        p = self.provd.start()
        return ProvdEndpoints(p.rest_url, p.http_url, p.tftp_address, p.token)

    def close(self) -> None:
        self.provd.close()

    def install_plugin(self, built_dir: Path) -> str:
        return self.provd.install_plugin_dir(built_dir).id

    def install_firmware(self, plugin_id: str) -> dict[str, str]:
        from pytest_provd.problems import SourceError
        from pytest_provd.provd.plugins.manager import PluginError

        failed: dict[str, str] = {}
        firmware = self.provd.plugins.loaded[plugin_id].firmware
        if firmware is None:
            return failed
        for pkg_id in sorted(firmware.installable()):
            try:
                firmware.install(pkg_id)
            except (PluginError, SourceError) as exc:
                failed[pkg_id] = str(exc)
        return failed

    def track(self, mac: str | None = None, config_id: str | None = None) -> None:
        # The whole embedded provd goes away at close: nothing to remember.
        return None

    def driver(self) -> Driver:
        p = self.provd
        return _rest_driver(ProvdEndpoints(p.rest_url, p.http_url, p.tftp_address, p.token))

    def dhcp_hook(self) -> Callable[[dict[str, Any]], None] | None:
        return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def list_directory(self, path: str | Any) -> Any:
        self.send_error(404, "no listing")
        return None


@contextlib.contextmanager
def plugin_server(directory: Path) -> Iterator[str]:
    """Serve *directory* (plugins.db + tarballs) over HTTP on 127.0.0.1; yields its URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="plugin-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


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


class UrlBackend:
    """An already running provd at *rest_url* on a loopback address; nothing is started.

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
    ) -> None:
        if not is_loopback_url(rest_url):
            raise BackendError(
                f"--provd-url {rest_url}: only loopback provds are supported (publish the "
                "container's ports on 127.0.0.1, or tunnel with ssh -L)"
            )
        host = urllib.parse.urlsplit(rest_url).hostname or "127.0.0.1"
        host = "127.0.0.1" if host == "localhost" else host
        http_url = http_url or f"http://{host}:{DEFAULT_HTTP_PORT}/"
        if not is_loopback_url(http_url):
            raise BackendError(f"--provd-http-url {http_url}: not a loopback URL")
        self.endpoints = ProvdEndpoints(rest_url.rstrip("/"), http_url, (host, tftp_port), token)
        self.timeout = timeout
        self.op_timeout = op_timeout
        self._installed: list[str] = []
        self._macs: set[str] = set()
        self._configs: list[str] = []
        self._lock = threading.Lock()

    def _client(self) -> Any:
        from pytest_provd.client import ProvdClient

        return ProvdClient(
            self.endpoints.rest_url, self.endpoints.token, self.timeout, op_timeout=self.op_timeout
        )

    def start(self) -> ProvdEndpoints:
        from pytest_provd.client import ProvdClientError

        try:
            self._client().params()
        except ProvdClientError as exc:
            # The user named this provd: unreachable is a failure, not a skip.
            raise BackendError(f"provd at {self.endpoints.rest_url}: {exc}") from None
        return self.endpoints

    def install_plugin(self, built_dir: Path) -> str:
        from pytest_provd import tree
        from pytest_provd.client import ProvdClientError

        plugin_id = built_dir.name
        client = self._client()
        with tempfile.TemporaryDirectory(prefix="provd-url-pkg-") as tmp:
            tree.package(built_dir, Path(tmp))
            tree.write_plugins_db(Path(tmp))
            with _url_lock(self.endpoints.rest_url), plugin_server(Path(tmp)) as url:
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
        from pytest_provd.client import ProvdClientError

        client = self._client()
        failed: dict[str, str] = {}
        try:
            installable = client.installable_firmware(plugin_id)
        except ProvdClientError as exc:
            return {"*": str(exc)}
        for pkg_id in sorted(installable):
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
        return _rest_driver(self.endpoints)

    def dhcp_hook(self) -> Callable[[dict[str, Any]], None] | None:
        return None

    def close(self) -> None:
        """Remove this run's devices, configs and plugins from the provd (best effort, bounded)."""
        from pytest_provd.client import ProvdClientError

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
        if errors:
            raise BackendError(
                f"cleaning up the provd at {self.endpoints.rest_url}: " + "; ".join(errors)
            )


class RealBackend:
    """A real ``wazo_provd`` run in-process (see :mod:`pytest_provd.backends.realprovd`)."""

    name = "real"

    def __init__(self, state_dir: Path, **options: Any) -> None:
        self.state_dir = state_dir
        self.options = options
        self._provd: RealProvd | None = None

    @staticmethod
    def available() -> str | None:
        """None when an installed ``wazo_provd`` can run here, else why not."""
        from pytest_provd.backends import realprovd

        return realprovd.unavailable_reason()

    def start(self) -> ProvdEndpoints:
        from pytest_provd.backends import realprovd

        reason = realprovd.unavailable_reason()
        if reason is not None:
            raise BackendUnavailable(reason)
        self._provd = realprovd.RealProvd(self.state_dir, **self.options).start()
        assert self._provd.endpoints is not None
        return self._provd.endpoints

    def close(self) -> None:
        if self._provd is not None:
            self._provd.close()
            self._provd = None

    def install_plugin(self, built_dir: Path) -> str:
        assert self._provd is not None, "start() first"
        return self._provd.install_plugin_dir(built_dir)

    def install_firmware(self, plugin_id: str) -> dict[str, str]:
        assert self._provd is not None, "start() first"
        return dict(self._provd.install_firmware(plugin_id))

    def track(self, mac: str | None = None, config_id: str | None = None) -> None:
        # Private state dir, removed at close.
        return None

    def driver(self) -> Driver:
        assert self._provd is not None, "start() first"
        return self._provd

    def dhcp_hook(self) -> Callable[[dict[str, Any]], None] | None:
        assert self._provd is not None, "start() first"
        return self._provd.dhcpinfo
