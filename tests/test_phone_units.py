"""Vendor emulator details that need no server: rules, version parsing, strict parsing."""

from __future__ import annotations

import pytest

from emulators.aastra import AastraPhone
from emulators.cisco_spa import CiscoSpaPhone
from emulators.factory import make_phone, vendor_oui
from emulators.snom import _version_in


@pytest.mark.parametrize(
    ("current", "expected"),
    [("7.4.9", "http://h/old.bin"), ("7.5.2b", "http://h/new.bin"), ("7.5.5", "http://h/new.bin")],
)
def test_spa_conditional_upgrade_rule(current: str, expected: str) -> None:
    phone = CiscoSpaPhone("SPA504G", "00:0e:08:00:00:01", version=current)
    rule = "($SWVER lt 7.5.2b) ? http://h/old.bin | http://h/new.bin"
    assert phone._choose(rule) == expected


def test_spa_expands_mac_and_psn() -> None:
    phone = CiscoSpaPhone("SPA504G", "00:0e:08:aa:bb:cc")
    assert phone._expand("[--key x] http://h/$PSN/$MA-$MAU.xml") == (
        "http://h/504G/000e08aabbcc-000E08AABBCC.xml"
    )


@pytest.mark.parametrize(
    ("url", "version"),
    [
        ("http://h/snomD785-10.1.215.13-SIP-r.bin?mac=X", "10.1.215.13"),
        (
            "http://h/snomD735-ramdisk-chained-update-r.bin?mac=X&chained_url=http%3A//h/"
            "snomD735-10.1.200.1-SIP-r.bin",
            "10.1.200.1",
        ),
        ("http://h/snomD785-ramdisk.bin", None),
    ],
)
def test_snom_firmware_version_from_url(url: str, version: str | None) -> None:
    from urllib.parse import unquote

    assert _version_in(unquote(url)) == version


def test_aastra_bad_lines_are_errors_with_file_and_line() -> None:
    phone = AastraPhone("6867i", "00:08:5d:00:00:01")
    phone._apply(
        "00085D000001.cfg", b"# comment\nsip line1 user name: alice\nthis is not a setting\n"
    )
    assert phone.state.lines[1].username == "alice"
    assert phone.state.wellformed_errors == [
        "00085D000001.cfg:3: not 'key: value': 'this is not a setting'"
    ]


def test_recovered_xml_keeps_the_error() -> None:
    phone = make_phone("snom", "D785", "00:04:13:00:00:01")
    root = phone.parse_xml(
        "x.xml", b"<settings><phone-settings><a>1</b></phone-settings></settings>"
    )
    assert root is not None
    assert phone.state.wellformed_errors and phone.state.wellformed_errors[0].startswith("x.xml:1:")


def test_unknown_vendor_names_the_emulated_ones() -> None:
    with pytest.raises(ValueError, match="emulated: aastra, cisco"):
        make_phone("yealink", "T46S", "00:15:65:00:00:01")


@pytest.mark.parametrize(
    ("vendor", "model", "oui"),
    [
        ("snom", "D785", "00:04:13"),
        ("cisco-spa", "SPA504G", "00:0e:08"),
        ("aastra", "6731i", "00:08:5d"),
        ("aastra", "6930", "14:00:e9"),
        ("aastra", "6920(w)", "14:00:e9"),
    ],
)
def test_phones_carry_their_vendor_mac_prefix(vendor: str, model: str, oui: str) -> None:
    assert vendor_oui(vendor, model) == oui
    with pytest.raises(ValueError, match="no emulator"):
        vendor_oui("yealink", "T46S")


def test_mitel_sets_identify_as_mitel() -> None:
    phone = AastraPhone("6920(w)", "14:00:e9:1e:db:52", version="6.4.0.140")
    assert phone.model == "6920"  # the capability names a wired/wireless pair
    assert phone.user_agent() == "Mitel6920 MAC:14-00-E9-1E-DB-52 V:6.4.0.140-SIP"
    assert phone.vendor_class() == "MitelIPPhone6920"
    aastra = AastraPhone("6731i", "00:08:5d:23:74:29", version="3.2.0.70")
    assert aastra.user_agent() == "Aastra6731i MAC:00-08-5D-23-74-29 V:3.2.0.70-SIP"
    assert aastra.vendor_class() == "AastraIPPhone6731i"


def test_snom_dect_bases_identify_as_the_dect_plugin_expects() -> None:
    base = make_phone("snom", "M900", "00:04:13:b6:06:80", version="05.20.0001")
    assert base.user_agent() == "Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)"
    assert base.vendor_class() == "snomM900"
    desk = make_phone("snom", "D785", "00:04:13:b6:06:80", version="10.1.215.13")
    assert desk.user_agent().endswith("snomD785-SIP 10.1.215.13 1.1.5-IFX-05.01.12 000413B60680)")
