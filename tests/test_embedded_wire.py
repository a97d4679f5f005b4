"""Provisioning HTTP and TFTP servers on the wire: traversal, listing, options, bad packets."""

from __future__ import annotations

import http.client
import io
import socket
import struct
from pathlib import Path

import pytest
import tftpy

from pytest_provd import tree
from pytest_provd.provd import EmbeddedProvd
from pytest_provd.provd.plugins.rawconfig import sample_raw_config
from pytest_provd.provd.servers.tftp import name_problem, negotiate, parse_request

# The fixtures under test (until pytest_provd.plugin registers them).

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
SPA = "wazo-cisco-spa-7.5.5"
MAC_FILE = "000e08aabbcc.xml"


@pytest.fixture
def spa_provd(provd: EmbeddedProvd) -> EmbeddedProvd:
    """provd with the sample Cisco SPA plugin and one configured device at 127.0.0.1."""
    provd.install_plugin_from_tree(tree.discover(SAMPLES).targets[SPA])
    lines = sample_raw_config()["sip_lines"]
    lines["1"]["username"] = "x" * 3000  # a file of several 512-byte blocks
    config_id = provd.create_config({"sip_lines": lines})
    device_id = provd.create_device(
        mac="00:0e:08:aa:bb:cc", ip="127.0.0.1", config=config_id, plugin=SPA
    )
    assert provd.device(device_id)["configured"], provd.app.config_errors
    return provd


def raw_get(provd: EmbeddedProvd, target: str) -> tuple[int, bytes]:
    host, port = provd.http_url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def tftp_exchange(address: tuple[str, int], packet: bytes) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(packet, address)
        return sock.recvfrom(70000)[0]


def rrq(name: bytes, *options: bytes) -> bytes:
    return b"\x00\x01" + name + b"\0octet\0" + b"".join(o + b"\0" for o in options)


def test_http_serves_the_device_file(spa_provd: EmbeddedProvd) -> None:
    status, body = raw_get(spa_provd, "/" + MAC_FILE)
    assert status == 200 and b"x" * 3000 in body


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/%2e%2e/%2e%2e/etc/passwd", 403),
        ("/..%2f..%2fetc%2fpasswd", 403),
        ("/a/%2E%2E/" + MAC_FILE, 403),
        ("/%5c..%5cplugin-info", 403),
        ("/x%00.xml", 403),
        ("/../plugin-info", 403),
        ("/./" + MAC_FILE, 403),
        ("/", 404),
        ("/firmware/", 404),
        ("/%ff%fe", 403),
    ],
)
def test_http_refuses_traversal_and_listing(
    spa_provd: EmbeddedProvd, target: str, status: int
) -> None:
    got, body = raw_get(spa_provd, target)
    assert got == status
    assert b"root:" not in body and b"capabilities" not in body


def test_http_unknown_file_is_404_without_traceback(spa_provd: EmbeddedProvd) -> None:
    status, body = raw_get(spa_provd, "/no-such-file.cfg")
    assert status == 404 and b"Traceback" not in body


@pytest.mark.parametrize("options", [{}, {"blksize": 1428, "tsize": 0}, {"blksize": 8}])
def test_tftp_download_with_options(spa_provd: EmbeddedProvd, options: dict[str, int]) -> None:
    out = io.BytesIO()
    client = tftpy.TftpClient(*spa_provd.tftp_address, options=options)
    client.download(MAC_FILE, out, timeout=2)
    assert spa_provd.pipeline.log[-1]["proto"] == "tftp"
    assert out.getvalue() == raw_get(spa_provd, "/" + MAC_FILE)[1]


def test_tftp_oack_announces_size(spa_provd: EmbeddedProvd) -> None:
    reply = tftp_exchange(spa_provd.tftp_address, rrq(MAC_FILE.encode(), b"tsize", b"0"))
    assert reply[:2] == b"\x00\x06"
    fields = reply[2:].split(b"\0")
    size = int(fields[fields.index(b"tsize") + 1])
    assert size == len(raw_get(spa_provd, "/" + MAC_FILE)[1])


@pytest.mark.parametrize(
    "name",
    [
        b"../plugin-info",
        b"/../plugin-info",
        b"a/../../x",
        b"..\\plugin-info",
        b"a\x01b",
        b"caf\xc3\xa9",
    ],
)
def test_tftp_refuses_bad_names(spa_provd: EmbeddedProvd, name: bytes) -> None:
    reply = tftp_exchange(spa_provd.tftp_address, rrq(name))
    opcode, code = struct.unpack("!HH", reply[:4])
    assert opcode == 5 and code in (2, 4)


def test_tftp_refuses_writes_and_garbage(spa_provd: EmbeddedProvd) -> None:
    write = b"\x00\x02" + MAC_FILE.encode() + b"\0octet\0"
    assert struct.unpack("!HH", tftp_exchange(spa_provd.tftp_address, write)[:4]) == (5, 2)
    for junk in (b"\x00", b"\x00\x01abc", b"\x00\x09x\0octet\0"):
        assert tftp_exchange(spa_provd.tftp_address, junk)[:2] == b"\x00\x05"
    reply = tftp_exchange(spa_provd.tftp_address, rrq(b"missing.cfg"))
    assert struct.unpack("!HH", reply[:4]) == (5, 1)
    # still serving
    assert tftp_exchange(spa_provd.tftp_address, rrq(MAC_FILE.encode()))[:4] == b"\x00\x03\x00\x01"


def test_tftp_leading_slash_means_the_top_of_tftpboot(spa_provd: EmbeddedProvd) -> None:
    # real SPAs ask for "/spa504G.cfg"; provd reads it inside tftpboot, never at the root
    reply = tftp_exchange(spa_provd.tftp_address, rrq(b"/" + MAC_FILE.encode()))
    assert reply[:4] == b"\x00\x03\x00\x01"
    assert spa_provd.pipeline.log[-1]["path"] == "/" + MAC_FILE
    reply = tftp_exchange(spa_provd.tftp_address, rrq(b"/etc/passwd"))
    assert struct.unpack("!HH", reply[:4]) == (5, 1)


def test_tftp_helpers() -> None:
    assert parse_request(rrq(b"a.cfg", b"BLKSIZE", b"1024")) == (
        1,
        "a.cfg",
        "octet",
        {"blksize": "1024"},
    )
    assert negotiate({"blksize": "100000", "tsize": "0", "timeout": "0"}, 7) == (
        {"blksize": "65464", "tsize": "7"},
        65464,
        1.0,
    )
    assert name_problem("ok/file.cfg") is None
    assert name_problem("") and name_problem("a\\b") and name_problem("./x")
