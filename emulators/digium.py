"""Digium D4x/D5x/D6x/D7x phones: one XML file over HTTP.

Option 60 is ``digium_<model>_<version with underscores>``; Wazo's dhcpd points them at
``<provd>/Digium`` and they fetch ``<mac>.cfg`` there (lower-case MAC).  Lines come from
``<accounts><account index="0" username=... password=... line_label=...>`` (index 0 is
line 1).  Firmware: ``<firmwares><firmware model="D70" version="2_8_1" url=...>``; the
phone flashes the image of its model when that version is not the running one.
"""

from __future__ import annotations

from typing import Any

from emulators.phone import Phone


class DigiumPhone(Phone):
    """A Digium phone."""

    vendor = "digium"
    oui = "00:0f:d3"

    def user_agent(self) -> str:
        return f"Digium {self.model} {self.state.firmware_version}"

    def vendor_class(self) -> str | None:
        version = self.state.firmware_version.replace(".", "_")
        return f"digium_{self.model}_{version}"

    def provision(self) -> None:
        root = self.fetch_xml(f"{self.mac12.lower()}.cfg", mandatory=True)
        if root is not None:
            self._apply(root)

    def _apply(self, root: Any) -> None:
        for account in root.iter("account"):
            index = account.get("index", "")
            if not index.isdigit():
                self.state.errors.append(f"account without a numeric index: {index!r}")
                continue
            self.set_line(
                int(index) + 1,
                username=account.get("username"),
                password=account.get("password"),
                display_name=account.get("line_label"),
            )
        for setting in root.iter("setting"):
            self.state.settings[setting.get("id", "")] = setting.get("value", "")
        for firmware in root.iter("firmware"):
            if firmware.get("model") == self.model:
                self.state.settings["firmware.version"] = firmware.get("version", "")
                self.state.settings["firmware.url"] = firmware.get("url", "")

    def firmware_offer(self) -> tuple[str, str] | None:
        version = self.state.settings.get("firmware.version", "").replace("_", ".")
        url = self.state.settings.get("firmware.url")
        if not version or not url or version == self.state.firmware_version:
            return None
        return self.named_offer(version, url)
