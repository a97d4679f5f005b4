"""Config-related names plugins import."""

from __future__ import annotations


class RawConfigError(Exception):
    """A raw config lacks something the plugin needs."""
