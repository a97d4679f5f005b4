"""Polycom SoundPoint/SoundStation/VVX phones: XML configuration files over HTTP.

Sequence: ``<mac>.cfg``, else the master ``000000000000.cfg`` (or the master file named in the
server address, as Wazo's dhcpd gives it: ``http://provd:8667/000000000000.cfg``), whose
``<APPLICATION
CONFIG_FILES="...">`` lists the configuration files in order (``[PHONE_MAC_ADDRESS]``
expanded, lower case); each is fetched and its settings read from the attributes of its
elements (``reg.1.address="alice"``).  As on the phones, the first file listed that sets a
parameter wins (``<mac>-user.cfg`` before the ``phone1.cfg`` defaults).  Identity:
``FileTransport PolycomVVX-VVX_400-UA/<version> Type/Application``; Wazo's dhcpd knows Polycom by
MAC prefix alone.  Firmware: the master file's ``APP_FILE_PATH`` (``sip.ld``) is the
application image; the phone reads the version in its header and flashes it when it differs
from the running one (an image not served is no upgrade, as on the phones).
"""

from __future__ import annotations

import re
from typing import Any

from emulators.phone import Phone

_REG = re.compile(r"^reg\.(\d+)\.(address|displayName|auth\.password|server\.1\.address)$")
_FIELDS = {
    "address": "username",
    "displayName": "display_name",
    "auth.password": "password",
    "server.1.address": "registrar",
}
_FAMILIES = (
    ("VVX", "PolycomVVX"),
    ("SPIP", "PolycomSoundPointIP"),
    ("SSIP", "PolycomSoundStationIP"),
)


class PolycomPhone(Phone):
    """A Polycom phone."""

    vendor = "polycom"
    oui = "00:04:f2"

    def user_agent(self) -> str:
        family, product = "Polycom", self.model
        for prefix, name in _FAMILIES:
            if self.model.startswith(prefix):
                family, product = name, f"{prefix}_{self.model[len(prefix) :]}"
        return f"FileTransport {family}-{product}-UA/{self.state.firmware_version} Type/Application"

    _master_name: str | None = None

    def vendor_class(self) -> str | None:
        return None

    def provisioning_server(self, lease: Any) -> str | None:
        value = lease.tftp_server
        if not value or not value.startswith("http"):
            return None
        if value.endswith(".cfg"):  # a server address naming the master file
            value, _, self._master_name = value.rpartition("/")
        return str(value).rstrip("/") + "/"

    def provision(self) -> None:
        mac = self.mac12.lower()
        master = None
        names = [self._master_name] if self._master_name else [f"{mac}.cfg", "000000000000.cfg"]
        for name in names:
            master = self.fetch_xml(name)
            if master is not None:
                break
        if master is None:
            self.state.errors.append("no master configuration file could be fetched")
            return
        app = master if master.tag == "APPLICATION" else master.find(".//APPLICATION")
        files = (app.get("CONFIG_FILES", "") if app is not None else "").split(",")
        if app is not None and app.get("APP_FILE_PATH"):
            self.state.settings["APP_FILE_PATH"] = app.get("APP_FILE_PATH")
        seen: set[str] = set()
        for raw in files:
            name = raw.strip().replace("[PHONE_MAC_ADDRESS]", mac)
            if not name:
                continue
            root = self.fetch_xml(name)
            if root is None:
                self.state.errors.append(f"{name}: listed in CONFIG_FILES but not served")
                continue
            self._apply(root, seen)
        if f"{mac}-user.cfg" not in self.state.files:
            self.state.errors.append(f"{mac}-user.cfg: mandatory per-device file not fetched")

    def _apply(self, root: Any, seen: set[str]) -> None:
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            for key, value in element.attrib.items():
                if key in seen:
                    continue
                seen.add(key)
                self.state.settings[key] = value
                match = _REG.match(key)
                if match:
                    self.set_line(int(match.group(1)), **{_FIELDS[match.group(2)]: value})

    def firmware_offer(self) -> tuple[str, str] | None:
        image = self.state.settings.get("APP_FILE_PATH")
        return self.image_offer(image) if image else None
