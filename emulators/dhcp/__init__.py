"""DHCP on the wire (RFC 2131/2132): a small codec, a client and a Wazo-like server.

:mod:`~emulators.dhcp.packet` encodes and decodes messages, :mod:`~emulators.dhcp.config` reads
the ISC dhcpd subset of the plugins repository's ``dhcp/`` directory,
:mod:`~emulators.dhcp.server` answers phones on loopback with the options of the class they
match and :mod:`~emulators.dhcp.client` is the phone's side.  The names are handed on here.
"""

from __future__ import annotations

from emulators.dhcp.client import DhcpClient, Lease
from emulators.dhcp.config import (
    DhcpConfig,
    MacSubclass,
    UnknownCondition,
    VendorClass,
    evaluate_condition,
)
from emulators.dhcp.packet import (
    ACK,
    DECLINE,
    DISCOVER,
    INFORM,
    MAGIC,
    MAX_PACKET,
    NAK,
    OFFER,
    RELEASE,
    REQUEST,
    DhcpDecodeError,
    DhcpMessage,
    decode_vendor_options,
    encode_vendor_options,
)
from emulators.dhcp.server import DhcpServer

__all__ = [
    "ACK",
    "DECLINE",
    "DISCOVER",
    "INFORM",
    "MAGIC",
    "MAX_PACKET",
    "NAK",
    "OFFER",
    "RELEASE",
    "REQUEST",
    "DhcpClient",
    "DhcpConfig",
    "DhcpDecodeError",
    "DhcpMessage",
    "DhcpServer",
    "Lease",
    "MacSubclass",
    "UnknownCondition",
    "VendorClass",
    "decode_vendor_options",
    "encode_vendor_options",
    "evaluate_condition",
]
