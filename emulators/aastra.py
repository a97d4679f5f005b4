"""Aastra/Mitel 67xxi and 68xxi phones: ``key: value`` text configuration over HTTP.

Sequence: ``aastra.cfg`` → ``<model>.cfg`` → ``<MAC>.cfg`` (later files override earlier keys);
every non-comment line must be ``key: value`` (other lines are recorded as errors with file
and line).  Firmware: ``<model>.st`` on the configuration server.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.dhcp.packet import decode_vendor_options
from emulators.phone import Phone
from pytest_provd.firmware.image import version_of

_LINE = re.compile(
    r"^sip line(\d+) (user name|password|screen name|proxy ip|registrar ip|proxy port)$"
)
_FIELDS = {
    "user name": "username",
    "password": "password",
    "screen name": "display_name",
    "proxy ip": "proxy",
    "registrar ip": "registrar",
    "proxy port": "port",
}


class AastraPhone(Phone):
    """An Aastra phone, or a Mitel 69xx (``Mitel`` identity, Mitel MAC prefix)."""

    vendor = "aastra"
    oui = "00:08:5d"

    @property
    def own_name(self) -> str:
        """The name the set calls itself: the 5xi family (6751i-6757i) says ``57i``."""
        return self.model[2:] if re.fullmatch(r"675\di", self.model) else self.model

    @staticmethod
    def is_mitel(model: str) -> bool:
        """Mitel 69xx sets identify as Mitel, not Aastra."""
        return bool(re.match(r"^69\d\d", model))

    @classmethod
    def oui_for(cls, model: str) -> str:
        return "14:00:e9" if cls.is_mitel(model) else cls.oui

    def user_agent(self) -> str:
        mac = "-".join(self.mac12[i : i + 2] for i in range(0, 12, 2))
        brand = "Mitel" if self.is_mitel(self.model) else "Aastra"
        return f"{brand}{self.own_name} MAC:{mac} V:{self.state.firmware_version}-SIP"

    def vendor_class(self) -> str:
        brand = "Mitel" if self.is_mitel(self.model) else "Aastra"
        return f"{brand}IPPhone{self.own_name}"

    def provisioning_server(self, lease: Any) -> str | None:
        sub = decode_vendor_options(lease.options.get(43, b""))
        if 2 in sub:
            return sub[2].decode("latin-1").rstrip("/") + "/"
        value = lease.tftp_server
        return str(value) if value and value.startswith("http") else None

    def provision(self) -> None:
        prefix = "" if (self.http_url or "").rstrip("/").endswith("Aastra") else "Aastra/"
        for name in ("aastra.cfg", f"{self.own_name}.cfg", f"{self.mac12}.cfg"):
            data = self.http_get(prefix + name)
            if data is not None:
                self._apply(name, data)
        if f"{self.mac12}.cfg" not in self.state.files:
            self.state.errors.append(f"{self.mac12}.cfg: mandatory per-device file not fetched")

    def _apply(self, name: str, data: bytes) -> None:
        for raw_key, value in self.key_values(name, data, ":"):
            key = raw_key.lower()
            self.state.settings[key] = value
            match = _LINE.match(key)
            if match:
                self.set_line(int(match.group(1)), **{_FIELDS[match.group(2)]: value})
            elif key == "language":
                self.state.language = value
            elif key == "time zone name":
                self.state.timezone = value

    def firmware_offer(self) -> tuple[str, str] | None:
        prefix = "" if (self.http_url or "").rstrip("/").endswith("Aastra") else "Aastra/"
        name = f"{prefix}{self.own_name}.st"
        data = self.http_get(name)
        if data is None:
            return None
        version = version_of(data)
        return (version, name) if version else None
