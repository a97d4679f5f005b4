"""TFTP packet shapes (dicts) and codes, as plugins see them."""

from __future__ import annotations

from typing import TypedDict

OP_RRQ = b"\x00\x01"
OP_WRQ = b"\x00\x02"
OP_DATA = b"\x00\x03"
OP_ACK = b"\x00\x04"
OP_ERR = b"\x00\x05"
OP_OACK = b"\x00\x06"

ERR_UNDEF = b"\x00\x00"
ERR_FNF = b"\x00\x01"
ERR_ACCESS = b"\x00\x02"
ERR_ALLOC = b"\x00\x03"
ERR_ILL = b"\x00\x04"
ERR_UNKNWN_TID = b"\x00\x05"
ERR_FEXIST = b"\x00\x06"
ERR_NO_USER = b"\x00\x07"


class BasePacket(TypedDict):
    """Every packet has its 2-byte opcode."""

    opcode: bytes


class RequestPacket(BasePacket):
    """A read/write request: ``filename`` and ``mode`` are bytes."""

    filename: bytes
    mode: bytes
    options: dict[bytes, bytes | int]


class ErrorPacket(BasePacket):
    """An error packet."""

    errcode: bytes
    errmsg: bytes


Packet = RequestPacket | ErrorPacket | BasePacket


def request_packet(
    filename: bytes | str, mode: bytes = b"octet", options: dict[bytes, bytes | int] | None = None
) -> RequestPacket:
    """A read request packet as provd hands it to plugins."""
    if isinstance(filename, str):
        filename = filename.encode("ascii")
    return {"opcode": OP_RRQ, "filename": filename, "mode": mode, "options": dict(options or {})}


def err_packet(errcode: bytes, errmsg: bytes = b"") -> ErrorPacket:
    """An error packet."""
    return {"opcode": OP_ERR, "errcode": errcode, "errmsg": errmsg}
