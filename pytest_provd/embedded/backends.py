"""Where the provd under test runs: embedded (ours), a real installed wazo_provd, or a URL.

Every backend gives the same :class:`ProvdEndpoints` so fixtures, emulators and the client do
not care which one is used.  Only :class:`EmbeddedBackend` is complete; :class:`RealBackend`
and :class:`UrlBackend` are the seams for the others.
"""

from __future__ import annotations

import importlib.util
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pytest_provd.problems import ProvdHarnessError


class BackendUnavailable(ProvdHarnessError):
    """The backend cannot run here (not importable, not reachable); tests should skip."""


@dataclass(frozen=True)
class ProvdEndpoints:
    """Addresses of a running provd."""

    rest_url: str
    http_url: str
    tftp_address: tuple[str, int]
    token: str | None = None


class Backend(Protocol):
    """A provd the harness can start, install plugins into and stop."""

    def start(self) -> ProvdEndpoints:
        """Start (or attach); returns the endpoints."""
        ...

    def close(self) -> None:
        """Stop (or detach); idempotent."""
        ...

    def install_plugin(self, plugin: Path | str) -> str:
        """Install a built plugin directory (or an id from the plugin server); returns its id."""
        ...


class EmbeddedBackend:
    """Our embedded provd (:class:`~pytest_provd.embedded.app.EmbeddedProvd`)."""

    def __init__(self, state_dir: Path | None = None, **options: Any) -> None:
        from pytest_provd.embedded.app import EmbeddedProvd

        self.provd = EmbeddedProvd(state_dir, **options)

    def start(self) -> ProvdEndpoints:
        p = self.provd.start()
        return ProvdEndpoints(p.rest_url, p.http_url, p.tftp_address, p.token)

    def close(self) -> None:
        self.provd.close()

    def install_plugin(self, plugin: Path | str) -> str:
        if isinstance(plugin, Path):
            return self.provd.install_plugin_dir(plugin).id
        return self.provd.install_plugin(plugin).id


class RealBackend:
    """A real ``wazo_provd`` run in-process (needs it importable, with twisted).

    Not implemented beyond the availability check: :meth:`start` raises
    :class:`BackendUnavailable` naming what is missing.
    """

    def __init__(self, state_dir: Path, **options: Any) -> None:
        self.state_dir = state_dir
        self.options = options

    @staticmethod
    def available() -> bool:
        """True when ``wazo_provd`` can be imported."""
        return importlib.util.find_spec("wazo_provd") is not None

    def start(self) -> ProvdEndpoints:
        if not self.available():
            raise BackendUnavailable(
                "wazo_provd is not importable: install wazo-provd in this environment "
                "(pip install -e <wazo-provd checkout>) to use the real backend"
            )
        raise BackendUnavailable("the real in-process backend is not implemented yet")

    def close(self) -> None:
        return None

    def install_plugin(self, plugin: Path | str) -> str:
        raise BackendUnavailable("the real in-process backend is not implemented yet")


class UrlBackend:
    """An already running provd at *rest_url* (e.g. a Wazo test box); nothing is started.

    Plugins are installed through the REST API from its ``plugin_server``; a built directory
    cannot be pushed to a remote provd.
    """

    def __init__(
        self,
        rest_url: str,
        *,
        http_url: str | None = None,
        tftp_address: tuple[str, int] | None = None,
        token: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        host = urllib.parse.urlsplit(rest_url).hostname or "127.0.0.1"
        self.endpoints = ProvdEndpoints(
            rest_url.rstrip("/"),
            http_url or f"http://{host}:8667/",
            tftp_address or (host, 69),
            token,
        )
        self.timeout = timeout

    def start(self) -> ProvdEndpoints:
        from pytest_provd.client import ProvdClient, ProvdClientError

        client = ProvdClient(self.endpoints.rest_url, self.endpoints.token, self.timeout)
        try:
            client.status()
        except ProvdClientError as exc:
            raise BackendUnavailable(f"provd at {self.endpoints.rest_url}: {exc}") from None
        return self.endpoints

    def close(self) -> None:
        return None

    def install_plugin(self, plugin: Path | str) -> str:
        if isinstance(plugin, Path):
            raise BackendUnavailable("a remote provd installs plugins from its plugin_server only")
        from pytest_provd.client import ProvdClient

        ProvdClient(self.endpoints.rest_url, self.endpoints.token, self.timeout).install_plugin(
            plugin
        )
        return plugin
