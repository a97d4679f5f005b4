"""The one loopback rule: what the harness may talk to without the user opting in."""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse

LOOPBACK = "127.0.0.1"


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost`` and any loopback IP address (``127.0.0.0/8``, ``::1``)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """True when *url* is http(s) on a loopback host."""
    parts = urllib.parse.urlsplit(url)
    return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for servers that cannot bind port 0 themselves)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])
