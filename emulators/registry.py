"""The one vendor registry: which emulator a vendor name and a plugin id boot.

Each :class:`EmulatedVendor` names its emulator class, the names it answers to and the plugin
ids whose phones it boots.  Emulating a new vendor takes its module and one entry in
:data:`VENDORS`; nothing else in the harness lists vendors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from emulators.aastra import AastraPhone
from emulators.alcatel import AlcatelPhone
from emulators.avaya import AvayaPhone
from emulators.cisco_sccp import CiscoSccpPhone
from emulators.cisco_sip import CiscoSipPhone
from emulators.cisco_spa import CiscoSpaPhone
from emulators.digium import DigiumPhone
from emulators.fanvil import FanvilPhone
from emulators.gigaset import GigasetPhone
from emulators.grandstream import GrandstreamPhone
from emulators.htek import HtekPhone
from emulators.jitsi import JitsiPhone
from emulators.panasonic import PanasonicPhone
from emulators.patton import PattonPhone
from emulators.phone import Phone
from emulators.polycom import PolycomPhone
from emulators.snom import SnomPhone
from emulators.technicolor import TechnicolorPhone
from emulators.yealink import YealinkPhone
from emulators.zenitel import ZenitelPhone


@dataclass(frozen=True)
class EmulatedVendor:
    """A vendor we emulate.

    *plugins* are regular expressions matched at the start of a plugin id; *aliases* are other
    names :func:`make_phone` accepts for the vendor.
    """

    name: str
    phone: type[Phone]
    plugins: tuple[str, ...]
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the vendor answers to, its own first."""
        return (self.name, *self.aliases)

    def boots(self, plugin_id: str) -> bool:
        """Whether the models of *plugin_id* are this vendor's phones."""
        return any(re.match(pattern, plugin_id) for pattern in self.plugins)


# The first entry whose patterns match a plugin id wins.
VENDORS: tuple[EmulatedVendor, ...] = (
    EmulatedVendor("snom", SnomPhone, (r"wazo-snom-",)),  # desk phones and DECT bases
    EmulatedVendor(
        "cisco",
        CiscoSpaPhone,
        (
            r"wazo-cisco-spa",
            r"wazo-cisco-pap2t",
            r"wazo-cisco-ata190",
            r"wazo-linksys",
            r"wazo-cisco-sip-1\d\.",  # 11.x/12.x: Multiplatform firmware, the SPA grammar
        ),
        aliases=("cisco-spa", "linksys"),
    ),
    EmulatedVendor("aastra", AastraPhone, (r"(?:wazo|xivo)-aastra",), aliases=("mitel",)),
    EmulatedVendor("yealink", YealinkPhone, (r"(?:wazo|xivo)-yealink",)),
    EmulatedVendor("polycom", PolycomPhone, (r"(?:wazo|xivo)-polycom",)),
    EmulatedVendor("grandstream", GrandstreamPhone, (r"(?:wazo|xivo)-grandstream",)),
    EmulatedVendor("htek", HtekPhone, (r"(?:wazo|xivo)-htek",)),
    EmulatedVendor("digium", DigiumPhone, (r"(?:wazo|xivo)-digium",)),
    EmulatedVendor("cisco-sccp", CiscoSccpPhone, (r"(?:wazo|xivo)-cisco-sccp",)),
    EmulatedVendor("cisco-sip", CiscoSipPhone, (r"(?:wazo|xivo)-cisco-sip-9\.",)),  # 89xx
    EmulatedVendor("fanvil", FanvilPhone, (r"(?:wazo|xivo)-fanvil-",)),
    # N510/N720/Nx70 fetch a file; C470/C590 are driven through their web interface
    EmulatedVendor("gigaset", GigasetPhone, (r"(?:wazo|xivo)-gigaset-",)),
    EmulatedVendor(
        "alcatel", AlcatelPhone, (r"(?:wazo|xivo)-alcatel-",), aliases=("alcatel-lucent", "ale")
    ),
    EmulatedVendor("avaya", AvayaPhone, (r"(?:wazo|xivo)-avaya-",), aliases=("nortel",)),
    EmulatedVendor("patton", PattonPhone, (r"(?:wazo|xivo)-patton-",)),
    EmulatedVendor("panasonic", PanasonicPhone, (r"(?:wazo|xivo)-panasonic-",)),
    EmulatedVendor(
        "technicolor",
        TechnicolorPhone,
        (r"(?:wazo|xivo)-(?:technicolor|thomson)-",),
        aliases=("thomson",),
    ),
    EmulatedVendor("jitsi", JitsiPhone, (r"(?:wazo|xivo)-jitsi-",)),
    EmulatedVendor("zenitel", ZenitelPhone, (r"(?:wazo|xivo)-zenitel-",)),
)

_BY_NAME = {name: vendor for vendor in VENDORS for name in vendor.names}


def emulated_vendors() -> list[str]:
    """The vendors we emulate, by their own names, in registry order."""
    return [vendor.name for vendor in VENDORS]


def lookup(vendor: str) -> EmulatedVendor:
    """The entry answering to *vendor* (any case); ValueError names the names we know."""
    try:
        return _BY_NAME[vendor.lower()]
    except KeyError:
        raise ValueError(
            f"no emulator for vendor {vendor!r}; emulated: {', '.join(sorted(_BY_NAME))}"
        ) from None


def vendor_for_plugin(plugin_id: str) -> str | None:
    """Which emulator boots the models of *plugin_id* (None: not emulated yet)."""
    return next((vendor.name for vendor in VENDORS if vendor.boots(plugin_id)), None)


def make_phone(vendor: str, model: str, mac: str, **kwargs: Any) -> Phone:
    """An emulated phone of *vendor* (a name or an alias); ValueError if not emulated."""
    return lookup(vendor).phone(model, mac, **kwargs)


def vendor_oui(vendor: str, model: str) -> str:
    """The MAC prefix a real phone of *vendor*/*model* carries (ValueError if not emulated)."""
    return lookup(vendor).phone.oui_for(model)
