"""The DHCP codec (RFC 2131/2132): messages, options (RFC 3396 concatenation, overload) and
option 43 vendor sub-options.  Anything malformed raises :class:`DhcpDecodeError`."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, field

MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")
MAX_PACKET = 1500


class DhcpDecodeError(ValueError):
    """A packet that is not valid DHCP; the message says why."""


@dataclass
class DhcpMessage:
    """One DHCP message; ``options`` maps option codes to raw values."""

    op: int
    xid: int
    chaddr: bytes
    options: dict[int, bytes] = field(default_factory=dict)
    ciaddr: str = "0.0.0.0"
    yiaddr: str = "0.0.0.0"
    siaddr: str = "0.0.0.0"
    giaddr: str = "0.0.0.0"
    flags: int = 0
    sname: bytes = b""
    file: bytes = b""

    @property
    def msg_type(self) -> int:
        """Option 53, or 0 when absent."""
        value = self.options.get(53, b"")
        return value[0] if len(value) == 1 else 0

    @property
    def mac(self) -> str:
        """The client hardware address as ``aa:bb:cc:dd:ee:ff``."""
        return ":".join(f"{b:02x}" for b in self.chaddr[:6])

    def encode(self) -> bytes:
        """Wire bytes of the message."""
        head = _HEADER.pack(
            self.op,
            1,
            6,
            0,
            self.xid,
            0,
            self.flags,
            socket.inet_aton(self.ciaddr),
            socket.inet_aton(self.yiaddr),
            socket.inet_aton(self.siaddr),
            socket.inet_aton(self.giaddr),
            self.chaddr.ljust(16, b"\0")[:16],
            self.sname.ljust(64, b"\0")[:64],
            self.file.ljust(128, b"\0")[:128],
        )
        body = bytearray(MAGIC)
        for code, value in self.options.items():
            for start in range(0, max(len(value), 1), 255):
                chunk = value[start : start + 255]
                body += bytes([code, len(chunk)]) + chunk
        body += b"\xff"
        return head + bytes(body)

    @classmethod
    def decode(cls, data: bytes) -> DhcpMessage:
        """Parse wire bytes; DhcpDecodeError on anything malformed."""
        if len(data) < _HEADER.size + 4:
            raise DhcpDecodeError("truncated")
        if len(data) > MAX_PACKET * 4:
            raise DhcpDecodeError("oversized")
        fields = _HEADER.unpack_from(data)
        op, htype, hlen, _hops, xid, _secs, flags = fields[:7]
        if op not in (1, 2) or htype != 1 or hlen != 6:
            raise DhcpDecodeError("not an Ethernet BOOTP message")
        if data[_HEADER.size : _HEADER.size + 4] != MAGIC:
            raise DhcpDecodeError("bad magic cookie")
        options = _parse_options(data[_HEADER.size + 4 :])
        sname, file = fields[12], fields[13]
        overload = options.get(52, b"")
        if overload:
            if len(overload) != 1 or overload[0] not in (1, 2, 3):
                raise DhcpDecodeError("bad option overload")
            if overload[0] & 1:
                _merge(options, _parse_options(file, need_end=False))
                file = b""
            if overload[0] & 2:
                _merge(options, _parse_options(sname, need_end=False))
                sname = b""
        return cls(
            op=op,
            xid=xid,
            chaddr=fields[11][:6],
            options=options,
            ciaddr=socket.inet_ntoa(fields[7]),
            yiaddr=socket.inet_ntoa(fields[8]),
            siaddr=socket.inet_ntoa(fields[9]),
            giaddr=socket.inet_ntoa(fields[10]),
            flags=flags,
            sname=sname.rstrip(b"\0"),
            file=file.rstrip(b"\0"),
        )


def _merge(options: dict[int, bytes], more: dict[int, bytes]) -> None:
    for code, value in more.items():
        options[code] = options.get(code, b"") + value


def _parse_options(data: bytes, need_end: bool = True) -> dict[int, bytes]:
    options: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            return options
        if i + 1 >= len(data):
            raise DhcpDecodeError(f"option {code} has no length")
        length = data[i + 1]
        if i + 2 + length > len(data):
            raise DhcpDecodeError(f"option {code} length {length} overruns the packet")
        # Repeated options concatenate (RFC 3396).
        options[code] = options.get(code, b"") + data[i + 2 : i + 2 + length]
        i += 2 + length
    if need_end:
        raise DhcpDecodeError("options not terminated by END")
    return options


def encode_vendor_options(sub: dict[int, bytes]) -> bytes:
    """Option 43 payload from sub-options."""
    return b"".join(bytes([code, len(v)]) + v for code, v in sub.items())


def decode_vendor_options(data: bytes) -> dict[int, bytes]:
    """Sub-options of an option 43 payload."""
    return _parse_options(data + b"\xff")
