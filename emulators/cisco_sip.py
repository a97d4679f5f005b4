"""Cisco 8941/8945 on enterprise SIP firmware (9.x): ``SEP<MAC>.cnf.xml`` over TFTP.

As the SCCP phones (:mod:`emulators.cisco_sccp`, whose load handling they share) but with
option 60 ``Cisco Systems, Inc. IP Phone CP-8941`` (no trailing NUL: Wazo's classes match the
last seven characters), the trust lists ``CTLSEP<MAC>.tlv`` and ``ITLSEP<MAC>.tlv`` asked for
first, and SIP lines in the file: ``<sipLines><line button="<n>">`` with ``<name>`` (user),
``<displayName>``, ``<authPassword>`` and ``<proxy>`` (``USECALLMANAGER``: the registrar is the
first call manager's ``processNodeName``).
"""

from __future__ import annotations

from typing import Any

from emulators.cisco_sccp import CiscoSccpPhone


class CiscoSipPhone(CiscoSccpPhone):
    """A Cisco enterprise SIP phone."""

    vendor = "cisco-sip"
    oui = "00:25:84"

    def user_agent(self) -> str:
        return f"Cisco-CP{self.model}/{self.state.firmware_version}"

    def vendor_class(self) -> str | None:
        return f"Cisco Systems, Inc. IP Phone CP-{self.model}"

    def trust_lists(self) -> list[str]:
        return [f"CTLSEP{self.mac12}.tlv", f"ITLSEP{self.mac12}.tlv"]

    def _apply(self, root: Any) -> None:
        super()._apply(root)
        manager = self.state.settings.get("call_manager.1")
        for line in root.iter("line"):
            number = line.get("lineIndex") or line.get("button") or ""
            name = (line.findtext("name") or "").strip()
            if not number.isdigit() or not name:
                continue  # a speed dial key, not a line
            proxy = (line.findtext("proxy") or "").strip()
            self.set_line(
                int(number),
                username=name,
                display_name=(line.findtext("displayName") or "").strip(),
                password=(line.findtext("authPassword") or "").strip(),
                registrar=manager if proxy.upper() == "USECALLMANAGER" else proxy,
            )
