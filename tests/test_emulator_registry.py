"""The vendor registry: every entry is complete, every emulator is registered, and plugin ids
map to the emulator that boots their phones."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import emulators
from emulators.phone import Phone
from emulators.registry import (
    VENDORS,
    emulated_vendors,
    lookup,
    make_phone,
    vendor_for_plugin,
    vendor_oui,
)

# Plugin ids of the wazo-provd-plugins tree (and older xivo-/linksys-era names) by the emulator
# that boots them: an oracle independent of the registry's patterns.
SAMPLES: dict[str, list[str]] = {
    "snom": ["wazo-snom-10.1.215.13", "wazo-snom-8.7.5.35", "wazo-snom-dect-05.20.0001"],
    "cisco": [
        "wazo-cisco-spa-7.5.5",
        "wazo-cisco-spa-legacy",
        "wazo-cisco-spa100-1.3.5p",
        "wazo-cisco-spa8800-6.1.7",
        "wazo-cisco-pap2t-5.1.6",
        "wazo-cisco-ata190-1.2.2",
        "wazo-linksys-spa942",
        "wazo-cisco-sip-11.3.1",
        "wazo-cisco-sip-12.0.7",
    ],
    "aastra": ["wazo-aastra-4.3.0", "xivo-aastra-3.3.1-SP4"],
    "yealink": ["wazo-yealink-v87", "xivo-yealink-v73"],
    "polycom": ["wazo-polycom-5.9.2", "xivo-polycom-4.0.9"],
    "grandstream": ["wazo-grandstream-1.0.8.9", "xivo-grandstream-1.0.3.27"],
    "htek": ["wazo-htek-2.0.4.4.58", "xivo-htek-2.0.4.4.58"],
    "digium": ["wazo-digium-2.8.1", "xivo-digium-1.4.0.0"],
    "cisco-sccp": ["wazo-cisco-sccp-9.4", "wazo-cisco-sccp-legacy", "xivo-cisco-sccp-9.0.3"],
    "cisco-sip": ["wazo-cisco-sip-9.3"],  # enterprise SIP firmware: not the SPA grammar
    "fanvil": ["wazo-fanvil-2.3", "wazo-fanvil-serie-x", "xivo-fanvil-serie-i"],
    "gigaset": [
        "wazo-gigaset-N510",
        "wazo-gigaset-N870-83.v2.39.0",
        "wazo-gigaset-Nx70-83.v2.65.0",
        "wazo-gigaset-C470",
        "xivo-gigaset-C590",
    ],
    "alcatel": ["wazo-alcatel-2.13.02", "wazo-alcatel-1.51.52", "xivo-alcatel-2.01.10"],
    "avaya": ["wazo-avaya-4.1.3", "xivo-avaya-4.1.13"],
    "patton": ["wazo-patton-6.11", "xivo-patton-6.9"],
    "panasonic": ["wazo-panasonic-01.133", "xivo-panasonic-01.133"],
    "technicolor": [
        "wazo-technicolor-ST2022-4.78.1",
        "wazo-technicolor-TB30-1.74.0",
        "xivo-thomson-ST2030-2.74",
    ],
    "jitsi": ["wazo-jitsi-1", "xivo-jitsi-1"],
    "zenitel": ["wazo-zenitel-01.11.3.2", "xivo-zenitel-01.11.3.2"],
}
NOT_EMULATED = [
    "wazo-cisco-sip-1",
    "null",  # provd's core plugins: no phones
    "zero",
    "test-plugin",
    "wazo-test-plugins",
    "xivo-snom-8.7.5.35",  # the snom plugins were never xivo-named in the emulated era
    "snom-10.1.215.13",
    "",
]


@pytest.mark.parametrize("entry", VENDORS, ids=lambda e: e.name)
def test_every_entry_is_complete(entry: object) -> None:
    from emulators.registry import EmulatedVendor

    assert isinstance(entry, EmulatedVendor)
    assert inspect.isclass(entry.phone) and issubclass(entry.phone, Phone)
    assert entry.phone is not Phone
    assert entry.phone.vendor == entry.name, "the class names its vendor as the registry does"
    assert re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){2}", entry.phone.oui), entry.phone.oui
    assert entry.phone.oui != Phone.oui, "a vendor boots with its own MAC prefix"
    samples = SAMPLES.get(entry.name)
    assert samples, f"list sample plugin ids of {entry.name!r} in SAMPLES"
    for pattern in entry.plugins:
        assert any(re.match(pattern, plugin_id) for plugin_id in samples), (
            f"{entry.name}: pattern {pattern!r} matches none of {samples}"
        )


def test_names_are_unique() -> None:
    names = [name for entry in VENDORS for name in entry.names]
    assert len(names) == len(set(names))
    assert all(name == name.lower() for name in names)
    assert emulated_vendors() == [entry.name for entry in VENDORS]
    assert sorted(SAMPLES) == sorted(emulated_vendors())


def test_every_emulator_module_is_registered() -> None:
    registered = {entry.phone for entry in VENDORS}
    found = []
    for info in pkgutil.walk_packages(emulators.__path__, "emulators."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Phone) and cls is not Phone and cls.__module__ == info.name:
                found.append(cls)
                assert cls in registered, f"{info.name}.{cls.__name__} is not in the registry"
    assert len(found) >= len(VENDORS)


@pytest.mark.parametrize(
    ("plugin_id", "vendor"),
    [(p, v) for v, ids in SAMPLES.items() for p in ids] + [(p, None) for p in NOT_EMULATED],
)
def test_plugin_ids_boot_their_vendor(plugin_id: str, vendor: str | None) -> None:
    assert vendor_for_plugin(plugin_id) == vendor
    matching = [entry.name for entry in VENDORS if entry.boots(plugin_id)]
    assert matching == ([vendor] if vendor else []), "one plugin id, one emulator"


@pytest.mark.parametrize(
    ("name", "cls_name"),
    [
        ("snom", "SnomPhone"),
        ("cisco", "CiscoSpaPhone"),
        ("cisco-spa", "CiscoSpaPhone"),
        ("Linksys", "CiscoSpaPhone"),
        ("mitel", "AastraPhone"),
        ("cisco-sccp", "CiscoSccpPhone"),
    ],
)
def test_aliases_make_the_same_emulator(name: str, cls_name: str) -> None:
    phone = make_phone(name, "X1", "00:00:00:00:00:01", version="1.2.3")
    assert type(phone).__name__ == cls_name
    assert phone.state.firmware_version == "1.2.3"
    assert lookup(name).phone is type(phone)


def test_unknown_vendor_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"no emulator for vendor 'kirk'; emulated: aastra, "):
        lookup("kirk")
    with pytest.raises(ValueError, match="no emulator"):
        vendor_oui("kirk", "X4")


def test_factory_keeps_its_names() -> None:
    from emulators import factory

    assert factory.make_phone is make_phone
    assert factory.vendor_oui is vendor_oui
