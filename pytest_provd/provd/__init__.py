"""The embedded provd: a provd-compatible server running real plugin code, for tests.

``EmbeddedProvd`` (in :mod:`pytest_provd.provd.server`) and the ``ServerFault`` /
``ServerFaultError`` of its :meth:`~EmbeddedProvd.check` are imported lazily so that
importing this package stays cheap (no aiohttp, no twisted) until a server is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_provd.provd.server import EmbeddedProvd as EmbeddedProvd
    from pytest_provd.provd.server import ServerFault as ServerFault
    from pytest_provd.provd.server import ServerFaultError as ServerFaultError

__all__ = ["EmbeddedProvd", "ServerFault", "ServerFaultError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        # Lazy: importing the package must not pull in aiohttp and twisted.
        from pytest_provd.provd import server

        return getattr(server, name)
    raise AttributeError(name)
