"""Panasonic KX-UT1xx phones: ``KEY="value"`` text files over HTTP.

DHCP option 60 ``Panasonic`` gets option 66 ``<provd>/``.  The phone fetches
``<model>.cfg`` (``KX-UT133.cfg``), whose ``CFG_STANDARD_FILE_PATH`` names the per-device
file (``{MAC}`` = upper-case MAC), and then that file.  Every file must start with the line
``# Panasonic SIP Phone Standard Format File #`` (the phones ignore a file without it); other
lines are blank, ``#`` comments or ``KEY="value"``.  Line *n*: ``SIP_URI_<n>``
(``sip:user@host``), ``DISPLAY_NAME_<n>``, ``SIP_PASS_<n>``, ``SIP_RGSTR_ADDR_<n>``.
Firmware: ``FIRM_UPGRADE_ENABLE="Y"``, ``FIRM_VERSION`` and ``FIRM_FILE_PATH``.
User-Agent ``Panasonic_KX-UT133/<version> (<mac>)``.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.phone import Phone

HEADER = "# Panasonic SIP Phone Standard Format File #"
_LINE = re.compile(r"^(SIP_URI|DISPLAY_NAME|SIP_PASS|SIP_RGSTR_ADDR)_(\d+)$")
_FIELDS = {
    "SIP_URI": "username",
    "DISPLAY_NAME": "display_name",
    "SIP_PASS": "password",
    "SIP_RGSTR_ADDR": "registrar",
}
_SETTING = re.compile(r'^([A-Z][A-Z0-9_]*)="(.*)"$')


class PanasonicPhone(Phone):
    """A Panasonic phone."""

    vendor = "panasonic"
    oui = "00:80:f0"

    def user_agent(self) -> str:
        return f"Panasonic_{self.model}/{self.state.firmware_version} ({self.mac12.lower()})"

    def vendor_class(self) -> str:
        return "Panasonic"

    def provision(self) -> None:
        self._read(f"{self.model}.cfg")
        path = self.state.settings.get("CFG_STANDARD_FILE_PATH", "")
        if not path:
            self.state.errors.append(f"{self.model}.cfg: no CFG_STANDARD_FILE_PATH")
            return
        device = path.replace("{MAC}", self.mac12).replace("{mac}", self.mac12.lower())
        if not self._read(device):
            self.state.errors.append(f"{device}: mandatory per-device file not fetched")

    def _read(self, name: str) -> bool:
        data = self.http_get(name)
        if data is None:
            return False
        short = name.rsplit("/", 1)[-1]
        lines = data.decode("utf-8", "replace").splitlines()
        if not lines or lines[0].strip() != HEADER:
            self.state.wellformed_errors.append(f"{short}:1: the first line is not {HEADER!r}")
        for number, raw in enumerate(lines, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            found = _SETTING.match(text)
            if found is None:
                self.state.wellformed_errors.append(
                    f"{short}:{number}: not 'KEY=\"value\"': {text[:60]!r}"
                )
                continue
            key, value = found.groups()
            self.state.settings[key] = value
            line = _LINE.match(key)
            if line:
                if line.group(1) == "SIP_URI":
                    value = re.sub(r"^sips?:", "", value).split("@", 1)[0]
                self.set_line(int(line.group(2)), **{_FIELDS[line.group(1)]: value})
        return True

    def firmware_offer(self) -> tuple[str, str] | None:
        settings: dict[str, Any] = self.state.settings
        version, url = settings.get("FIRM_VERSION"), settings.get("FIRM_FILE_PATH")
        if settings.get("FIRM_UPGRADE_ENABLE") != "Y" or not version or not url:
            return None
        if version == self.state.firmware_version:
            return None
        return self.named_offer(version, url)
