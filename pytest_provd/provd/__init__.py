"""The embedded provd: a provd-compatible server running real plugin code, for tests.

``EmbeddedProvd`` (in :mod:`pytest_provd.provd.server`) is imported lazily so that importing
this package stays cheap (no aiohttp, no twisted) until a server is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_provd.provd.server import EmbeddedProvd as EmbeddedProvd

__all__ = ["EmbeddedProvd"]


def __getattr__(name: str) -> Any:
    if name == "EmbeddedProvd":
        # Lazy: importing the package must not pull in aiohttp and twisted.
        from pytest_provd.provd.server import EmbeddedProvd

        return EmbeddedProvd
    raise AttributeError(name)
