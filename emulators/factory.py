"""Compatibility names for :mod:`emulators.registry`, where vendors are registered."""

from __future__ import annotations

from emulators.registry import make_phone, vendor_oui

__all__ = ["make_phone", "vendor_oui"]
