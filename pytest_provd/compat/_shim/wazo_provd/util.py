"""Address and identifier normalisation helpers used by plugins."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

_MAC_TOKEN_SEPARATORS = (":", "-")
_NORMED_MAC_RE = re.compile(r"\A[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")
_NORMED_UUID_RE = re.compile(r"\A[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}\Z")
_HEX = set("0123456789abcdefABCDEF")


def decode_bytes(value: Any, encoding: str = "utf-8") -> Any:
    """*value* decoded when it is bytes, unchanged otherwise."""
    return value.decode(encoding) if isinstance(value, bytes) else value


def encode_bytes(value: str | bytes, encoding: str = "utf-8") -> bytes:
    """*value* encoded when it is a str, unchanged otherwise."""
    return value.encode(encoding) if isinstance(value, str) else value


def decode_value(value: Any) -> Any:
    """Recursively decode bytes in dicts and lists."""
    if isinstance(value, dict):
        return {decode_bytes(k): decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return decode_bytes(value)


def _mac_octets(mac_string: str) -> list[int]:
    # Accepted: 12 bare hex digits, or six 1-2 digit groups joined by one ':' or '-'.
    if not isinstance(mac_string, str):
        raise ValueError("invalid MAC string")
    for sep in _MAC_TOKEN_SEPARATORS:
        if sep in mac_string:
            tokens = mac_string.split(sep)
            break
    else:
        if len(mac_string) != 12:
            raise ValueError("invalid MAC string")
        tokens = [mac_string[i : i + 2] for i in range(0, 12, 2)]
    if len(tokens) != 6 or any(not (1 <= len(t) <= 2) or not set(t) <= _HEX for t in tokens):
        raise ValueError("invalid MAC string")
    return [int(t, 16) for t in tokens]


def to_mac(mac_string: str) -> str:
    """The 6 octets of a MAC address, one character per octet."""
    return "".join(chr(o) for o in _mac_octets(mac_string))


def from_mac(packed_mac: str, separator: str = ":", uppercase: bool = False) -> str:
    """Readable form of a 6-character packed MAC address."""
    if len(packed_mac) != 6:
        raise ValueError("invalid packed MAC")
    digits = "%02X" if uppercase else "%02x"
    return separator.join(digits % ord(c) for c in packed_mac)


def norm_mac(mac_string: str) -> str:
    """``00:11:22:aa:bb:cc`` form; ValueError when invalid."""
    return format_mac(mac_string)


def is_normed_mac(mac_string: str) -> bool:
    """True when *mac_string* already is in ``norm_mac`` form."""
    return bool(_NORMED_MAC_RE.match(mac_string))


def format_mac(mac_string: str, separator: str = ":", uppercase: bool = False) -> str:
    """*mac_string* re-written with *separator* and the chosen letter case."""
    digits = "%02X" if uppercase else "%02x"
    return separator.join(digits % o for o in _mac_octets(mac_string))


def to_ip(ip_string: str) -> bytes:
    """Packed 4-byte form of a dotted-quad IPv4 address."""
    try:
        return ipaddress.IPv4Address(ip_string).packed
    except ValueError:
        raise ValueError(f"{ip_string!r} is not a valid dotted quad IPv4 address") from None


def from_ip(packed_ip: bytes) -> str:
    """Dotted-quad form of a packed IPv4 address."""
    if not isinstance(packed_ip, bytes) or len(packed_ip) != 4:
        raise ValueError(f"{packed_ip!r} is not a valid packed IPv4 address")
    return str(ipaddress.IPv4Address(packed_ip))


def norm_ip(ip_string: str) -> str:
    """Dotted-quad form; ValueError when invalid."""
    return from_ip(to_ip(ip_string))


def is_normed_ip(ip_string: str) -> bool:
    """True for four dot-separated integers 0-255."""
    parts = ip_string.split(".")
    return len(parts) == 4 and all(p.isdigit() and int(p) <= 255 for p in parts)


def norm_uuid(uuid_string: str) -> str:
    """Lower-case hyphenated UUID; ValueError when invalid."""
    lowered = uuid_string.lower()
    if not is_normed_uuid(lowered):
        raise ValueError(f"invalid uuid: {uuid_string}")
    return lowered


def is_normed_uuid(uuid_string: str) -> bool:
    """True for a lower-case hyphenated UUID."""
    return bool(_NORMED_UUID_RE.match(uuid_string))
