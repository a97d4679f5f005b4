"""Vendor emulator details that need no server: rules, version parsing, strict parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.aastra import AastraPhone
from emulators.cisco_spa import CiscoSpaPhone
from emulators.registry import make_phone, vendor_oui
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
    with pytest.raises(ValueError, match="emulated: aastra, alcatel, "):
        make_phone("kirk", "X4", "00:13:d1:00:00:01")


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
        vendor_oui("kirk", "X4")


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


@pytest.mark.parametrize(
    ("url", "version"),
    [
        ("http://h/firmware/spa50x-30x-7-5-5.bin", "7.5.5"),
        ("http://h/firmware/spa50x-30x-7-5-2b.bin", "7.5.2b"),
        ("http://h/firmware/spa2102-5-2-12.bin", "5.2.12"),
        ("http://h/firmware/spa3102-5-1-10-GW.bin", "5.1.10"),
        ("http://h/firmware/SPA112-SPA122_1.3.5_004p.bin", "1.3.5.004p"),
    ],
)
def test_spa_firmware_version_from_upgrade_url(url: str, version: str) -> None:
    phone = CiscoSpaPhone("SPA504G", "00:0e:08:00:00:01", version="1.0.0")
    phone.state.settings["Upgrade_Rule"] = url
    assert phone.firmware_offer() == (version, url)


@pytest.mark.parametrize(
    ("model", "vendor_class", "agent"),
    [
        ("SPA504G", "Cisco SPA504G", "Cisco/SPA504G-7.5.4 (000E08000001)(CBT1414001A)"),
        ("SPA112", "CISCO SPA112", "Cisco/SPA112-7.5.4 (000E08000001)(CBT1414001A)"),
        ("SPA942", "LINKSYS SPA-942", "Linksys/SPA-942-7.5.4 (4MM00F903042)"),
        ("SPA2102", "LINKSYS SPA-2102", "Linksys/SPA-2102-7.5.4 (4MM00F903042)"),
        ("SPA8000", "LINKSYS SPA8000", "Linksys/SPA8000-7.5.4 (4MM00F903042)"),
        ("PAP2T", None, "Linksys/PAP2T-7.5.4 (4MM00F903042)"),
    ],
)
def test_spa_identity_by_era(model: str, vendor_class: str | None, agent: str) -> None:
    phone = CiscoSpaPhone(model, "00:0e:08:00:00:01", version="7.5.4")
    assert phone.vendor_class() == vendor_class
    assert phone.user_agent() == agent


def test_aastra_5xi_sets_call_themselves_by_their_short_name() -> None:
    phone = AastraPhone("6757i", "00:08:5d:00:00:01", version="3.3.1.4322")
    assert phone.user_agent() == "Aastra57i MAC:00-08-5D-00-00-01 V:3.3.1.4322-SIP"
    assert phone.vendor_class() == "AastraIPPhone57i"
    assert AastraPhone("6757i", "00:08:5d:00:00:01").own_name == "57i"
    assert AastraPhone("6737i", "00:08:5d:00:00:01").own_name == "6737i"


def test_ata190_fetches_one_file_per_port() -> None:
    phone = CiscoSpaPhone("ATA190", "00:0e:08:aa:bb:cc", version="1.2.1")
    assert phone.vendor_class() == "CISCO ATA190"
    served = {
        "ATA000E08AABBCC.cnf.xml": b"<device><sipLines><line><name>alice</name>"
        b"<featureLabel>Alice</featureLabel><authPassword>a1</authPassword>"
        b"<proxy>127.0.0.1</proxy></line></sipLines></device>",
        "ATA0E08AABBCC01.cnf.xml": b"<device><sipLines><line><name>bob</name>"
        b"<featureLabel>Bob</featureLabel></line></sipLines></device>",
    }
    asked: list[str] = []

    def tftp_get(name: str) -> bytes | None:
        asked.append(name)
        phone.state.files[name] = served[name]
        return served[name]

    phone.tftp_get = tftp_get  # type: ignore[method-assign]
    phone.provision()
    assert asked == list(served)
    assert (phone.state.lines[1].username, phone.state.lines[1].registrar) == ("alice", "127.0.0.1")
    assert (phone.state.lines[2].username, phone.state.lines[2].display_name) == ("bob", "Bob")


@pytest.mark.parametrize(
    ("name", "variants"),
    [
        ("T46S", ["T46S"]),
        ("6920(w)", ["6920", "6920w"]),
        ("T31(P)(G)(W)", ["T31", "T31P", "T31G", "T31W"]),
    ],
)
def test_capability_names_cover_model_variants(name: str, variants: list[str]) -> None:
    from pytest_provd.tree.model import model_variants

    assert model_variants(name) == variants


def test_yealink_identity_and_config_parsing() -> None:
    phone = make_phone("yealink", "T54(W)", "00:15:65:aa:bb:cc", version="96.87.0.14")
    assert phone.model == "T54"
    assert phone.user_agent() == "Yealink SIP-T54 96.87.0.14 00:15:65:aa:bb:cc"
    phone._apply(  # type: ignore[attr-defined]
        "001565aabbcc.cfg",
        b"#!version:1.0.0.1\n"
        b"static.firmware.url = http://127.0.0.1:1/firmware/$PN-96.87.0.15.rom\n"
        b"account.1.label = Alice\n"
        b"account.1.user_name = alice\n"
        b"account.2.display_name = %NULL%\n"
        b"static.network.qos.audiotos 46\n",
    )
    assert (phone.state.lines[1].username, phone.state.lines[1].display_name) == ("alice", "Alice")
    assert phone.state.wellformed_errors == [
        "001565aabbcc.cfg:6: not 'key = value': 'static.network.qos.audiotos 46'"
    ]
    assert phone.firmware_offer() == (
        "96.87.0.15",
        "http://127.0.0.1:1/firmware/T54-96.87.0.15.rom",
    )


def test_polycom_reads_config_files_first_listed_wins(tmp_path: Path) -> None:
    import functools
    import http.server
    import threading
    from types import SimpleNamespace

    (tmp_path / "000000000000.cfg").write_text(
        '<APPLICATION APP_FILE_PATH="sip.ld" '
        'CONFIG_FILES="[PHONE_MAC_ADDRESS]-user.cfg, phone1.cfg"/>'
    )
    (tmp_path / "0004f2aabbcc-user.cfg").write_text(
        '<polycomConfig reg.1.address="alice" reg.1.displayName="Alice &amp; co"/>'
    )
    (tmp_path / "phone1.cfg").write_text(
        '<polycomConfig><reg reg.1.address="" reg.2.address="bob"/></polycomConfig>'
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        phone = make_phone("polycom", "VVX400", "00:04:f2:aa:bb:cc", version="5.9.1")
        base = f"http://127.0.0.1:{server.server_address[1]}"
        lease = SimpleNamespace(tftp_server=base + "/000000000000.cfg")
        phone.http_url = phone.provisioning_server(lease)
        assert phone.user_agent() == ("FileTransport PolycomVVX-VVX_400-UA/5.9.1 Type/Application")
        phone.provision()
    finally:
        server.shutdown()
        server.server_close()
    assert [f.path for f in phone.state.fetches] == [
        "/000000000000.cfg",
        "/0004f2aabbcc-user.cfg",
        "/phone1.cfg",
    ]
    assert (phone.state.lines[1].username, phone.state.lines[1].display_name) == (
        "alice",
        "Alice & co",
    )
    assert phone.state.lines[2].username == "bob"


def test_grandstream_reads_p_values_and_named_items() -> None:
    from lxml import etree

    phone = make_phone("grandstream", "GXP2170", "00:0b:82:aa:bb:cc", version="1.0.11.1")
    assert phone.user_agent() == "Grandstream Model HW GXP2170 SW 1.0.11.1 DevId 000b82aabbcc"
    phone._apply_xml(  # type: ignore[attr-defined]
        etree.fromstring(
            b"<gs_provision><config version='1'><P35>alice</P35><P3>Alice</P3>"
            b"<P404>bob</P404><P407>Bob</P407><P1601>1</P1601></config></gs_provision>"
        )
    )
    assert (phone.state.lines[1].username, phone.state.lines[1].display_name) == ("alice", "Alice")
    assert (phone.state.lines[2].username, phone.state.lines[2].display_name) == ("bob", "Bob")
    other = make_phone("grandstream", "GRP2612", "00:0b:82:aa:bb:cd", version="1.0.5.1")
    other._apply_xml(  # type: ignore[attr-defined]
        etree.fromstring(
            b"<gs_provision><config version='2'>"
            b"<item name='account.3.sip.userid'>carol</item>"
            b"<item name='account.3.name'>Carol</item></config></gs_provision>"
        )
    )
    assert (other.state.lines[3].username, other.state.lines[3].display_name) == ("carol", "Carol")


def test_htek_reads_named_parameters() -> None:
    from lxml import etree

    phone = make_phone("htek", "UC903", "00:1f:c1:1c:22:a9", version="2.0.4.2")
    assert phone.user_agent() == "Htek UC903 2.0.4.2 00:1f:c1:1c:22:a9"
    phone._apply(  # type: ignore[attr-defined]
        etree.fromstring(
            b"<hl_provision><config><P35 para='Account1_SipUserId'>alice</P35>"
            b"<P3 para='Account1_DispalyName'>Alice</P3>"
            b"<P735 para='Account2_SipUserId'>bob</P735></config></hl_provision>"
        )
    )
    assert (phone.state.lines[1].username, phone.state.lines[1].display_name) == ("alice", "Alice")
    assert phone.state.lines[2].username == "bob"


def test_digium_identity_and_accounts() -> None:
    from lxml import etree

    phone = make_phone("digium", "D70", "00:0f:d3:00:00:01", version="1.1.0.0.48178")
    assert phone.vendor_class() == "digium_D70_1_1_0_0_48178"
    phone._apply(  # type: ignore[attr-defined]
        etree.fromstring(
            b"<config><setting id='locale' value='fr'/><accounts>"
            b"<account index='0' username='alice' password='p' line_label='Alice'/>"
            b"<account index='1' username='bob' line_label='Bob'/>"
            b"<account index='x'/></accounts></config>"
        )
    )
    assert (phone.state.lines[1].username, phone.state.lines[1].display_name) == ("alice", "Alice")
    assert phone.state.lines[2].username == "bob"
    assert phone.state.settings["locale"] == "fr"
    assert phone.state.errors == ["account without a numeric index: 'x'"]


def test_cisco_sccp_records_the_call_managers_in_priority_order() -> None:
    from lxml import etree

    phone = make_phone("cisco-sccp", "7941G", "00:1b:54:aa:bb:cc", version="9.4.2")
    assert phone.vendor_class() == "Cisco Systems, Inc. IP Phone CP-7941G\x00"
    phone._apply(  # type: ignore[attr-defined]
        etree.fromstring(
            b"<device><devicePool><callManagerGroup><members>"
            b"<member priority='1'><callManager><processNodeName>10.9.9.9</processNodeName>"
            b"</callManager></member>"
            b"<member priority='0'><callManager><processNodeName>127.0.0.9</processNodeName>"
            b"</callManager></member>"
            b"</members></callManagerGroup></devicePool></device>"
        )
    )
    assert phone.state.settings["call_manager.1"] == "127.0.0.9"
    assert phone.state.settings["call_manager.2"] == "10.9.9.9"


def test_cisco_multiplatform_identity_and_server_address() -> None:
    from types import SimpleNamespace

    phone = CiscoSpaPhone("8841", "00:0e:08:aa:bb:cc", version="12.0.1")
    assert phone.vendor_class() == "CP-8841-3PCC\x00"
    assert phone.user_agent() == "Cisco-CP-8841-3PCC/12.0.1 (000E08AABBCC)"
    ata = CiscoSpaPhone("ATA191", "00:0e:08:aa:bb:cd", version="11.1.0")
    assert (ata.vendor_class(), ata.psn) == ("CISCO ATA191-MPP", "191")
    # option 66 may name the profile file or only the server
    named = SimpleNamespace(tftp_server="http://127.0.0.1:8667/spa$PSN.cfg")
    bare = SimpleNamespace(tftp_server="http://127.0.0.1:8667")
    assert phone.provisioning_server(named) == "http://127.0.0.1:8667/"
    assert phone.provisioning_server(bare) == "http://127.0.0.1:8667/"
