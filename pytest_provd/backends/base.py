"""What every backend is: the :class:`Backend` protocol, its endpoints, errors and driver.

Every backend gives the same :class:`ProvdEndpoints` and the same three verbs (install a
plugin built from the working tree, install its firmware, clean up), so the generated suite's
phones do not care which provd they boot against.  :func:`plugin_server` serves plugin
packages on loopback for the backends that install the way provd does.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pytest_provd.client import ProvdClient
from pytest_provd.problems import ProvdHarnessError

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


def rest_driver(endpoints: ProvdEndpoints) -> Driver:
    """The REST client of a provd serving its API at ``endpoints.rest_url``."""
    return ProvdClient(endpoints.rest_url, endpoints.token)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def list_directory(self, path: str | Any) -> Any:
        self.send_error(404, "no listing")
        return None


@contextlib.contextmanager
def plugin_server(directory: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve *directory* (plugins.db + tarballs) over HTTP on *host* (a remote provd's
    plugin server must be reachable from it); yields its URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="plugin-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
