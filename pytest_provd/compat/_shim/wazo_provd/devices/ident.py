"""Request kinds and device-info extraction interfaces."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from enum import Enum
from typing import Any, TypedDict

from twisted.internet import defer


class RequestType(Enum):
    """The channel a request came in by."""

    HTTP = "http"
    TFTP = "tftp"
    DHCP = "dhcp"


class DHCPRequest(TypedDict):
    """DHCP transaction info: normed ip and mac, options keyed by option code.

    Option values are ``str`` with one character per raw byte, as provd's REST
    ``dhcpinfo`` endpoint decodes them.
    """

    ip: str
    mac: str
    options: dict[int, Any]


class AbstractDeviceInfoExtractor(metaclass=ABCMeta):
    """Extracts a device-info dict from a request."""

    @abstractmethod
    def extract(self, request: Any, request_type: RequestType) -> defer.Deferred[Any]:
        """Deferred firing with a device info dict, or something false."""


def client_ip(request: Any, request_type: RequestType) -> str:
    """The client address of any kind of request."""
    if request_type is RequestType.HTTP:
        return str(request.getClientIP())
    if request_type is RequestType.TFTP:
        address = request["address"]
        return str(address[0] if isinstance(address, tuple) else address)
    if request_type is RequestType.DHCP:
        return str(request["ip"])
    raise RuntimeError(f"invalid request_type: {request_type}")


class StandardDeviceInfoExtractor(AbstractDeviceInfoExtractor):
    """IP of any request, plus the MAC of DHCP ones."""

    def extract(self, request: Any, request_type: RequestType) -> defer.Deferred[Any]:
        info = {"ip": client_ip(request, request_type)}
        if request_type is RequestType.DHCP:
            info["mac"] = request["mac"]
        return defer.succeed(info)
