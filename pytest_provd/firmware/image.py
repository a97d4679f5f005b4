"""The format of synthetic firmware images, shared by the firmware store and the phones.

A synthetic image is one line, ``pytest-provd synthetic firmware: <name> version <v>``, so an
emulated phone can read the version it would flash the way a real phone reads its image header.
"""

from __future__ import annotations

import re

MARKER = b"pytest-provd synthetic firmware"
_HEADER = re.compile(re.escape(MARKER) + rb": (\S+) version (\S+)")


def payload(label: str, version: str) -> bytes:
    """The content of a synthetic image called *label* carrying *version*."""
    return MARKER + f": {label} version {version}\n".encode()


def version_of(data: bytes) -> str | None:
    """The version a synthetic image carries (None when *data* is not one)."""
    found = _HEADER.match(data)
    return found.group(2).decode() if found else None
