"""Alcatel-Lucent phones: Myriad (M3/M5/M7, 8028s-GE) XML and IP Touch 40x8 SIP text files,
over HTTP.

DHCP: option 60 ``aledevice`` (M-series) or ``alcatel.ictouch.0`` (8028s) gets the provd URL
in option 43 sub-option 66; the IP Touch in SIP mode sends ``alcatel.sip.0`` and gets it in
sub-option 67 (Wazo's ``ALU`` option space).

Myriad: ``config.<model>.xml`` (common: firmware location) then ``config.<mac>.xml`` (lower
case), ``<settings><setting id="Account1UserName" value="..."/>``: account *n* is
``Account<n>UserName``, ``Account<n>DisplayName``, ``Account<n>Password``,
``Account<n>Server1Address``.  User-Agent ``ALE M3 2.13.02.010 <mac>`` (four or five numbers).
Firmware: the common file gives only a directory (``DeviceFirmwareUpgradeUrl``); the image
names inside are the phone's, so upgrades are not emulated.

IP Touch 4008/4018/4028/4038/4068: ``sipconfig-<mac>.txt``, ``[section]`` then ``key=value``
lines; the one line is ``[sip]`` ``user_name``, ``display_name``,
``authentication_password``, ``registrar_addr``.  User-Agent ``Alcatel IP Touch 4028/<version>``
(no MAC: provd takes it from the file name).
"""

from __future__ import annotations

import re
from typing import Any

from emulators.dhcp.packet import decode_vendor_options
from emulators.phone import Phone

_ACCOUNT = re.compile(r"^Account(\d+)(UserName|DisplayName|Password|Server1Address)$")
_ACCOUNT_FIELDS = {
    "UserName": "username",
    "DisplayName": "display_name",
    "Password": "password",
    "Server1Address": "registrar",
}
_SIP_FIELDS = {
    "user_name": "username",
    "display_name": "display_name",
    "authentication_password": "password",
    "registrar_addr": "registrar",
    "proxy_addr": "proxy",
}


class AlcatelPhone(Phone):
    """An Alcatel-Lucent phone (Myriad or IP Touch, from the model)."""

    vendor = "alcatel"
    oui = "00:80:9f"

    @property
    def ip_touch(self) -> bool:
        """IP Touch 40x8 in SIP mode (text files) rather than a Myriad set (XML)."""
        return bool(re.fullmatch(r"40\d8", self.model))

    @property
    def software_version(self) -> str:
        """Myriad sets print four or five numbers (``2.13.02.010``)."""
        numbers = re.findall(r"\d+", self.state.firmware_version)[:5] or ["1"]
        if self.ip_touch:
            return ".".join(numbers)
        return ".".join(numbers + ["000"] * (4 - len(numbers)))

    def user_agent(self) -> str:
        if self.ip_touch:
            return f"Alcatel IP Touch {self.model}/{self.software_version}"
        return f"ALE {self.model} {self.software_version} {self.mac12.lower()}"

    def vendor_class(self) -> str:
        if self.ip_touch:
            return "alcatel.sip.0"
        return "alcatel.ictouch.0" if self.model.startswith("8028") else "aledevice"

    def provisioning_server(self, lease: Any) -> str | None:
        sub = decode_vendor_options(lease.options.get(43, b""))
        for code in (66, 67):
            if code in sub:
                return str(sub[code].decode("latin-1").rstrip("/") + "/")
        return super().provisioning_server(lease)

    def provision(self) -> None:
        mac = self.mac12.lower()
        if self.ip_touch:
            name = f"sipconfig-{mac}.txt"
            data = self.http_get(name)
            if data is None:
                self.state.errors.append(f"{name}: mandatory per-device file not fetched")
                return
            self._apply_text(name, data)
            return
        for name in (f"config.{self.model}.xml", f"config.{mac}.xml"):
            root = self.fetch_xml(name, mandatory=name.endswith(f"{mac}.xml"))
            if root is None:
                continue
            for setting in root.iter("setting"):
                key, value = setting.get("id", ""), setting.get("value", "")
                self.state.settings[key] = value
                found = _ACCOUNT.match(key)
                if found:
                    self.set_line(int(found.group(1)), **{_ACCOUNT_FIELDS[found.group(2)]: value})

    def _apply_text(self, name: str, data: bytes) -> None:
        section = ""
        for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            header = re.fullmatch(r"\[(\w+)\]", text)
            if header:
                section = header.group(1)
                continue
            key, found, value = text.partition("=")
            if not found or not re.fullmatch(r"\w+", key.strip()):
                self.state.wellformed_errors.append(
                    f"{name}:{number}: not '[section]' or 'key=value': {text[:60]!r}"
                )
                continue
            key, value = key.strip(), value.strip()
            self.state.settings[f"{section}.{key}"] = value
            if section == "sip" and key in _SIP_FIELDS:
                self.set_line(1, **{_SIP_FIELDS[key]: value})
