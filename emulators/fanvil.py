"""Fanvil X/V/i/H/W and C desk phones: XML configuration over HTTP.

Wazo's dhcpd knows Fanvil by MAC prefix (no option 60) and gives option 66 (and a copy in
option 43) as the full configuration URL ``<provd>/Fanvil/$mac.cfg``; the phone expands
``$mac`` (12 lower-case hex digits) and fetches that file.  The common ``.cfg`` a real phone
also asks for first is named after a hardware product code (``f0X4hw1.100.cfg``,
``F0V0V6700000.cfg``) that neither the model name nor the User-Agent carries; it is optional
(a 404 is normal) and carries no line, so it is not requested.  Identity: ``Fanvil <model>
<version> <mac>``, a ``-Pro`` model saying ``X210 Pro`` (provd turns the space back into a
dash); the version is digits and dots only.

Two formats, both ``<?xml?>`` documents that Fanvil ends with the line ``<<END OF FILE>>``
(not XML: it is cut before the strict parse): ``<sysConf><sip><line index="1"><PhoneNumber>
<DisplayName><RegisterAddr>...`` on current firmware and ``<VOIP_CONFIG_FILE>
<SIP_CONFIG_MODULE><SIP_Line_List_Entry><ID>SIP1</ID><Phone_Number><Display_Name>...`` on
older firmware.  Firmware, two ways: ``Auto_Image_URL`` names the image (its header gives
the version); or ``<fwCheck>`` with ``EnableAutoUpgrade`` 1 names an ``UpgradeServer1``, where
the phone asks for the upgrade description named after its model and hardware revision,
``fanvil_<model>_hwv<major>_<minor>.txt`` (model in lower case, ``-`` and ``Pro`` joined by
``_``: ``fanvil_x4u_v2_hwv2_0.txt``, ``fanvil_v62_pro_hwv1_0.txt``; the X ``-V2``/``-Pro``
sets taken as hardware 2.0, the others 1.0, as the names Wazo's plugin serves suggest: a
wrong guess only costs a 404, never a verdict), and flashes ``Firmware=`` when its
``Version=`` is not the running one.

Display names: the plugin deliberately writes ``"<number> <display name>"`` (what the phone
shows on its screen).  ``Line.display_name`` keeps that raw value and :meth:`line_matches`
accepts a line whose display name *ends with* the pushed one, the way the plugin means it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulators.phone import Line, Phone

_END = re.compile(rb"\s*<<END OF FILE>>\s*$")
_HW2 = re.compile(r"^X\d+\w*-(?:V2|Pro)$")  # the second hardware generation of the X sets
_NEW = {
    "PhoneNumber": "username",
    "DisplayName": "display_name",
    "RegisterPswd": "password",
    "RegisterAddr": "registrar",
    "ProxyAddr": "proxy",
    "RegisterPort": "port",
}
_OLD = {
    "Phone_Number": "username",
    "Display_Name": "display_name",
    "Register_Pswd": "password",
    "Register_Addr": "registrar",
    "Proxy_Addr": "proxy",
    "Register_Port": "port",
}


class FanvilPhone(Phone):
    """A Fanvil phone."""

    vendor = "fanvil"
    oui = "0c:38:3e"

    _config_url: str | None = None

    @property
    def software_version(self) -> str:
        """The version as the phone prints it: its last run of digits and dots."""
        found = re.findall(r"\d+(?:\.\d+)+", self.state.firmware_version)
        return found[-1] if found else "1.0.0"

    def user_agent(self) -> str:
        model = re.sub(r"-Pro$", " Pro", self.model)
        return f"Fanvil {model} {self.software_version} {self.mac12.lower()}"

    def vendor_class(self) -> str | None:
        return None

    def provisioning_server(self, lease: Any) -> str | None:
        value = lease.tftp_server
        if not value or not value.startswith("http"):
            return None
        value = str(value).replace("$mac", self.mac12.lower())
        if value.rsplit("/", 1)[-1].endswith(".cfg"):  # the configuration file itself
            self._config_url = value
            return value.rsplit("/", 1)[0] + "/"
        return value.rstrip("/") + "/"

    def provision(self) -> None:
        name = self._config_url or f"Fanvil/{self.mac12.lower()}.cfg"
        data = self.http_get(name)
        if data is None:
            self.state.errors.append(f"{name}: mandatory per-device file not fetched")
            return
        short = name.rsplit("/", 1)[-1]
        root = self.parse_xml(short, _END.sub(b"\n", data))
        if root is None:
            return
        for line in root.iter("line"):  # current firmware
            index = line.get("index", "")
            if index.isdigit():
                self._set(int(index), line, _NEW)
        for entry in root.iter("SIP_Line_List_Entry"):  # older firmware
            ident = (entry.findtext("ID") or "").strip()
            if re.fullmatch(r"SIP\d+", ident):
                self._set(int(ident[3:]), entry, _OLD)
        for element in root.iter("Auto_Image_URL", "DefaultLanguage", "Language"):
            self.state.settings[element.tag] = (element.text or "").strip()
        for check in root.iter("fwCheck"):
            for tag in ("EnableAutoUpgrade", "UpgradeServer1"):
                self.state.settings[f"fwCheck.{tag}"] = (check.findtext(tag) or "").strip()
        self.state.language = self.state.settings.get("DefaultLanguage") or None

    def _set(self, number: int, element: Any, fields: Mapping[str, str]) -> None:
        values: dict[str, str | None] = {}
        for tag, attr in fields.items():
            text = element.findtext(tag)
            if text is not None:
                values[attr] = text.strip()
        if values.get("username"):  # an empty entry is a disabled line
            self.set_line(number, **values)

    def line_matches(self, line: Line | None, pushed: Mapping[str, Any]) -> bool:
        if line is None or line.username != pushed.get("username"):
            return False
        shown, wanted = line.display_name or "", str(pushed.get("display_name") or "")
        return shown == wanted or shown.endswith(" " + wanted)

    @property
    def upgrade_description(self) -> str:
        """The name of the upgrade description this phone asks its upgrade server for."""
        slug = re.sub(r"[- ]?pro$", "_pro", self.model.lower()).replace("-", "_")
        return f"fanvil_{slug}_hwv{'2_0' if _HW2.match(self.model) else '1_0'}.txt"

    def firmware_offer(self) -> tuple[str, str] | None:
        url = self.state.settings.get("Auto_Image_URL")
        if url and not url.endswith("/"):  # "/": no image named for this model
            return self.image_offer(url)
        server = self.state.settings.get("fwCheck.UpgradeServer1", "")
        if self.state.settings.get("fwCheck.EnableAutoUpgrade") != "1" or not server:
            return None
        data = self.http_get(f"{server.rstrip('/')}/{self.upgrade_description}")
        if data is None:
            return None
        # ``Key=value`` lines, then free text lines (the build name, "Fanvil")
        lines = data.decode("utf-8", "replace").splitlines()
        named = dict(line.strip().partition("=")[::2] for line in lines if "=" in line)
        version, image = named.get("Version", ""), named.get("Firmware", "")
        if not version or not image or version == self.software_version:
            return None
        return self.named_offer(version, image)
