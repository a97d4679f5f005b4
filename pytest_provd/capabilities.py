"""The one reading of a plugin-info capability key, ``"Vendor, Model, Version"``.

Every part of the harness that takes a capability key apart goes through
:func:`split_capability_key`, so a key one part calls malformed is malformed for all (the
``plugin-info`` check reports it; the tiers treat it as no capability).
"""

from __future__ import annotations

from typing import NamedTuple


class CapabilityKey(NamedTuple):
    """The three parts of a capability key, stripped."""

    vendor: str
    model: str
    version: str


def split_capability_key(key: str) -> CapabilityKey | None:
    """``("Snom", "D785", "10.1.215.13")`` from ``"Snom, D785, 10.1.215.13"``.

    None unless *key* has exactly three comma-separated, non-empty parts.
    """
    parts = [part.strip() for part in key.split(",")]
    if len(parts) != 3 or not all(parts):
        return None
    return CapabilityKey(parts[0], parts[1], parts[2])
