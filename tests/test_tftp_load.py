"""TFTP under load and faults: many concurrent transfers, clients that vanish, duplicate ACKs,
foreign transfer IDs, a full session table.  Every case ends with the server still serving."""

from __future__ import annotations

import concurrent.futures
import socket
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pytest_provd import tree
from pytest_provd.provd import EmbeddedProvd
from pytest_provd.provd.plugins.rawconfig import sample_raw_config
from pytest_provd.provd.servers.tftp import TftpServer, negotiate

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
SPA = "wazo-cisco-spa-7.5.5"
MAC_FILE = "000e08aabbcc.xml"
TIMEOUT, RETRIES = 0.4, 2  # a silent client is dropped after about 0.8 s


def _provd(**limits: float) -> EmbeddedProvd:
    provd = EmbeddedProvd(tftp_timeout=TIMEOUT, tftp_retries=RETRIES, **limits).start()  # type: ignore[arg-type]
    provd.install_plugin_from_tree(tree.discover(SAMPLES).targets[SPA])
    lines = sample_raw_config()["sip_lines"]
    lines["1"]["username"] = "x" * 3000  # several 512-byte blocks
    config_id = provd.create_config({"sip_lines": lines})
    device_id = provd.create_device(
        mac="00:0e:08:aa:bb:cc", ip="127.0.0.1", config=config_id, plugin=SPA
    )
    assert provd.device(device_id)["configured"], provd.app.config_errors
    return provd


@pytest.fixture(scope="module")
def tftp_provd() -> Iterator[EmbeddedProvd]:
    provd = _provd()
    yield provd
    provd.close()


def server(provd: EmbeddedProvd) -> TftpServer:
    assert provd.tftp is not None
    return provd.tftp


def rrq(name: str, **options: int) -> bytes:
    opts = b"".join(k.encode() + b"\0" + str(v).encode() + b"\0" for k, v in options.items())
    return b"\x00\x01" + name.encode() + b"\0octet\0" + opts


def ack(block: int) -> bytes:
    return struct.pack("!HH", 4, block)


