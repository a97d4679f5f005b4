"""The ``embedded`` backend: our own provd (:class:`~pytest_provd.provd.server.EmbeddedProvd`),
one per target, on free loopback ports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_provd.backends.base import Driver, ProvdEndpoints, rest_driver
from pytest_provd.problems import SourceError
from pytest_provd.provd.plugins.errors import PluginError
from pytest_provd.provd.server import EmbeddedProvd


class EmbeddedBackend:
    """Our embedded provd; *options* go to :class:`EmbeddedProvd` (``firmware_dir``...)."""

    name = "embedded"

    def __init__(self, state_dir: Path | None = None, **options: Any) -> None:
        self.provd = EmbeddedProvd(state_dir, **options)

    def start(self) -> ProvdEndpoints:
        p = self.provd.start()
        return ProvdEndpoints(p.rest_url, p.http_url, p.tftp_address, p.token)

    def close(self) -> None:
        self.provd.close()

    def install_plugin(self, built_dir: Path) -> str:
        return self.provd.install_plugin_dir(built_dir).id

    def install_firmware(self, plugin_id: str) -> dict[str, str]:
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
        return rest_driver(ProvdEndpoints(p.rest_url, p.http_url, p.tftp_address, p.token))

    def dhcp_hook(self) -> Callable[[dict[str, Any]], None] | None:
        return None
