"""Root class of plugins (both current and legacy-import ones)."""

from __future__ import annotations

from abc import ABCMeta


class AbstractPlugin(metaclass=ABCMeta):  # noqa: B024 - a marker, as in provd
    """Marker base class every plugin class derives from."""
