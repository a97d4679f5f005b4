"""Cisco 79xx/69xx/89xx phones on SCCP: ``SEP<MAC>.cnf.xml`` over TFTP.

Option 60 is ``Cisco Systems, Inc. IP Phone CP-7941G`` with a trailing NUL (Wazo's dhcpd
matches its suffix); the phone asks TFTP for ``CTLSEP<MAC>.tlv`` (a 404 is normal) then
``SEP<MAC>.cnf.xml`` (upper-case MAC, no leading slash, as the plugin's extractor expects).
SCCP phones take their lines from the call manager, not from this file: what provisioning
gives them is the ``<callManagerGroup>``, recorded as settings ``call_manager.<n>`` (the
``processNodeName`` of each member, in priority order).

Firmware: ``<loadInformation>`` names the load the phone must run (``SCCP41.9-4-2SR3-1S``);
when its version (what follows the first dot, dashes read as dots) is not the running one the
phone fetches ``<load>.loads`` over TFTP and runs that load (an error when not served).
"""

from __future__ import annotations

from typing import Any

from emulators.phone import Phone


def load_version(load: str) -> str:
    """The version a Cisco load ID names: ``SCCP41.9-4-2SR3-1S`` → ``9.4.2SR3.1S``."""
    _, dot, rest = load.partition(".")
    return rest.replace("-", ".") if dot and rest else load


class CiscoSccpPhone(Phone):
    """A Cisco SCCP phone."""

    vendor = "cisco-sccp"
    oui = "00:1b:54"
    uses_tftp = True

    def user_agent(self) -> str:
        return f"Cisco-CP{self.model}/{self.state.firmware_version}"

    def vendor_class(self) -> str | None:
        return f"Cisco Systems, Inc. IP Phone CP-{self.model}\x00"

    def trust_lists(self) -> list[str]:
        """Security files asked for before the configuration (a 404 is normal)."""
        return [f"CTLSEP{self.mac12}.tlv"]

    def provision(self) -> None:
        for name in self.trust_lists():
            self.tftp_get(name)
        name = f"SEP{self.mac12}.cnf.xml"
        data = self.tftp_get(name)
        if data is None:
            self.state.errors.append(f"{name}: mandatory per-device file not fetched")
            return
        root = self.parse_xml(name, data)
        if root is not None:
            self._apply(root)

    def _apply(self, root: Any) -> None:
        members = sorted(
            root.iter("member"),
            key=lambda m: int(m.get("priority", "0")) if m.get("priority", "").isdigit() else 0,
        )
        for number, member in enumerate(members, start=1):
            node = member.findtext(".//processNodeName")
            if node:
                self.state.settings[f"call_manager.{number}"] = node.strip()
        locale = root.findtext(".//userLocale/name")
        if locale:
            self.state.language = locale.strip()
        load = (root.findtext("loadInformation") or "").strip()
        if load:
            self.state.settings["loadInformation"] = load

    def firmware_offer(self) -> tuple[str, str] | None:
        load = self.state.settings.get("loadInformation")
        if not load or load_version(load) == self.state.firmware_version:
            return None
        return self.named_offer(load_version(load), f"{load}.loads", tftp=True)
