"""Request shapes the emulators must get exactly right, or the gate pins a wrong verdict on a
plugin or on a tree's ``dhcp/`` configuration: each test pins what a real phone sends, reads
or ignores (files and configurations here are ours, written for the test)."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from emulators.avaya import AvayaPhone
from emulators.cisco_spa import CiscoSpaPhone
from emulators.dhcp import DhcpConfig
from emulators.fanvil import FanvilPhone
from emulators.registry import make_phone


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A directory served over HTTP on loopback, and its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# -- Cisco SCCP: option 60 per model (the strings the sets send, NUL included or not)


@pytest.mark.parametrize(
    ("model", "vendor_class"),
    [
        ("7905G", "Cisco Systems, Inc. IP Phone 7905"),
        ("7912G", "Cisco Systems, Inc. IP Phone 7912"),
        ("7920", "Cisco Systems, Inc. IP Phone 7920\x00"),
        ("7921G", "Cisco Systems Inc. Wireless Phone 7921"),
        ("7937G", "Cisco Systems, Inc. IP Phone CP-7937G"),
        ("7971G", "Cisco Systems, Inc. IP Phone CP-7971G-GE\x00"),
        ("7941G", "Cisco Systems, Inc. IP Phone CP-7941G\x00"),
        ("7940", "Cisco Systems, Inc. IP Phone CP-7940\x00"),
    ],
)
def test_cisco_sccp_option_60_per_model(model: str, vendor_class: str) -> None:
    assert make_phone("cisco-sccp", model, "00:1b:54:00:00:01").vendor_class() == vendor_class


def test_cisco_sccp_option_60_meets_suffix_and_exact_classes(tmp_path: Path) -> None:
    # The forms dhcpd classes take: an exact match, a suffix counted with the NUL, none.
    (tmp_path / "lab.conf").write_text(
        'class "ge" { match if suffix(option vendor-class-identifier, 12) = "CP-7971G-GE\\x00";\n'
        '  option tftp-server-name = "ge"; }\n'
        'class "w" { match if option vendor-class-identifier = '
        '"Cisco Systems Inc. Wireless Phone 7921";\n  option tftp-server-name = "w"; }\n'
        'class "c" { match if suffix(option vendor-class-identifier, 8) = "CP-7937G";\n'
        '  option tftp-server-name = "c"; }\n'
    )
    config = DhcpConfig.parse(tmp_path)
    names = {
        model: getattr(
            config.matched_class(
                make_phone("cisco-sccp", model, "00:1b:54:00:00:01").vendor_class()
            ),
            "name",
            None,
        )
        for model in ("7971G", "7921G", "7937G", "7941G")
    }
    assert names == {"7971G": "ge", "7921G": "w", "7937G": "c", "7941G": None}


# -- Grandstream: the HT80x ATAs number their second port as ATAs do, not as GXP phones


def _grandstream(model: str, xml: bytes) -> dict[int, tuple[str | None, str | None]]:
    phone = make_phone("grandstream", model, "00:0b:82:aa:bb:cc", version="1.0.5.1")
    phone._apply_xml(etree.fromstring(xml))  # type: ignore[attr-defined]
    return {n: (line.username, line.display_name) for n, line in phone.state.lines.items()}


PORTS = (
    b"<gs_provision><config version='1'><P35>alice</P35><P3>Alice</P3>"
    b"<P735>bob</P735><P703>Bob</P703><P734>pw</P734><P747>10.0.0.1</P747>"
    b"<P404>carol</P404><P407>Carol</P407></config></gs_provision>"
)


def test_grandstream_ht802_reads_port_2_at_p7xx_only() -> None:
    expected = {1: ("alice", "Alice"), 2: ("bob", "Bob")}
    assert _grandstream("HT802", PORTS) == expected
    assert _grandstream("HT802V2", PORTS) == expected


def test_grandstream_ht801_has_one_port() -> None:
    assert _grandstream("HT801", PORTS) == {1: ("alice", "Alice")}


def test_grandstream_desk_phone_reads_account_2_at_p4xx() -> None:
    assert _grandstream("GXP2170", PORTS) == {1: ("alice", "Alice"), 2: ("carol", "Carol")}


def test_grandstream_gxp2000_names_its_firmware_files() -> None:
    phone = make_phone("grandstream", "GXP2000", "00:0b:82:27:26:c8", version="1.2.5.2")
    assert phone.user_agent() == (
        "Grandstream GXP2000 (gxp2000e.bin:1.2.5.2/boot55e.bin:1.1.6.9) DevId 000b822726c8"
    )


# -- Avaya: J100 settings files as the J100 guide reads them; 1200-series line limit


def test_avaya_j100_reads_settings_as_a_script(served: tuple[Path, str]) -> None:
    root, base = served
    (root / "J100Supgrade.txt").write_text(
        "## a comment\n"
        "this line is a comment too\n"
        "IF $MODEL4 SEQ J179 GOTO J179_SW\n"
        "GOTO GETSET\n"
        "# J179_SW\n"
        "SET APPNAME firmware/FW_S_J179_R4_1_3_0_6.bin\n"
        "# GETSET\n"
        "GET $MACADDR.cfg\n"
        "SET DISPLAY_NAME not-read\n"
    )
    long_value = "English=res://Mlf_English.xml," + "x" * 90
    (root / "c81feaaabbcc.cfg").write_text(
        f"SET LANGUAGES_RESOURCE_LIST {long_value}\n"
        "SET SIP_USER_ACCOUNT alice@10.0.0.1\n"
        'SET DISPLAY_NAME "Alice Liddell"\n'
        'SET FORCE_SIP_PASSWORD "s3cret"\n'
        "SET LANGUAGE_IN_USE Parisian French\n"
        "IF $MODEL4 SEQ J129 GOTO NOPE\n"
        "GOTO MISSING\n"
        "SET SIPPROXYSRVR not-read\n"
    )
    phone = AvayaPhone("J179", "c8:1f:ea:aa:bb:cc", version="4.1.3.0.5", http_url=base)
    phone.provision()
    line = phone.state.lines[1]
    assert (line.username, line.display_name, line.password) == (
        "alice",
        "Alice Liddell",
        "s3cret",
    )
    assert line.registrar is None  # after an unknown GOTO tag the file is not read further
    assert phone.state.settings["APPNAME"] == "firmware/FW_S_J179_R4_1_3_0_6.bin"
    assert phone.state.settings["LANGUAGES_RESOURCE_LIST"] == long_value
    assert phone.state.wellformed_errors == [
        "c81feaaabbcc.cfg:5: a value with spaces not in double quotes: 'Parisian French'"
    ]
    assert phone.state.errors == []
    assert [f.path for f in phone.state.fetches] == ["/J100Supgrade.txt", "/c81feaaabbcc.cfg"]


def test_avaya_1200_lines_over_80_characters_and_mixed_case_keys() -> None:
    phone = AvayaPhone("1230IP", "00:24:00:aa:bb:cc", version="04.01.13.00")
    files = {
        "1230SIP.cfg": b"[USER_CONFIG]\nDOWNLOAD_MODE FORCED\n",
        "SIP002400AABBCC.cfg": b"AVAYA_AUTOMATIC_QoS NO\n"
        + b"BANNER "
        + b"x" * 73
        + b"\nBANNER "
        + b"x" * 74
        + b"\nAUTOLOGIN_ID_KEY01 alice@10.0.0.1\nlower_case_only\n",
    }
    phone.http_get = files.get  # type: ignore[method-assign,assignment]
    phone.provision()
    assert phone.state.settings["AVAYA_AUTOMATIC_QoS"] == "NO"
    assert phone.state.wellformed_errors == [
        "SIP002400AABBCC.cfg:3: more than 80 characters",
        "SIP002400AABBCC.cfg:5: not 'KEY VALUE'",
    ]


def test_avaya_1200_takes_no_display_name_from_its_files() -> None:
    pushed = {"username": "alice", "display_name": "Alice Liddell"}
    desk = AvayaPhone("1220IP", "00:24:00:aa:bb:cc")
    desk.set_line(1, username="alice")
    assert desk.line_matches(desk.state.lines[1], pushed)
    assert not desk.line_matches(desk.state.lines[1], {**pushed, "username": "bob"})
    j100 = AvayaPhone("J179", "c8:1f:ea:aa:bb:cc")
    j100.set_line(1, username="alice")
    assert not j100.line_matches(j100.state.lines[1], pushed)  # a J100 shows DISPLAY_NAME


# -- Fanvil: the upgrade description named after model and hardware revision


@pytest.mark.parametrize(
    ("model", "name"),
    [
        ("V62", "fanvil_v62_hwv1_0.txt"),
        ("V62Pro", "fanvil_v62_pro_hwv1_0.txt"),
        ("i10SV", "fanvil_i10sv_hwv1_0.txt"),
        ("H2U-V2", "fanvil_h2u_v2_hwv1_0.txt"),
        ("X4U-V2", "fanvil_x4u_v2_hwv2_0.txt"),
        ("X210-Pro", "fanvil_x210_pro_hwv2_0.txt"),
        ("W620W", "fanvil_w620w_hwv1_0.txt"),
    ],
)
def test_fanvil_upgrade_description_name(model: str, name: str) -> None:
    assert FanvilPhone(model, "0c:38:3e:00:00:01").upgrade_description == name


FW_CHECK = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<sysConf><fwCheck>'
    "<EnableAutoUpgrade>{enable}</EnableAutoUpgrade>"
    "<UpgradeServer1>{server}Fanvil</UpgradeServer1></fwCheck>"
    '<sip><line index="1"><PhoneNumber>alice</PhoneNumber></line></sip></sysConf>\n'
    "<<END OF FILE>>\n"
)


def test_fanvil_asks_its_upgrade_server_for_its_description(served: tuple[Path, str]) -> None:
    root, base = served
    (root / "Fanvil" / "firmware").mkdir(parents=True)
    (root / "Fanvil" / "0c383eaabbcc.cfg").write_text(FW_CHECK.format(enable=1, server=base))
    (root / "Fanvil" / "fanvil_v62_hwv1_0.txt").write_text(
        f"Version=2.12.20.3\nFirmware={base}Fanvil/firmware/v62.z\nBuildTime=2024.12.12\n"
        "Info=TXT|XML\nV62_2.12.20.3\nFanvil\n"
    )
    (root / "Fanvil" / "firmware" / "v62.z").write_bytes(b"image")
    phone = FanvilPhone("V62", "0c:38:3e:aa:bb:cc", version="2.12.18", http_url=base)
    state = phone.boot()
    assert state.flashed == ["2.12.20.3"]
    assert state.errors == [] and state.wellformed_errors == []
    assert [f.path for f in state.fetches][:3] == [
        "/Fanvil/0c383eaabbcc.cfg",
        "/Fanvil/fanvil_v62_hwv1_0.txt",
        "/Fanvil/firmware/v62.z",
    ]
    assert [f.path for f in state.fetches][-2:] == [
        "/Fanvil/0c383eaabbcc.cfg",
        "/Fanvil/fanvil_v62_hwv1_0.txt",
    ], "after the flash, the same version: nothing more to fetch"


def test_fanvil_without_auto_upgrade_asks_for_no_description(served: tuple[Path, str]) -> None:
    root, base = served
    (root / "Fanvil").mkdir()
    (root / "Fanvil" / "0c383eaabbcc.cfg").write_text(FW_CHECK.format(enable=0, server=base))
    phone = FanvilPhone("V62", "0c:38:3e:aa:bb:cc", version="2.12.18", http_url=base)
    state = phone.boot()
    assert [f.path for f in state.fetches] == ["/Fanvil/0c383eaabbcc.cfg"]
    assert state.flashed == []


# -- Cisco/Linksys SPA: an SPA9xx desk phone reads an undeclared profile as ISO-8859-1


PROFILE = "<flat-profile><User_ID_1_>bob</User_ID_1_><Display_Name_1_>Bob Éléphant"
PROFILE += "</Display_Name_1_></flat-profile>"


@pytest.mark.parametrize(
    ("model", "data", "shown", "wellformed"),
    [
        ("SPA942", PROFILE.encode("iso-8859-1"), "Bob Éléphant", False),
        ("SPA942", PROFILE.encode("utf-8"), "Bob Ã\x89lÃ©phant", True),
        (
            "SPA942",
            b'<?xml version="1.0" encoding="UTF-8"?>' + PROFILE.encode("utf-8"),
            "Bob Éléphant",
            True,
        ),
        ("SPA508G", PROFILE.encode("utf-8"), "Bob Éléphant", True),
        ("SPA2102", PROFILE.encode("utf-8"), "Bob Éléphant", True),  # an ATA: no screen
    ],
)
def test_spa_profile_encoding_by_era(model: str, data: bytes, shown: str, wellformed: bool) -> None:
    phone = CiscoSpaPhone(model, "00:0e:08:aa:bb:cc", version="6.1.5a")
    phone._get = {f"spa{phone.psn}.cfg": data}.get  # type: ignore[method-assign,assignment]
    phone.provision()
    assert phone.state.lines[1].display_name == shown
    assert (phone.state.wellformed_errors == []) is wellformed
