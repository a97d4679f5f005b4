"""The embedded provd: a provd-compatible server running real plugin code, for tests.

``EmbeddedProvd`` (in :mod:`pytest_provd.provd.domain.app`) is imported lazily so that importing
this package stays cheap (no aiohttp, no twisted) until a server is needed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EmbeddedProvd"]


def __getattr__(name: str) -> Any:
    if name == "EmbeddedProvd":
        from pytest_provd.provd.domain.app import EmbeddedProvd

        return EmbeddedProvd
    raise AttributeError(name)
