"""Yealink SIP-T/W phones: ``key = value`` text configuration over HTTP.

Sequence: ``y000000000000.cfg`` (the common boot file; a 404 is normal with Wazo) →
``<mac>.cfg`` (12 lower-case hex digits, the device file).  ``static.firmware.url`` (plain
``firmware.url`` on older firmware) names the image, ``$PN`` and ``$MAC`` expanded; its version
is the last ``a.b.c.d`` of the file name.  Every line after the ``#!version`` header must be
blank, a ``#`` comment or ``key = value`` (others are recorded as errors with file and line).
Identity: ``Yealink SIP-<model> <version> <mac with colons>``; Wazo's dhcpd knows Yealink by
MAC prefix alone, so option 60 plays no part.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from emulators.phone import Phone

_ACCOUNT = re.compile(
    r"^account\.(\d+)\.(user_name|password|label|display_name|sip_server\.1\.address)$"
)
_FIELDS = {
    "user_name": "username",
    "password": "password",
    "display_name": "display_name",
    "sip_server.1.address": "registrar",
}
_VERSION = re.compile(r"(\d+\.\d+\.\d+\.\d+)")


class YealinkPhone(Phone):
    """A Yealink phone."""

    vendor = "yealink"
    oui = "00:15:65"

    def user_agent(self) -> str:
        return f"Yealink SIP-{self.model} {self.state.firmware_version} {self.mac}"

    def vendor_class(self) -> str | None:
        return "yealink"

    def provision(self) -> None:
        device_file = f"{self.mac12.lower()}.cfg"
        for name in ("y000000000000.cfg", device_file):
            data = self.http_get(name)
            if data is not None:
                self._apply(name, data)
        if device_file not in self.state.files:
            self.state.errors.append(f"{device_file}: mandatory per-device file not fetched")

    def _apply(self, name: str, data: bytes) -> None:
        labels: dict[int, str] = {}
        for key, value in self.key_values(name, data, "="):
            if value == "%NULL%":  # Yealink's "reset to default"
                value = ""
            self.state.settings[key] = value
            match = _ACCOUNT.match(key)
            if match and match.group(2) == "label":
                labels[int(match.group(1))] = value
            elif match:
                self.set_line(int(match.group(1)), **{_FIELDS[match.group(2)]: value})
        for line, label in labels.items():  # older templates only write the label
            if not self.state.lines.get(line) or self.state.lines[line].display_name is None:
                self.set_line(line, display_name=label)

    def firmware_offer(self) -> tuple[str, str] | None:
        url = self.state.settings.get("static.firmware.url") or self.state.settings.get(
            "firmware.url"
        )
        if not url:
            return None
        # Yealink macros in URLs: $PN is the product name, $MAC the lower-case MAC
        url = url.replace("$PN", self.model).replace("$MAC", self.mac12.lower())
        found = _VERSION.findall(unquote(url.rsplit("/", 1)[-1]))
        return (found[-1], url) if found else None
