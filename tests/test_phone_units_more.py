"""The emulators added for the vendors of wazo-provd-plugins HEAD, against the embedded provd
over real sockets, on the sample plugins of tests/data/extra/plugins/wazo_lab (ours, asking
for what each vendor's phones ask for), plus their rules that need no server."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from emulators.avaya import AvayaPhone
from emulators.cisco_sccp import load_version
from emulators.dhcp import DhcpClient, DhcpConfig, DhcpServer, decode_vendor_options
from emulators.fanvil import FanvilPhone
from emulators.gigaset import GigasetPhone
from emulators.gigaset_web import GigasetWeb
from emulators.patton import PattonPhone
from emulators.phone import Line, PhoneState
from emulators.registry import lookup, make_phone, vendor_oui
from pytest_provd import tree
from pytest_provd.client import ProvdClient
from pytest_provd.firmware.image import payload
from pytest_provd.provd.plugins.rawconfig import sample_raw_config

LAB = tree.discover(Path(__file__).parent / "data" / "extra" / "plugins")
PUSHED = sample_raw_config()["sip_lines"]

# plugin id, vendor, model, the version the phone starts with, the firmware it ends with
WIRE = [
    ("wazo-fanvil-lab", "fanvil", "X4U", "2.12.16.16", "2.12.20"),
    ("wazo-fanvil-lab", "fanvil", "X210-Pro", "2.12.19", "2.12.20"),
    ("wazo-gigaset-lab", "gigaset", "N870 IP PRO", "83.V2.64.0", "83.V2.65.0"),
    ("wazo-gigaset-labweb", "gigaset", "C470 IP", "226", None),
    ("wazo-alcatel-lab", "alcatel", "M3", "2.13.01", None),
    ("wazo-alcatel-lab", "alcatel", "4028", "2.01.19", None),
    ("wazo-avaya-lab", "avaya", "J179", "4.1.3.0.5", "4.1.3.0.6"),
    ("wazo-patton-lab", "patton", "SN4112", "6.10", None),
    ("wazo-panasonic-lab", "panasonic", "KX-UT133", "01.132", "01.133"),
    ("wazo-technicolor-lab", "technicolor", "ST2022", "4.78.0", "4.78.1"),
    ("wazo-jitsi-lab", "jitsi", "Jitsi", "1.0-beta1", None),
    ("wazo-cisco-sip-9.lab", "cisco-sip", "8941", "9.3.1.17", "9.3.1.18"),
    ("wazo-zenitel-lab", "zenitel", "IP station", "01.11.3.1", "01.11.3.2"),
]


def _can_listen_on_port_80() -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.255.255.254", 80))
        except OSError:
            return False
    return True


@pytest.mark.parametrize(
    ("plugin_id", "vendor", "model", "version", "upgraded"),
    WIRE,
    ids=[f"{vendor}-{model}" for _, vendor, model, _, _ in WIRE],
)
def test_lab_phone_boots_and_gets_the_pushed_lines(
    provd: Any,
    provd_client: ProvdClient,
    provd_make_phone: Any,
    tmp_path: Path,
    plugin_id: str,
    vendor: str,
    model: str,
    version: str,
    upgraded: str | None,
) -> None:
    assert lookup(vendor).boots(plugin_id), "the registry maps the sample to its emulator"
    if model == "C470 IP" and not _can_listen_on_port_80():
        pytest.skip("the C470's web interface listens on port 80: root or CAP_NET_BIND_SERVICE")
    built = tree.build(LAB.targets[plugin_id], tmp_path)
    provd.install_plugin_dir(built)
    capabilities = json.loads((built / "plugin-info").read_text())["capabilities"]
    room = next(c["lines"] for k, c in capabilities.items() if k.split(", ")[1] == model)
    mac = f"{vendor_oui(vendor, model)}:00:05:01"
    config_id = provd_client.add_config(
        {"parent_ids": ["base"], "raw_config": {"sip_lines": PUSHED}}
    )
    provd_client.add_device({"mac": mac, "config": config_id, "plugin": plugin_id})
    extra: dict[str, Any] = {}
    if lookup(vendor).phone.url_by_hand or vendor == "avaya":
        # Jitsi's URL is typed in; Wazo's dhcpd gives J100 phones no file server
        extra["http_url"] = provd.http_url
    phone = provd_make_phone(vendor, model, mac=mac, version=version, **extra)
    try:
        state = phone.boot()
        device = provd_client.find_device(mac=mac)
        assert device is not None
        if phone.needs_synchronize:
            assert not state.lines, "nothing before provd synchronizes the device"
            provd_client.synchronize(device["id"])
    finally:
        phone.close()
    for number in ("1", "2")[:room]:
        line = state.lines.get(int(number))
        assert phone.line_matches(line, PUSHED[number]), state.describe()
        assert line is not None and line.password == PUSHED[number]["password"]
    assert not state.wellformed_errors, state.describe()
    assert state.flashed == ([upgraded] if upgraded else []), state.describe()
    assert state.firmware_version == (upgraded or version)
    if upgraded:
        fetched = [f.path for f in state.fetches]
        assert len(fetched) > len(set(fetched)), "provisioned again after flashing"
    assert not state.errors, state.describe()
    if device.get("model") is not None:
        assert device["model"] == phone.model


def test_gigaset_web_interface_wants_the_pin_and_a_session() -> None:
    import http.cookiejar
    import urllib.error
    import urllib.request

    state = PhoneState()
    web = GigasetWeb(state, "00:01:e3:aa:bb:cc".replace(":", ""), "02227", port=0)
    assert web.start("127.0.0.1") is None
    assert web._server is not None
    base = f"http://127.0.0.1:{web._server.server_address[1]}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    try:
        with opener.open(f"{base}/login.html", b"language=1&password=1234") as answer:
            assert answer.geturl().endswith("/login.html")
        opener.open(f"{base}/settings_telephony_voip.html?id=0", b"sip_user_id=x").close()
        assert not state.lines
        with opener.open(f"{base}/login.html", b"language=1&password=0000") as answer:
            assert answer.geturl().endswith("/home.html")
        with opener.open(f"{base}/status_device.html") as answer:
            page = answer.read().decode()
        assert "MAC address: 00:01:E3:AA:BB:CC" in page and "Firmware version: 02227" in page
        body = b"sip_user_id=alice&sip_password=a&sip_password_2=b&sip_display_name=Alice"
        opener.open(f"{base}/settings_telephony_voip.html?id=0", body).close()
        opener.open(f"{base}/settings_telephony_voip.html?id=9", body).close()
        opener.open(f"{base}/settings_admin_special.html", b"use_ntp=1").close()
        opener.open(f"{base}/logout.html").close()
        opener.open(f"{base}/settings_admin_special.html", b"use_ntp=0").close()
    finally:
        web.close()
        web.close()
    assert (state.lines[1].username, state.lines[1].display_name) == ("alice", "Alice")
    assert state.settings["settings_admin_special.html:use_ntp"] == "1"
    assert state.errors == [
        "web: login refused (PIN '1234')",
        "web: POST /settings_telephony_voip.html without a session",
        "web: account 1: the two passwords differ",
        "web: settings_telephony_voip.html: bad account '9'",
        "web: POST /settings_admin_special.html without a session",
    ]
    assert [f.proto for f in state.fetches] == ["web"] * len(state.fetches)


def test_gigaset_identities() -> None:
    n510 = GigasetPhone("N510 IP PRO", "7c:2f:80:4d:f9:a9", version="42.261")
    assert n510.user_agent() == "N510 IP PRO/42.261.00.000.000;7C2F804DF9A9"
    assert n510.vendor_class() == "N510_IP_PRO"
    n720 = GigasetPhone("N720 DM PRO", "7c:2f:80:ca:21:e4", version="70.116.00.000.000")
    assert n720.user_agent() == "Gigaset N720 DM PRO/70.116.00.000.000;7C2F80CA21E4"
    assert n720.vendor_class() == "Gigaset_N720_DM_PRO"
    nx70 = GigasetPhone("N870E IP PRO", "7c:2f:80:e0:d6:05", version="83.V2.64.0")
    assert nx70.user_agent() == "Gigaset N870E IP PRO/83.V2.64.0+build.1;7C2F80E0D605"
    assert nx70.vendor_class() is None and not nx70.needs_synchronize
    c470 = GigasetPhone("C470 IP", "00:01:e3:00:00:01")
    assert c470.needs_synchronize and c470.vendor_class() == "C470_IP"
    assert vendor_oui("gigaset", "C590 IP") == "00:01:e3"
    assert vendor_oui("gigaset", "N510 IP PRO") == "7c:2f:80"
    # N510/N720 items: the account number is in the ID
    n510._symbol("BS_IP_Data1.aucS_SIP_USER_ID_2", '"bob"')
    n510._symbol("BS_IP_Data3.aucS_SIP_DISPLAYNAME_2", '"Bob 1002"')
    n720._symbol("BS_VOIP_Data.astVoipAccounts[0].aucS_SIP_USER_ID[0]", '"alice"')
    assert (n510.state.lines[2].username, n510.state.lines[2].display_name) == ("bob", "Bob 1002")
    assert n720.state.lines[1].username == "alice"


@pytest.mark.parametrize(
    ("shown", "matches"),
    [("1001 Alice", True), ("Alice", True), ("1001Alice", False), ("Alice 1001", False)],
)
def test_fanvil_display_name_ends_with_the_pushed_one(shown: str, matches: bool) -> None:
    phone = FanvilPhone("X4U", "0c:38:3e:00:00:01")
    pushed = {"username": "alice", "display_name": "Alice", "number": "1001"}
    assert phone.line_matches(Line(1, username="alice", display_name=shown), pushed) is matches
    assert not phone.line_matches(Line(1, username="bob", display_name="1001 Alice"), pushed)
    assert not phone.line_matches(None, pushed)


def test_fanvil_identity_and_end_of_file_marker() -> None:
    phone = FanvilPhone("X210-Pro", "0c:38:3e:2c:d7:82", version="P0.18.23.89-2.4.5.1")
    assert phone.user_agent() == "Fanvil X210 Pro 2.4.5.1 0c383e2cd782"
    assert phone.vendor_class() is None
    lease = SimpleNamespace(tftp_server="http://127.0.0.1:8667/Fanvil/$mac.cfg")
    assert phone.provisioning_server(lease) == "http://127.0.0.1:8667/Fanvil/"
    served = b'<?xml version="1.0"?>\n<VOIP_CONFIG_FILE><SIP_CONFIG_MODULE><SIP_Line_List>'
    served += b"<SIP_Line_List_Entry><ID>SIP1</ID><Phone_Number>alice</Phone_Number>"
    served += b"<Display_Name>1001 Alice</Display_Name></SIP_Line_List_Entry>"
    served += b"<SIP_Line_List_Entry><ID>SIP2</ID><Phone_Number></Phone_Number>"
    served += b"</SIP_Line_List_Entry></SIP_Line_List></SIP_CONFIG_MODULE></VOIP_CONFIG_FILE>"
    served += b"\n<<END OF FILE>>\n"
    phone.http_get = lambda path: served  # type: ignore[method-assign]
    phone.provision()
    assert not phone.state.wellformed_errors
    assert phone.state.lines[1].display_name == "1001 Alice" and 2 not in phone.state.lines


def test_patton_lines_follow_the_fxs_ports() -> None:
    phone = PattonPhone("SN4114", "00:a0:ba:08:93:3c", version="6.10")
    assert phone.user_agent().startswith(
        "SmartNode (Model:SN4114/JS/EUI; Serial:00A0BA08933C; Software Version:R6.10 "
    )
    config = (
        b"context cs switch\n  interface fxs IF_FXS1\n    subscriber-number bob\n"
        b"  interface fxs IF_FXS0\n    subscriber-number alice\n"
        b"authentication-service AUTH\n  username alice password s1\n"
        b"location-service LOC\n  identity alice\n    registration outbound\n"
        b"      registrar 10.0.0.1 5060\n   odd indentation\n  {{ residue }}\n"
    )
    phone.http_get = lambda path: config  # type: ignore[method-assign]
    phone.provision()
    assert (phone.state.lines[1].username, phone.state.lines[1].password) == ("alice", "s1")
    assert phone.state.lines[1].registrar == "10.0.0.1"
    assert phone.state.lines[2].username == "bob"
    assert [e.split(": ")[0] for e in phone.state.wellformed_errors] == [
        "00a0ba08933c.cfg:12",
        "00a0ba08933c.cfg:13",
    ]
    assert phone.line_matches(phone.state.lines[1], {"username": "alice", "display_name": "A"})


def test_avaya_1200_sections_firmware_and_long_lines() -> None:
    phone = AvayaPhone("1220IP", "00:24:00:aa:bb:cc", version="04.01.12.00")
    assert phone.user_agent() == "AVAYA/SIP12x0\x14/04.01.12.00"
    assert (
        phone.vendor_class() == "Nortel-SIP-1220IP" and vendor_oui("avaya", "1220IP") == "00:24:00"
    )
    served = {
        "1220SIP.cfg": b"[DEVICE_CONFIG]\nFILENAME DeviceConfig.cfg\n[FW]\nVERSION 04011300\n"
        b"FILENAME firmware/SIP12x0.bin\n[USER_CONFIG]\nDOWNLOAD_MODE FORCED\n",
        "DeviceConfig.cfg": b"SNTP_ENABLE NO\nBANNER " + b"X" * 74 + b"\n",
        "SIP002400AABBCC.cfg": b"AUTOLOGIN_ID_KEY01 alice@10.0.0.1\nSERVER_IP1_1 10.0.0.1\n",
        "firmware/SIP12x0.bin": payload("SIP12x0.bin", "04.01.13.00"),
    }
    phone.http_get = served.get  # type: ignore[method-assign,assignment]
    phone.provision()
    assert (phone.state.lines[1].username, phone.state.lines[1].registrar) == (
        "alice",
        "10.0.0.1",
    )
    assert phone.state.wellformed_errors == ["DeviceConfig.cfg:2: more than 80 characters"]
    assert phone.firmware_offer() == ("04.01.13.00", "firmware/SIP12x0.bin")


def test_cisco_load_versions() -> None:
    assert load_version("SCCP41.9-4-2SR3-1S") == "9.4.2SR3.1S"
    assert load_version("SIP8941_8945.9-3-1-18") == "9.3.1.18"
    assert load_version("CP7905080003SCCP070409A") == "CP7905080003SCCP070409A"


@pytest.mark.parametrize(
    ("vendor", "model", "settings", "image", "version"),
    [
        ("polycom", "VVX400", {"APP_FILE_PATH": "sip.ld"}, "sip.ld", "5.9.2"),
        (
            "digium",
            "D70",
            {"firmware.version": "2_8_1", "firmware.url": "http://h/2_8_1_D70.eff"},
            "http://h/2_8_1_D70.eff",
            "2.8.1",
        ),
        (
            "grandstream",
            "HT801",
            {"P192": "127.0.0.1:8667/Grandstream/", "P6767": "1"},
            "http://127.0.0.1:8667/Grandstream/ht801fw.bin",
            "1.0.63.3",
        ),
    ],
)
def test_firmware_offers_of_the_earlier_emulators(
    vendor: str, model: str, settings: dict[str, str], image: str, version: str
) -> None:
    phone = make_phone(vendor, model, f"{vendor_oui(vendor, model)}:00:00:01", version="0.1")
    phone.state.settings.update(settings)
    asked: list[str] = []

    def get(path: str) -> bytes:
        asked.append(path)
        return payload(path.rsplit("/", 1)[-1], version)

    phone.http_get = get  # type: ignore[method-assign]
    assert phone.firmware_offer() == (version, image)
    assert asked == [image]
    phone.state.firmware_version = version
    assert vendor != "digium" or phone.firmware_offer() is None


def test_dhcp_user_class_option_spaces_and_default_url(tmp_path: Path) -> None:
    conf = tmp_path / "lab.conf"
    conf.write_text(
        "option space S;\noption S.url code 67 = text;\noption S.rcs code 3 = boolean;\n"
        'class "U" {\n  match if (option user-class = "Thomson ST2022S"\n'
        '            or binary-to-ascii(16, 8, "", option vendor-class-identifier) = "00");\n'
        "  option vendor-encapsulated-options = concat(config-option VOIP.http-server-uri,\n"
        '                                              "/ST2022S.inf");\n}\n'
        'class "V" {\n  match if option vendor-class-identifier = "alcatel.sip.0";\n'
        "  vendor-option-space S;\n  option S.url = config-option VOIP.http-server-uri;\n"
        "  option S.rcs = false;\n}\n"
        'subclass "voip-mac-address-prefix" 1:7c:2f:80 {\n'
        "  option default-url = config-option VOIP.http-server-uri;\n}\n"
    )
    config = DhcpConfig.parse(conf)
    assert not config.warnings
    with DhcpServer(config, http_url="http://127.0.0.1:8667") as server:
        thomson = DhcpClient(server.address, "00:14:7f:00:00:01", user_class="Thomson ST2022S")
        assert thomson.obtain_lease().options[43] == b"http://127.0.0.1:8667/ST2022S.inf"
        alcatel = DhcpClient(server.address, "00:80:9f:00:00:01", vendor_class="alcatel.sip.0")
        sub = decode_vendor_options(alcatel.obtain_lease().options[43])
        assert sub == {67: b"http://127.0.0.1:8667", 3: b"\x00"}
        gigaset = DhcpClient(server.address, "7c:2f:80:00:00:01")
        assert gigaset.obtain_lease().options[114] == b"http://127.0.0.1:8667"


def test_dhcp_prefixes_without_leading_zeros(tmp_path: Path) -> None:
    conf = tmp_path / "nortel.conf"
    conf.write_text(
        'subclass "voip-mac-address-prefix" 1:0:24:0 {\n'
        "  if not exists vendor-class-identifier {\n"
        "    option tftp-server-name = config-option VOIP.tftp-server-name;\n  }\n}\n"
    )
    config = DhcpConfig.parse(conf)
    assert [s.prefix for s in config.subclasses] == ["00:24:00"]
    assert config.mac_options("00:24:00:12:34:56", None) == {
        "tftp-server-name": "config-option VOIP.tftp-server-name"
    }
