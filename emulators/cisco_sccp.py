"""Cisco 79xx/69xx/89xx phones on SCCP: ``SEP<MAC>.cnf.xml`` over TFTP.

Option 60 is ``Cisco Systems, Inc. IP Phone CP-7941G`` with a trailing NUL on the 79x1/79x2/
79x5/797x; the older and the wireless sets send other forms, as captured in the comments of the
plugin's DHCP extractor and in Wazo's ``dhcp/`` classes (:data:`VENDOR_CLASSES`).  The phone asks
TFTP for ``CTLSEP<MAC>.tlv`` (a 404 is normal) then
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

# Option 60 of the sets that do not send ``...IP Phone CP-<model>\x00``: the 7905/7912 (no
# "CP-", no "G", no NUL), the 7920 (no "CP-"), the 7921G (the wireless form, no comma), the
# 7937G (no NUL) and the 7971G, sold only as the 7971G-GE, whose VCI says so.
VENDOR_CLASSES = {
    "7905G": "Cisco Systems, Inc. IP Phone 7905",
    "7912G": "Cisco Systems, Inc. IP Phone 7912",
    "7920": "Cisco Systems, Inc. IP Phone 7920\x00",
    "7921G": "Cisco Systems Inc. Wireless Phone 7921",
    "7937G": "Cisco Systems, Inc. IP Phone CP-7937G",
    "7971G": "Cisco Systems, Inc. IP Phone CP-7971G-GE\x00",
}


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
        return VENDOR_CLASSES.get(self.model, f"Cisco Systems, Inc. IP Phone CP-{self.model}\x00")

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
