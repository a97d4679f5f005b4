"""Grandstream GXP/GRP/GXV phones and HT ATAs: ``P``-value XML over HTTP.

Wazo's dhcpd points them at ``<provd>/Grandstream`` by MAC prefix; they fetch
``cfg<mac>.xml`` there, else ``cfg<mac>`` (the GXP2000's ``P47=...`` text).  Two formats:
``P`` values (``<config version="1"><P47>...``: account 1 is ``P47`` registrar, ``P35`` user
id, ``P34`` password, ``P3`` display name; account *n* ≥ 2 the same at ``P<n+2>02``, ``04``,
``06``, ``07``) and named items (``<config version="2"><item name="account.1.sip.userid">``).
The HT80x ATAs number as Grandstream's ATAs do: FXS port 1 as account 1 above, port 2 (HT802
only) at ``P747`` registrar, ``P735`` user id, ``P734`` password, ``P703`` name; they have no
account at ``P4xx``.  Identity:
``Grandstream Model HW <model> SW <version> DevId <mac>`` (the GXP2000: ``Grandstream GXP2000
(gxp2000e.bin:<version>/boot55e.bin:<boot>) DevId <mac>``).  Firmware: when ``P192`` (firmware
server path, no scheme) is set, the device asks it for its image ``<model>fw.bin`` (lower
case: ``ht801fw.bin``) over HTTP (``P6767`` or ``P212`` = 1, else TFTP) and flashes it when the
version in its header differs from the running one; phones given no ``P192`` keep
Grandstream's own server, so they do not upgrade from provd.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.phone import Phone

_FIRST = {"P47": "registrar", "P35": "username", "P34": "password", "P3": "display_name"}
_OTHER = re.compile(r"^P(\d+)(02|04|06|07)$")
_OTHER_FIELDS = {"02": "registrar", "04": "username", "06": "password", "07": "display_name"}
_ITEM = re.compile(
    r"^account\.(\d+)\.(name|sip\.userid|sip\.subscriber\.password|sip\.server\.1\.address)$"
)
_ITEM_FIELDS = {
    "name": "display_name",
    "sip.userid": "username",
    "sip.subscriber.password": "password",
    "sip.server.1.address": "registrar",
}
# HT801/HT802 (and their V2): ``HT80<ports>``; port 2 in the ATA numbering, not the GXP one.
_ATA = re.compile(r"^HT80(\d)")
_ATA_PORT2 = {"P747": "registrar", "P735": "username", "P734": "password", "P703": "display_name"}
GXP2000_BOOT = "1.1.6.9"  # the boot loader a GXP2000 on 1.2.x firmware runs
_TEXT_LINE = re.compile(r"^(P\d+)\s*=\s*(.*)$")


class GrandstreamPhone(Phone):
    """A Grandstream phone."""

    vendor = "grandstream"
    oui = "00:0b:82"

    def user_agent(self) -> str:
        if self.model == "GXP2000":  # the old firmware names its image and boot loader files
            return (
                f"Grandstream GXP2000 (gxp2000e.bin:{self.state.firmware_version}/"
                f"boot55e.bin:{GXP2000_BOOT}) DevId {self.mac12.lower()}"
            )
        return (
            f"Grandstream Model HW {self.model} SW {self.state.firmware_version} "
            f"DevId {self.mac12.lower()}"
        )

    def vendor_class(self) -> str | None:
        return None

    def provision(self) -> None:
        mac = self.mac12.lower()
        data = self.http_get(f"cfg{mac}.xml")
        if data is not None:
            root = self.parse_xml(f"cfg{mac}.xml", data)
            if root is not None:
                self._apply_xml(root)
            return
        data = self.http_get(f"cfg{mac}")
        if data is None:
            self.state.errors.append(f"cfg{mac}.xml, cfg{mac}: no per-device file fetched")
            return
        for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            text = raw.strip()
            if not text:
                continue
            match = _TEXT_LINE.match(text)
            if match is None:
                self.state.wellformed_errors.append(
                    f"cfg{mac}:{number}: not 'Pnnn = value': {text[:60]!r}"
                )
                continue
            self._set_p(match.group(1), match.group(2).strip())

    def _apply_xml(self, root: Any) -> None:
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            value = (element.text or "").strip()
            if element.tag == "item":
                name = element.get("name", "")
                self.state.settings[name] = value
                match = _ITEM.match(name)
                if match:
                    self.set_line(int(match.group(1)), **{_ITEM_FIELDS[match.group(2)]: value})
            elif element.tag.startswith("P"):
                self._set_p(element.tag, value)

    def _set_p(self, code: str, value: str) -> None:
        self.state.settings[code] = value
        if code in _FIRST:
            self.set_line(1, **{_FIRST[code]: value})
            return
        ata = _ATA.match(self.model)
        if ata:
            if code in _ATA_PORT2 and int(ata.group(1)) >= 2:
                self.set_line(2, **{_ATA_PORT2[code]: value})
            return
        match = _OTHER.match(code)
        # P401..P407 is account 2, P501.. account 3, up to P1607.. (account 14)
        if match and 4 <= int(match.group(1)) <= 16:
            self.set_line(int(match.group(1)) - 2, **{_OTHER_FIELDS[match.group(2)]: value})

    def firmware_offer(self) -> tuple[str, str] | None:
        path = self.state.settings.get("P192", "").strip()
        if not path:
            return None
        image = f"{path.rstrip('/')}/{self.model.lower()}fw.bin"
        via = self.state.settings.get("P6767") or self.state.settings.get("P212") or "1"
        if via == "0":  # TFTP, from the firmware server named (ours: the harness's TFTP)
            return self.image_offer(image.split("/", 1)[-1], tftp=True)
        return self.image_offer(image if "://" in image else f"http://{image}")
