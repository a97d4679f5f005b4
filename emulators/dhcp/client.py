"""The phone's side of DHCP: DISCOVER → OFFER → REQUEST → ACK, bounded in tries and time.

Unlike a real phone, the client sends unicast to the server's port from an ephemeral loopback
port (no root, no broadcast): the bytes are the same.
"""

from __future__ import annotations

import random
import re
import socket
from dataclasses import dataclass

from emulators.dhcp.packet import (
    ACK,
    DISCOVER,
    MAX_PACKET,
    NAK,
    OFFER,
    REQUEST,
    DhcpDecodeError,
    DhcpMessage,
    decode_vendor_options,
)


@dataclass
class Lease:
    """What the server granted."""

    yiaddr: str
    server_id: str
    options: dict[int, bytes]
    siaddr: str = "0.0.0.0"
    file: bytes = b""

    @property
    def tftp_server(self) -> str | None:
        """Option 66, else 150, else siaddr."""
        if 66 in self.options:
            return self.options[66].decode("latin-1").rstrip("\0")
        if 150 in self.options and len(self.options[150]) >= 4:
            return socket.inet_ntoa(self.options[150][:4])
        return None if self.siaddr == "0.0.0.0" else self.siaddr

    @property
    def bootfile(self) -> str | None:
        """Option 67, else the file field."""
        raw = self.options.get(67) or self.file
        return raw.decode("latin-1").rstrip("\0") if raw else None

    @property
    def vendor_options(self) -> dict[int, bytes]:
        """Decoded option 43."""
        return decode_vendor_options(self.options.get(43, b""))


class DhcpClient:
    """DISCOVER → OFFER → REQUEST → ACK against one server, bounded in tries and time."""

    __test__ = False

    def __init__(
        self,
        server: tuple[str, int],
        mac: str,
        *,
        vendor_class: str | None = None,
        user_class: str | None = None,
        hostname: str | None = None,
        param_request_list: bytes = bytes([1, 3, 6, 15, 42, 43, 66, 67, 150]),
        extra_options: dict[int, bytes] | None = None,
        timeout: float = 2.0,
        retries: int = 3,
    ) -> None:
        self.server = server
        self.chaddr = bytes.fromhex(re.sub(r"[^0-9A-Fa-f]", "", mac))
        self.options = {55: param_request_list, **(extra_options or {})}
        if vendor_class is not None:
            self.options[60] = vendor_class.encode()
        if user_class is not None:
            # As the phones that send one do (and dhcpd compares it): the bare string, not
            # RFC 3004's length-prefixed list.
            self.options[77] = user_class.encode()
        if hostname is not None:
            self.options[12] = hostname.encode()
        self.options[61] = b"\x01" + self.chaddr
        self.timeout = timeout
        self.retries = retries

    def _exchange(self, sock: socket.socket, message: DhcpMessage, want: int) -> DhcpMessage:
        for _ in range(self.retries):
            sock.sendto(message.encode(), self.server)
            try:
                while True:
                    data, _ = sock.recvfrom(MAX_PACKET * 4)
                    try:
                        reply = DhcpMessage.decode(data)
                    except DhcpDecodeError:
                        continue
                    if reply.xid == message.xid and reply.msg_type in (want, NAK):
                        if reply.msg_type == NAK:
                            raise ConnectionRefusedError("DHCP NAK")
                        return reply
            except TimeoutError:
                continue
        raise TimeoutError(f"no DHCP answer from {self.server} after {self.retries} tries")

    def obtain_lease(self) -> Lease:
        """Run the four-message exchange; TimeoutError or ConnectionRefusedError on failure."""
        xid = random.getrandbits(32)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(self.timeout)
            discover = DhcpMessage(1, xid, self.chaddr, {53: bytes([DISCOVER]), **self.options})
            offer = self._exchange(sock, discover, OFFER)
            request_opts = {
                53: bytes([REQUEST]),
                50: socket.inet_aton(offer.yiaddr),
                54: offer.options.get(54, b""),
                **self.options,
            }
            ack = self._exchange(sock, DhcpMessage(1, xid, self.chaddr, request_opts), ACK)
        return Lease(
            ack.yiaddr,
            socket.inet_ntoa(ack.options.get(54, b"\0\0\0\0")[:4]),
            ack.options,
            ack.siaddr,
            ack.file,
        )