def udp(timeout: float = 3.0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(timeout)
    return sock


def fetch(address: tuple[str, int], name: str, blksize: int = 512) -> bytes:
    """A lock-step client, bounded in packets and time."""
    options = {"blksize": blksize} if blksize != 512 else {}
    with udp() as sock:
        sock.sendto(rrq(name, **options), address)
        data = b""
        expected = 1
        for _ in range(10_000):
            packet, peer = sock.recvfrom(70_000)
            opcode = struct.unpack("!H", packet[:2])[0]
            if opcode == 6:  # OACK
                sock.sendto(ack(0), peer)
                continue
            assert opcode == 3, packet
            block = struct.unpack("!H", packet[2:4])[0]
            if block == expected:
                data += packet[4:]
                expected += 1
            sock.sendto(ack(block), peer)
            if block == expected - 1 and len(packet) - 4 < blksize:
                return data
        raise AssertionError("transfer did not end")


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def expected_body(provd: EmbeddedProvd) -> bytes:
    return fetch(provd.tftp_address, MAC_FILE, blksize=1428)


@pytest.mark.parametrize("count", [200])
def test_many_concurrent_transfers_all_complete_and_match(
    tftp_provd: EmbeddedProvd, count: int
) -> None:
    body = expected_body(tftp_provd)
    assert len(body) > 3000
    # the server counts a transfer when the last ACK arrives, after the client returned
    assert wait_until(lambda: server(tftp_provd).active_transfers == 0, 2)
    before = server(tftp_provd).stats.completed
    with concurrent.futures.ThreadPoolExecutor(64) as pool:
        results = list(pool.map(lambda _: fetch(tftp_provd.tftp_address, MAC_FILE), range(count)))
    assert results == [body] * count
    assert wait_until(lambda: server(tftp_provd).active_transfers == 0, 2)
    assert server(tftp_provd).stats.completed - before == count


def test_client_vanishing_mid_transfer_frees_its_session(tftp_provd: EmbeddedProvd) -> None:
    tftp = server(tftp_provd)
    # Sessions left by an earlier test on this module's server settle first: they would
    # count as abandoned below.
    assert wait_until(lambda: tftp.active_transfers == 0, TIMEOUT * RETRIES + 1.0)
    abandoned = tftp.stats.abandoned
    with udp() as sock:
        sock.sendto(rrq(MAC_FILE), tftp_provd.tftp_address)
        first, _ = sock.recvfrom(70_000)
        assert first[:4] == b"\x00\x03\x00\x01"
        assert tftp.active_transfers == 1
    # the client is gone: the session gives up after timeout x retries, not later
    assert wait_until(lambda: tftp.active_transfers == 0, TIMEOUT * RETRIES + 1.0)
    assert tftp.stats.abandoned == abandoned + 1
    assert fetch(tftp_provd.tftp_address, MAC_FILE) == expected_body(tftp_provd)


def test_vanished_clients_do_not_stall_others(tftp_provd: EmbeddedProvd) -> None:
    tftp = server(tftp_provd)
    ghosts = [udp() for _ in range(50)]
    try:
        for ghost in ghosts:
            ghost.sendto(rrq(MAC_FILE), tftp_provd.tftp_address)
        assert wait_until(lambda: tftp.active_transfers >= 50, 2)
        started = time.monotonic()
        assert fetch(tftp_provd.tftp_address, MAC_FILE) == expected_body(tftp_provd)
        assert time.monotonic() - started < TIMEOUT  # served while 50 sessions wait
    finally:
        for ghost in ghosts:
            ghost.close()
    assert wait_until(lambda: tftp.active_transfers == 0, TIMEOUT * RETRIES + 2.0)


def test_duplicate_ack_is_not_answered_with_a_resend(tftp_provd: EmbeddedProvd) -> None:
    with udp() as sock:
        sock.sendto(rrq(MAC_FILE), tftp_provd.tftp_address)
        first, peer = sock.recvfrom(70_000)
        assert first[:4] == b"\x00\x03\x00\x01"
        sock.sendto(ack(1), peer)
        sock.sendto(ack(1), peer)  # a duplicate
        second, _ = sock.recvfrom(70_000)
        assert second[:4] == b"\x00\x03\x00\x02"
        sock.settimeout(TIMEOUT / 2)  # shorter than the server's retransmit time-out
        with pytest.raises(TimeoutError):
            sock.recvfrom(70_000)
        sock.sendto(struct.pack("!HH", 5, 0) + b"bye\0", peer)


def test_foreign_transfer_id_gets_error_5_and_the_transfer_goes_on(
    tftp_provd: EmbeddedProvd,
) -> None:
    tftp = server(tftp_provd)
    foreign = tftp.stats.foreign_tid
    body = b""
    with udp() as sock, udp() as intruder:
        sock.sendto(rrq(MAC_FILE), tftp_provd.tftp_address)
        packet, peer = sock.recvfrom(70_000)
        body += packet[4:]
        intruder.sendto(ack(1), peer)
        reply = intruder.recv(1000)
        assert struct.unpack("!HH", reply[:4]) == (5, 5)
        for _ in range(100):
            sock.sendto(ack(struct.unpack("!H", packet[2:4])[0]), peer)
            if len(packet) - 4 < 512:
                break
            packet, _ = sock.recvfrom(70_000)
            body += packet[4:]
    assert body == expected_body(tftp_provd)
    assert tftp.stats.foreign_tid == foreign + 1


def test_client_error_ends_the_transfer_at_once(tftp_provd: EmbeddedProvd) -> None:
    tftp = server(tftp_provd)
    with udp() as sock:
        sock.sendto(rrq(MAC_FILE), tftp_provd.tftp_address)
        _, peer = sock.recvfrom(70_000)
        sock.sendto(struct.pack("!HH", 5, 0) + b"disk full\0", peer)
        assert wait_until(lambda: tftp.active_transfers == 0, TIMEOUT / 2)


def test_unknown_opcode_mid_transfer_is_ignored(tftp_provd: EmbeddedProvd) -> None:
    with udp() as sock:
        sock.sendto(rrq(MAC_FILE), tftp_provd.tftp_address)
        _first, peer = sock.recvfrom(70_000)
        sock.sendto(b"\x00\x09junk", peer)
        sock.sendto(b"\x00", peer)  # too short to be anything
        sock.sendto(ack(1), peer)
        second, _ = sock.recvfrom(70_000)
        assert second[:4] == b"\x00\x03\x00\x02"
        sock.sendto(struct.pack("!HH", 5, 0) + b"bye\0", peer)


def test_full_session_table_answers_busy_then_recovers() -> None:
    provd = _provd(tftp_max_sessions=3)
    tftp = server(provd)
    try:
        ghosts = [udp() for _ in range(3)]
        for ghost in ghosts:
            ghost.sendto(rrq(MAC_FILE), provd.tftp_address)
            ghost.recvfrom(70_000)
        with udp() as sock:
            sock.sendto(rrq(MAC_FILE), provd.tftp_address)
            reply = sock.recv(1000)
        assert struct.unpack("!HH", reply[:4]) == (5, 0) and b"busy" in reply
        for ghost in ghosts:
            ghost.close()
        assert wait_until(lambda: tftp.active_transfers == 0, TIMEOUT * RETRIES + 1.0)
        assert len(fetch(provd.tftp_address, MAC_FILE)) > 3000
    finally:
        provd.close()


def test_long_client_timeouts_are_declined() -> None:
    accepted, _, timeout = negotiate({"timeout": "200"}, 10, timeout=0.5)
    assert "timeout" not in accepted and timeout == 0.5
    accepted, _, timeout = negotiate({"timeout": "3"}, 10, timeout=0.5)
    assert accepted["timeout"] == "3" and timeout == 3.0


@pytest.mark.parametrize(
    "limits", [{"timeout": 0}, {"retries": 0}, {"max_sessions": 0}, {"timeout": -1.0}]
)
def test_bad_limits_are_refused(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        TftpServer(None, None, **limits)  # type: ignore[arg-type]
