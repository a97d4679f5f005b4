"""Where the provd under test runs: embedded (ours), a real installed wazo_provd, or a URL.

- ``embedded``: :class:`EmbeddedBackend` (:mod:`.embedded`), our server, one per target.
- ``url``: :class:`UrlBackend` (:mod:`.url`), a provd already running on a loopback address.
- ``real``: :class:`RealBackend` (:mod:`.real`), an installed ``wazo_provd`` run in-process.

:func:`make_backend` picks one by name; :mod:`.base` says what they all are.
"""

from __future__ import annotations

from pathlib import Path

from pytest_provd.backends.base import (
    DEFAULT_HTTP_PORT,
    DEFAULT_TFTP_PORT,
    Backend,
    BackendError,
    BackendUnavailable,
    Driver,
    ProvdEndpoints,
    plugin_server,
)
from pytest_provd.backends.embedded import EmbeddedBackend
from pytest_provd.backends.real import RealBackend
from pytest_provd.backends.url import UrlBackend

BACKENDS = ("embedded", "real", "url")

__all__ = [
    "BACKENDS",
    "DEFAULT_HTTP_PORT",
    "DEFAULT_TFTP_PORT",
    "Backend",
    "BackendError",
    "BackendUnavailable",
    "Driver",
    "EmbeddedBackend",
    "ProvdEndpoints",
    "RealBackend",
    "UrlBackend",
    "make_backend",
    "plugin_server",
]


def make_backend(
    name: str,
    state_dir: Path,
    *,
    url: str | None = None,
    http_url: str | None = None,
    tftp_port: int | None = None,
    token: str | None = None,
    firmware_dir: Path | None = None,
    allow_remote: bool = False,
) -> Backend:
    """The backend called *name* (one of :data:`BACKENDS`), not started.

    *state_dir* is private to it (embedded, real); ``url`` needs *url* and takes *http_url*,
    *tftp_port*, *token* and *allow_remote* (a provd not on loopback); *firmware_dir* is the
    cache of real firmware files (embedded, real, url on loopback).
    """
    if name == "url":
        if url is None:
            raise BackendError("the url backend needs the provd's REST URL")
        return UrlBackend(
            url,
            http_url=http_url,
            tftp_port=tftp_port or DEFAULT_TFTP_PORT,
            token=token,
            allow_remote=allow_remote,
            firmware_dir=firmware_dir,
        )
    if name == "real":
        return RealBackend(state_dir, firmware_dir=firmware_dir)
    if name == "embedded":
        return EmbeddedBackend(state_dir, firmware_dir=firmware_dir)
    raise BackendError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
