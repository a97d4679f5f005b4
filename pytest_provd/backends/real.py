"""The ``real`` backend: an installed ``wazo_provd`` run in-process.

How it is driven is :mod:`pytest_provd.backends.realprovd`'s; this is the :class:`Backend` face.
Plugins' firmware downloads (real fetchfw) go through a loopback
:class:`~pytest_provd.firmware.proxy.FirmwareProxy` serving the files
:func:`~pytest_provd.compat.realplugins.stage_firmware` staged: ``--provd-firmware-dir``'s,
else synthetic ones, so real-provd phones upgrade too.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_provd.backends.base import BackendUnavailable, Driver, ProvdEndpoints
from pytest_provd.backends.realprovd import RealProvd, unavailable_reason
from pytest_provd.compat.realplugins import stage_firmware
from pytest_provd.firmware.proxy import FirmwareProxy


class RealBackend:
    """A real ``wazo_provd`` run in-process (see :mod:`pytest_provd.backends.realprovd`)."""

    name = "real"

    def __init__(
        self, state_dir: Path, *, firmware_dir: Path | None = None, **options: Any
    ) -> None:
        self.state_dir = state_dir
        self.firmware_dir = firmware_dir
        self.options = options
        self._provd: RealProvd | None = None
        self._proxy: FirmwareProxy | None = None
        self._limits: dict[str, dict[str, str]] = {}

    @staticmethod
    def available() -> str | None:
        """None when an installed ``wazo_provd`` can run here, else why not."""
        return unavailable_reason()

    def start(self) -> ProvdEndpoints:
        reason = unavailable_reason()
        if reason is not None:
            raise BackendUnavailable(reason)
        self._proxy = FirmwareProxy(self.state_dir / "firmware-stage").start()
        try:
            self._provd = RealProvd(
                self.state_dir, proxies=self._proxy.proxies, **self.options
            ).start()
        except BaseException:
            self.close()
            raise
        assert self._provd.endpoints is not None
        return self._provd.endpoints

    def close(self) -> None:
        try:
            if self._provd is not None:
                self._provd.close()
                self._provd = None
        finally:
            if self._proxy is not None:
                self._proxy.close()
                self._proxy = None

    def install_plugin(self, built_dir: Path) -> str:
        assert self._provd is not None, "start() first"
        # A copy whose pkgs.db real fetchfw can be fed on loopback (stage_firmware).
        staged = self.state_dir / "staged" / built_dir.name
        shutil.rmtree(staged, ignore_errors=True)
        shutil.copytree(built_dir, staged, symlinks=True)
        limits = stage_firmware(staged, self.firmware_dir, self.state_dir / "firmware-stage")
        self._limits[built_dir.name] = {k: v.message for k, v in limits.items()}
        return self._provd.install_plugin_dir(staged)

    def install_firmware(self, plugin_id: str) -> dict[str, str]:
        assert self._provd is not None, "start() first"
        return self._provd.install_firmware(plugin_id, self._limits.get(plugin_id))

    def track(self, mac: str | None = None, config_id: str | None = None) -> None:
        # Private state dir, removed at close.
        return None

    def driver(self) -> Driver:
        assert self._provd is not None, "start() first"
        return self._provd

    def dhcp_hook(self) -> Callable[[dict[str, Any]], None] | None:
        assert self._provd is not None, "start() first"
        return self._provd.dhcpinfo
