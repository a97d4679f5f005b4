"""A Wazo-like DHCP server on a loopback UDP port.

It answers with addresses from 127.1.0.0/16 (from a random start) and the options of the
vendor class (or MAC prefix) the phone matches, and on every ACK pushes the transaction to provd's
``dev_mgr/dhcpinfo`` like Wazo's dhcpd hook.  Malformed packets are dropped and counted in
:attr:`DhcpServer.stats`.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import itertools
import json
import random
import re
import socket
import struct
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from emulators.dhcp.config import DhcpConfig
from emulators.dhcp.packet import (
    ACK,
    DISCOVER,
    MAX_PACKET,
    NAK,
    OFFER,
    RELEASE,
    REQUEST,
    DhcpDecodeError,
    DhcpMessage,
    encode_vendor_options,
)


class DhcpServer:
    """A loopback DHCP server with Wazo's vendor classes and provd's dhcpinfo hook."""

    __test__ = False

    def __init__(
        self,
        config: DhcpConfig | None = None,
        *,
        tftp_server: str = "127.0.0.1",
        http_url: str | None = None,
        provd_url: str | None = None,
        provd_token: str | None = None,
        on_commit: Callable[[dict[str, Any]], None] | None = None,
        network: str = "127.1.0.0/16",
    ) -> None:
        self.config = config or DhcpConfig()
        self.tftp_server = tftp_server
        self.http_url = http_url
        self.provd_url = provd_url
        self.provd_token = provd_token
        self.on_commit = on_commit
        # Each server starts at a random place in the network so that servers of concurrent
        # runs (xdist workers, targets) seldom hand out the same address: phones that serve
        # something on their own address (a web interface on port 80) need it to be theirs.
        self._hosts = _hosts_from(ipaddress.ip_network(network))
        self.leases: dict[str, str] = {}
        self.stats: Counter[str] = Counter()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._rest: http.client.HTTPConnection | None = None
        self._rest_where: tuple[str, str | None, int | None] | None = None
        self._rest_lock = threading.Lock()
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self.server_id = "127.0.0.1"

    def start(self) -> DhcpServer:
        """Bind a free loopback port and serve in a background thread."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.address = self._sock.getsockname()
        self._thread = threading.Thread(target=self._serve, name="dhcp-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving (idempotent)."""
        self._stop.set()
        if self._thread is not None and self._sock is not None:
            # Wakes the serving thread now rather than at its next receive timeout.
            with contextlib.suppress(OSError):
                self._sock.sendto(b"", self.address)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self.release()

    def __enter__(self) -> DhcpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(MAX_PACKET * 4)
            except TimeoutError:
                continue
            except OSError:
                return
            if self._stop.is_set():
                return
            self.stats["received"] += 1
            try:
                message = DhcpMessage.decode(data)
            except DhcpDecodeError as exc:
                self.stats[f"dropped:{exc}"] += 1
                continue
            reply = self.handle(message)
            if reply is not None:
                self._sock.sendto(reply.encode(), peer)

    def _options_for(self, message: DhcpMessage) -> dict[int, bytes]:
        options: dict[int, bytes] = {
            54: socket.inet_aton(self.server_id),
            51: struct.pack("!I", 3600),
            1: socket.inet_aton("255.255.0.0"),
        }
        vendor_opts: dict[int, bytes] = {}
        raw_vendor = message.options.get(60)
        vendor = raw_vendor.decode("latin-1") if raw_vendor is not None else None
        raw_user = message.options.get(77)
        user = raw_user.decode("latin-1") if raw_user is not None else None
        matched = self.config.matched_class(vendor, user) if vendor or user else None
        given: dict[str, str] = {}
        if matched is not None:
            self.stats[f"class:{matched.name}"] += 1
            given.update(matched.options)
        by_mac = self.config.mac_options(message.mac, vendor)
        if by_mac:
            self.stats["mac-prefix"] += 1
            given.update(by_mac)
        for key, value in given.items():
            resolved = self._resolve(value).encode()
            code = self.config.option_codes.get(key)
            if key.endswith("tftp-server-name"):
                options[66] = resolved
            elif key in ("filename", "bootfile-name"):
                options[67] = resolved
            elif key == "default-url":
                options[114] = resolved
            elif key == "vendor-encapsulated-options":
                options[43] = resolved  # a string as the whole option, as Wazo's files do
            elif code is not None:
                # booleans are one byte on the wire (``contact-rcs = false``)
                flags = {b"true": b"\x01", b"false": b"\x00", b"on": b"\x01", b"off": b"\x00"}
                vendor_opts[code] = flags.get(resolved, resolved)
            elif key.endswith(".cfg-server-name"):  # a space declared in another file
                vendor_opts[2] = resolved
        if vendor_opts:
            options[43] = encode_vendor_options(vendor_opts)
        options.setdefault(66, self.tftp_server.encode())
        options[150] = socket.inet_aton(self.tftp_server.split(":")[0])
        return options

    def _resolve(self, value: str) -> str:
        concat = re.fullmatch(r"concat\((.*)\)", value.strip())
        if concat:
            parts = [p.strip() for p in concat.group(1).split(",")]
            return "".join(self._resolve(p) for p in parts)
        if "VOIP.http-server-uri" in value:
            return (self.http_url or "").rstrip("/")
        if "VOIP.tftp-server-name" in value:
            return self.tftp_server
        return value.strip().strip('"')

    def handle(self, message: DhcpMessage) -> DhcpMessage | None:
        """The reply to one request (None when there is nothing to answer)."""
        if message.op != 1:
            self.stats["dropped:not a request"] += 1
            return None
        mac = message.mac
        if message.msg_type == DISCOVER:
            ip = self.leases.get(mac) or str(next(self._hosts))
            self.leases[mac] = ip
            self.stats["offers"] += 1
            opts = {53: bytes([OFFER]), **self._options_for(message)}
            return DhcpMessage(
                2, message.xid, message.chaddr, opts, yiaddr=ip, siaddr=self.server_id
            )
        if message.msg_type == REQUEST:
            wanted = message.options.get(50)
            leased = self.leases.get(mac)
            if leased is None or (wanted and socket.inet_ntoa(wanted[:4]) != leased):
                self.stats["naks"] += 1
                return DhcpMessage(2, message.xid, message.chaddr, {53: bytes([NAK])})
            self.stats["acks"] += 1
            opts = {53: bytes([ACK]), **self._options_for(message)}
            self._commit(leased, mac, message)
            return DhcpMessage(
                2, message.xid, message.chaddr, opts, yiaddr=leased, siaddr=self.server_id
            )
        if message.msg_type == RELEASE:
            self.leases.pop(mac, None)
            return None
        self.stats["dropped:unhandled type"] += 1
        return None

    def _commit(self, ip: str, mac: str, message: DhcpMessage) -> None:
        # Wazo's hook sends each option as its 3-digit code and dot-separated hex bytes.
        options = [
            f"{code:03d}" + ".".join(f"{b:02x}" for b in value)
            for code, value in sorted(message.options.items())
        ]
        info = {"op": "commit", "ip": ip, "mac": mac, "options": options}
        if self.on_commit is not None:
            self.on_commit(info)
        if self.provd_url:
            pushed = self._push({"dhcp_info": info})
            self.stats["commits_pushed" if pushed else "push_errors"] += 1

    def _push(self, entity: dict[str, Any]) -> bool:
        """POST *entity* to provd's ``dev_mgr/dhcpinfo``; whether provd accepted it.

        One keep-alive connection serves every commit, as a long-running dhcpd hook would
        hold one: no connection set up and torn down on both sides per phone.  A connection
        provd closed in the meantime (idle timeout, restart) is opened again once.
        """
        assert self.provd_url is not None
        body = json.dumps(entity).encode()
        headers = {"Content-Type": "application/vnd.proformatique.provd+json"}
        if self.provd_token:
            headers["X-Auth-Token"] = self.provd_token
        url = urllib.parse.urlsplit(self.provd_url.rstrip("/") + "/dev_mgr/dhcpinfo")
        where = (url.scheme, url.hostname, url.port)
        with self._rest_lock:
            if where != self._rest_where:  # provd_url changed: another server
                self._drop_rest()
            for attempt in (1, 2):
                reused = self._rest is not None
                if self._rest is None:
                    self._rest_where = where
                    make = (
                        http.client.HTTPSConnection
                        if url.scheme == "https"
                        else http.client.HTTPConnection
                    )
                    self._rest = make(url.hostname or "127.0.0.1", url.port, timeout=5)
                try:
                    self._rest.request("POST", url.path, body=body, headers=headers)
                    response = self._rest.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as exc:
                    self._drop_rest()
                    # A kept connection may have gone stale: tried again once on a new one
                    # (a commit applied twice has the effect of one).
                    if attempt == 1 and reused and _stale(exc):
                        continue
                    return False
                if response.will_close:
                    self._drop_rest()
                return response.status < 400
        return False

    def release(self) -> None:
        """Close the kept connection to provd now (the next commit opens one again): for a
        server kept for long between bursts of phones."""
        with self._rest_lock:
            self._drop_rest()

    def _drop_rest(self) -> None:
        if self._rest is not None:
            self._rest.close()
            self._rest = None


def _stale(exc: BaseException) -> bool:
    """Whether *exc* is how a kept connection the server closed fails."""
    return isinstance(
        exc,
        http.client.RemoteDisconnected
        | http.client.BadStatusLine
        | BrokenPipeError
        | ConnectionResetError
        | ConnectionAbortedError,
    )


def _hosts_from(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Iterator[str]:
    """The network's host addresses from a random one on, wrapping around once: the draw
    made now and the order of listing ``network.hosts()``, without building a 65534-item
    list per server."""
    hosts = list(itertools.islice(network.hosts(), 3))
    if len(hosts) < 3:  # /31, /32 (and IPv6 peers): hosts() is the whole network or one
        hosts = list(network.hosts())
        start = random.randrange(len(hosts)) if hosts else 0
        return (str(h) for h in hosts[start:] + hosts[:start])
    first = int(hosts[0])
    # hosts() leaves out the network and broadcast addresses (IPv6: the first one only).
    count = network.num_addresses - (2 if network.version == 4 else 1)
    start = random.randrange(count)
    make = ipaddress.IPv4Address if network.version == 4 else ipaddress.IPv6Address
    return (str(make(first + n)) for n in itertools.chain(range(start, count), range(start)))
