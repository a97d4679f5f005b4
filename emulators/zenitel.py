"""Zenitel IP stations (intercoms): INI files over TFTP.

Wazo's dhcpd knows them by MAC prefix (00:13:cb) and gives the TFTP server.  The station asks
for ``ipst_config.cfg`` (common) then ``ipst_config_<mac with underscores>.cfg``: ``[section]``
headers, ``#`` comments and `` key=value`` lines (a leading space, as Zenitel writes them).
The one line is ``[sip]`` ``sip_id`` (user), ``nick_name`` (display name), ``auth_pwd``,
``sip_domain`` (registrar).  Firmware: ``[general]`` ``auto_update_image_type`` names the image
(``A100G80200.01_11_3_2.bin``, its version in the name), fetched over TFTP.  There is no
User-Agent: provd knows the station by its TFTP file names.
"""

from __future__ import annotations

import re

from emulators.phone import Phone

_SIP = {"sip_id": "username", "nick_name": "display_name", "auth_pwd": "password"}


class ZenitelPhone(Phone):
    """A Zenitel IP station."""

    vendor = "zenitel"
    oui = "00:13:cb"
    uses_tftp = True

    def vendor_class(self) -> str | None:
        return None

    def provision(self) -> None:
        mac = "_".join(self.mac12.lower()[i : i + 2] for i in range(0, 12, 2))
        for name in ("ipst_config.cfg", f"ipst_config_{mac}.cfg"):
            data = self.tftp_get(name)
            if data is None:
                if name != "ipst_config.cfg":
                    self.state.errors.append(f"{name}: mandatory per-device file not fetched")
                continue
            self._apply(name, data)

    def _apply(self, name: str, data: bytes) -> None:
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
            if not found or not re.fullmatch(r"\w+", key):
                self.state.wellformed_errors.append(
                    f"{name}:{number}: not 'key=value': {text[:60]!r}"
                )
                continue
            self.state.settings[f"{section}.{key}"] = value
            if section == "sip" and key in _SIP and value:
                self.set_line(1, **{_SIP[key]: value})
            elif section == "sip" and key == "sip_domain" and value:
                self.set_line(1, registrar=value)

    def firmware_offer(self) -> tuple[str, str] | None:
        image = self.state.settings.get("general.auto_update_image_type", "")
        found = re.search(r"\.(\d+(?:_\d+)+)\.bin$", image)
        if not found:
            return None
        version = found.group(1).replace("_", ".")
        if version == self.state.firmware_version:
            return None
        return self.named_offer(version, image, tftp=True)
