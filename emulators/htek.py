"""Htek UC9xx phones: ``P``-value XML with named parameters, over HTTP.

Wazo's dhcpd gives Htek MAC prefixes the provd URL; the phone asks, in turn, for its model's
``cfg<device code>.xml`` (``cfg0010.xml`` on a UC926), the binary ``cfg<mac>`` and
``cfg<mac>.xml`` (``<P35 para="Account1_SipUserId">``).  Lines come from the ``para`` names
(``Account<n>_SipUserId``, ``_DispalyName`` -- Htek's spelling --, ``_AuthenticatePassword``).
Identity: ``Htek <model> <version> <mac with colons>``.  Firmware: the files give only a
firmware directory (``P192``); the UC9xx image names are the phone's own, so upgrades are not
emulated.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.phone import Phone

_PARA = re.compile(r"^Account(\d+)_(SipUserId|DispalyName|DisplayName|AuthenticatePassword)$")
_FIELDS = {
    "SipUserId": "username",
    "DispalyName": "display_name",
    "DisplayName": "display_name",
    "AuthenticatePassword": "password",
}


# Htek's device codes ("Device Information for Provisioning")
DEVICE_CODES = {
    "UC926": "0010",
    "UC924": "0012",
    "UC923": "0013",
    "UC903": "0016",
    "UC902": "0017",
    "UC912": "0019",
    "UC912G": "0019",
    "UC912E": "0019",
}


class HtekPhone(Phone):
    """An Htek phone."""

    vendor = "htek"
    oui = "00:1f:c1"

    def user_agent(self) -> str:
        return f"Htek {self.model} {self.state.firmware_version} {self.mac}"

    def vendor_class(self) -> str | None:
        return None

    def provision(self) -> None:
        code = DEVICE_CODES.get(self.model)
        if code is not None:
            common = self.fetch_xml(f"cfg{code}.xml")
            if common is not None:
                self._apply(common)
        self.http_get(f"cfg{self.mac12.lower()}")  # the encrypted backup: a 404 is normal
        root = self.fetch_xml(f"cfg{self.mac12.lower()}.xml", mandatory=True)
        if root is not None:
            self._apply(root)

    def _apply(self, root: Any) -> None:
        for element in root.iter():
            if not isinstance(element.tag, str):
                continue
            para = element.get("para")
            if not para:
                continue
            value = (element.text or "").strip()
            self.state.settings[para] = value
            match = _PARA.match(para)
            if match:
                self.set_line(int(match.group(1)), **{_FIELDS[match.group(2)]: value})
