"""The DHCP wire: codec round trips, hostile packets dropped and counted, vendor classes."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulators.dhcp import (
    ACK,
    DISCOVER,
    DhcpClient,
    DhcpConfig,
    DhcpDecodeError,
    DhcpMessage,
    DhcpServer,
    UnknownCondition,
    decode_vendor_options,
    encode_vendor_options,
    evaluate_condition,
)

SAMPLE = Path(__file__).parents[1] / "emulators" / "data" / "dhcpd-sample.conf"
REAL = Path(os.environ.get("PYTEST_PROVD_REAL_TREE", "/tmp/real/plugins-repo")) / "dhcp"

options = st.dictionaries(
    st.integers(1, 254).filter(lambda c: c not in (52,)),
    st.binary(min_size=1, max_size=600),
    max_size=6,
)


@given(
    op=st.sampled_from([1, 2]),
    xid=st.integers(0, 2**32 - 1),
    mac=st.binary(min_size=6, max_size=6),
    opts=options,
)
def test_round_trip(op: int, xid: int, mac: bytes, opts: dict[int, bytes]) -> None:
    message = DhcpMessage(op, xid, mac, opts, yiaddr="127.1.2.3")
    again = DhcpMessage.decode(message.encode())
    assert (again.op, again.xid, again.chaddr, again.options, again.yiaddr) == (
        op,
        xid,
        mac,
        opts,
        "127.1.2.3",
    )


@given(st.dictionaries(st.integers(1, 254), st.binary(max_size=40), max_size=5))
def test_vendor_options_round_trip(sub: dict[int, bytes]) -> None:
    assert decode_vendor_options(encode_vendor_options(sub)) == sub


GOOD = DhcpMessage(1, 7, b"\x00\x04\x13\x00\x00\x01", {53: bytes([DISCOVER])}).encode()


@pytest.mark.parametrize(
    ("packet", "reason"),
    [
        (GOOD[:100], "truncated"),
        (GOOD[:236] + b"\x00\x00\x00\x00" + GOOD[240:], "bad magic cookie"),
        (GOOD[:240] + b"\x35\x09\x01\xff", "overruns"),
        (GOOD[:240] + b"\x35\x01", "overruns"),
        (GOOD[:240] + b"\x35\x01\x01", "not terminated"),
        (GOOD[:240] + b"\x34\x01\x07\xff", "bad option overload"),
        (GOOD[:1] + b"\x07" + GOOD[2:], "not an Ethernet"),
    ],
)
def test_malformed_packets_raise(packet: bytes, reason: str) -> None:
    with pytest.raises(DhcpDecodeError, match=reason):
        DhcpMessage.decode(packet)


def test_option_overload_reads_file_field() -> None:
    message = DhcpMessage(1, 1, b"\x00" * 6, {53: bytes([DISCOVER]), 52: b"\x01"})
    raw = bytearray(message.encode())
    raw[108:112] = b"\x3c\x02hi"  # option 60 placed in the 'file' field
    raw[112] = 0xFF
    assert DhcpMessage.decode(bytes(raw)).options[60] == b"hi"


def test_server_drops_and_counts_hostile_packets_and_keeps_serving() -> None:
    with DhcpServer(DhcpConfig.parse(SAMPLE), http_url="http://127.0.0.1:8667/") as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for packet in (b"", b"x" * 10, GOOD[:236] + b"\0\0\0\0", b"\xff" * 7000):
                sock.sendto(packet, server.address)
        lease = DhcpClient(
            server.address, "00:04:13:00:00:02", vendor_class="snomD785"
        ).obtain_lease()
        dropped = sum(n for key, n in server.stats.items() if key.startswith("dropped:"))
        assert dropped == 4
        assert lease.yiaddr.startswith("127.1.")
        assert lease.tftp_server == "http://127.0.0.1:8667"
        assert server.stats["acks"] == 1


def test_classes_give_vendor_options_and_dhcpinfo_is_pushed() -> None:
    commits: list[dict[str, object]] = []
    config = DhcpConfig.parse(SAMPLE)
    with DhcpServer(config, http_url="http://127.0.0.1:9/", on_commit=commits.append) as server:
        aastra = DhcpClient(server.address, "00:08:5d:00:00:01", vendor_class="AastraIPPhone6867i")
        lease = aastra.obtain_lease()
        assert lease.vendor_options[2] == b"http://127.0.0.1:9/Aastra"
        cisco = DhcpClient(server.address, "00:0e:08:00:00:01", vendor_class="Cisco SPA504G")
        assert cisco.obtain_lease().tftp_server == "http://127.0.0.1:9/spa$PSN.cfg"
    assert [c["mac"] for c in commits] == ["00:08:5d:00:00:01", "00:0e:08:00:00:01"]
    assert any(str(o).startswith("060") for o in commits[0]["options"])  # type: ignore[union-attr]


NOT_AASTRA = (
    "not exists vendor-class-identifier or not (substring(option vendor-class-identifier, 0, 13)"
    ' = "AastraIPPhone")'
)


@pytest.mark.parametrize(
    ("condition", "vendor_class", "holds"),
    [
        ("not exists vendor-class-identifier", None, True),
        ("not exists vendor-class-identifier", "snomD785", False),
        (
            'not exists vendor-class-identifier or vendor-class-identifier = "dslforum.org"',
            "dslforum.org",
            True,
        ),
        (
            'not exists vendor-class-identifier or vendor-class-identifier = "dslforum.org"',
            "other",
            False,
        ),
        (NOT_AASTRA, "AastraIPPhone6731i", False),
        (NOT_AASTRA, "MitelIPPhone6930", True),
        (NOT_AASTRA, None, True),
    ],
)
def test_subclass_conditions(condition: str, vendor_class: str | None, holds: bool) -> None:
    assert evaluate_condition(condition, vendor_class) is holds


def test_suffix_matches_and_escapes(tmp_path: Path) -> None:
    conf = tmp_path / "cisco.conf"
    conf.write_text(
        'class "CiscoCP-7941G" {\n'
        '    match if suffix(option vendor-class-identifier, 9) = "CP-7941G\\x00";\n'
        '    option tftp-server-name = "tftp.example";\n'
        "}\n"
    )
    config = DhcpConfig.parse(conf)
    assert not config.warnings
    matched = config.matched_class("Cisco Systems, Inc. IP Phone CP-7941G\x00")
    assert matched is not None and matched.name == "CiscoCP-7941G"
    assert config.matched_class("Cisco Systems, Inc. IP Phone CP-7941G") is None


def test_unknown_condition_is_a_warning_naming_file_and_line(tmp_path: Path) -> None:
    conf = tmp_path / "odd.conf"
    conf.write_text(
        'subclass "voip-mac-address-prefix" 1:00:11:22 {\n'
        '    option bootfile-name "boot.inf";\n'
        '    if option host-name = "x" {\n'
        '        option tftp-server-name = "never";\n'
        "    }\n"
        "}\n"
    )
    config = DhcpConfig.parse(conf)
    assert config.warnings == [f"{conf}:1: unhandled condition 'option host-name = \"x\"'"]
    # the unconditional statement still applies, the unknown branch never does
    assert config.mac_options("00:11:22:33:44:55", None) == {"bootfile-name": "boot.inf"}
    with pytest.raises(UnknownCondition):
        evaluate_condition('option host-name = "x"', None)


def test_mac_prefix_subclasses_on_the_wire() -> None:
    config = DhcpConfig.parse(SAMPLE)
    assert not config.warnings
    with DhcpServer(config, http_url="http://127.0.0.1:9/") as server:
        # no vendor class: the Snom prefix alone gives the provisioning URL
        bare = DhcpClient(server.address, "00:04:13:00:00:01", vendor_class=None)
        assert bare.obtain_lease().tftp_server == "http://127.0.0.1:9"
        mitel = DhcpClient(server.address, "14:00:e9:00:00:01", vendor_class="MitelIPPhone6930")
        assert mitel.obtain_lease().tftp_server == "http://127.0.0.1:9/Aastra"
        # a vendor class no class knows, on a prefix whose subclass wants none: nothing
        odd = DhcpClient(server.address, "02:00:00:00:00:01", vendor_class="acmePhone1")
        assert odd.obtain_lease().tftp_server == "127.0.0.1"
        assert server.stats["mac-prefix"] == 4  # two phones, OFFER and ACK each


def test_client_times_out_without_server() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))
        client = DhcpClient(quiet.getsockname(), "00:00:00:00:00:01", timeout=0.1, retries=2)
        with pytest.raises(TimeoutError, match="after 2 tries"):
            client.obtain_lease()


@pytest.mark.skipif(not REAL.is_dir(), reason="real wazo-provd-plugins tree not present")
def test_real_dhcp_directory() -> None:
    config = DhcpConfig.parse(REAL)
    assert len(config.classes) > 100
    for vendor_class, expected in [
        ("snomD785", "Snom785"),
        ("LINKSYS SPA-942", "LinksysSPA942"),
        ("AastraIPPhone6731i", "Aastra6731i"),
        ("Cisco SPA504G", "CiscoSMBSPA504G"),
    ]:
        matched = config.matched_class(vendor_class)
        assert matched is not None and matched.name == expected
    assert not [w for w in config.warnings if "condition" in w]
    assert config.mac_options("14:00:e9:00:00:01", "MitelIPPhone6930")
    assert not config.mac_options("00:04:13:00:00:01", "snomD862")  # a real gap of dhcp/
    assert ACK == 5


def test_commits_share_one_keep_alive_connection_opened_again_when_closed() -> None:
    import http.server
    import threading

    seen: list[tuple[int, str]] = []  # (connection number, MAC pushed)

    class Hook(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        connections = 0

        def setup(self) -> None:
            super().setup()
            Hook.connections += 1
            self.number = Hook.connections

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.number, json.loads(body)["dhcp_info"]["mac"]))
            self.send_response(204)
            self.end_headers()
            if len(seen) == 2:
                self.close_connection = True  # as provd's idle timeout: closed, unannounced

        def log_message(self, *args: object) -> None:
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{hook.server_address[1]}/provd"
    try:
        with DhcpServer(http_url="http://127.0.0.1:9/", provd_url=url) as server:
            for n in range(1, 4):
                DhcpClient(server.address, f"00:04:13:00:00:0{n}").obtain_lease()
            server.release()  # closed now: the next commit opens another
            DhcpClient(server.address, "00:04:13:00:00:04").obtain_lease()
            assert server.stats["commits_pushed"] == 4
    finally:
        hook.shutdown()
        hook.server_close()
    assert seen == [
        (1, "00:04:13:00:00:01"),
        (1, "00:04:13:00:00:02"),
        (2, "00:04:13:00:00:03"),
        (3, "00:04:13:00:00:04"),
    ]
