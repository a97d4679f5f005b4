"""What the servers hand the plugins and get back: request and reply shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass
class HttpRequestInfo:
    """An HTTP request as the phone sent it; ``path`` is relative to the plugin's root."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    client_ip: str
    body: bytes = b""


@dataclass
class TftpRequestInfo:
    """A TFTP read request."""

    filename: str
    client_ip: str
    options: dict[str, str] = field(default_factory=dict)


class HttpReply(NamedTuple):
    """What the plugin's HTTP service answered."""

    status: int
    headers: dict[str, str]
    body: bytes
