"""``make_phone(vendor, model, ...)``: the right emulator for a vendor name."""

from __future__ import annotations

from typing import Any

from emulators.aastra import AastraPhone
from emulators.cisco_sccp import CiscoSccpPhone
from emulators.cisco_spa import CiscoSpaPhone
from emulators.digium import DigiumPhone
from emulators.grandstream import GrandstreamPhone
from emulators.htek import HtekPhone
from emulators.phone import Phone
from emulators.polycom import PolycomPhone
from emulators.snom import SnomPhone
from emulators.yealink import YealinkPhone

VENDORS: dict[str, type[Phone]] = {
    "snom": SnomPhone,
    "cisco": CiscoSpaPhone,
    "cisco-spa": CiscoSpaPhone,
    "linksys": CiscoSpaPhone,
    "aastra": AastraPhone,
    "mitel": AastraPhone,
    "yealink": YealinkPhone,
    "polycom": PolycomPhone,
    "grandstream": GrandstreamPhone,
    "htek": HtekPhone,
    "digium": DigiumPhone,
    "cisco-sccp": CiscoSccpPhone,
}


def make_phone(vendor: str, model: str, mac: str, **kwargs: Any) -> Phone:
    """An emulated phone; ValueError names the vendors we emulate."""
    try:
        cls = VENDORS[vendor.lower()]
    except KeyError:
        raise ValueError(
            f"no emulator for vendor {vendor!r}; emulated: {', '.join(sorted(VENDORS))}"
        ) from None
    return cls(model, mac, **kwargs)


def vendor_oui(vendor: str, model: str) -> str:
    """The MAC prefix a real phone of *vendor*/*model* carries (ValueError if not emulated)."""
    try:
        cls = VENDORS[vendor.lower()]
    except KeyError:
        raise ValueError(f"no emulator for vendor {vendor!r}") from None
    return cls.oui_for(model)
