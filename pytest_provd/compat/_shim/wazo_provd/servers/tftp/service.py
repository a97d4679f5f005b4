"""TFTP read services: a request dict in, a call on a response object out."""

from __future__ import annotations

import io
import os
from abc import ABCMeta
from typing import Any, TypedDict

from wazo_provd.servers.tftp.packet import ERR_FNF, RequestPacket


class TFTPRequest(TypedDict):
    """``address`` is the client (ip, port); ``packet`` the RRQ packet."""

    address: Any
    packet: RequestPacket


class AbstractTFTPReadService(metaclass=ABCMeta):  # noqa: B024 - optional override
    """Handles read requests by calling ``response.accept(fileobj)``, ``reject`` or ``ignore``."""

    def handle_read_request(self, request: TFTPRequest, response: Any) -> None:  # noqa: B027
        """Answer *request* through *response*."""


class TFTPNullService(AbstractTFTPReadService):
    """Rejects everything."""

    def __init__(self, errcode: bytes = ERR_FNF, errmsg: str = "File not found") -> None:
        self.errcode = errcode
        self.errmsg = errmsg

    def handle_read_request(self, request: TFTPRequest, response: Any) -> None:
        response.reject(self.errcode, self.errmsg)


class TFTPStringService(AbstractTFTPReadService):
    """Serves the same text for every request."""

    def __init__(self, msg: str) -> None:
        self._msg = msg

    def handle_read_request(self, request: TFTPRequest, response: Any) -> None:
        response.accept(io.BytesIO(self._msg.encode()))


class TFTPFileService(AbstractTFTPReadService):
    """Serves files below a directory; leading slashes ignored, escapes rejected."""

    def __init__(self, path: str) -> None:
        self._path = os.path.abspath(path)

    def handle_read_request(self, request: TFTPRequest, response: Any) -> None:
        wanted = request["packet"]["filename"].decode("ascii").lstrip(os.sep)
        target = os.path.normpath(os.path.join(self._path, wanted))
        # Same prefix test as provd: a sibling directory sharing the prefix passes it too.
        if not target.startswith(self._path):
            response.reject(ERR_FNF, b"Invalid filename")
            return
        try:
            fobj = open(target, "rb")
        except OSError:
            response.reject(ERR_FNF, b"File not found")
        else:
            response.accept(fobj)


class TFTPHookService(AbstractTFTPReadService):
    """Looks at a request, then hands it to another service."""

    def __init__(self, service: AbstractTFTPReadService) -> None:
        self._service = service

    def _pre_handle(self, request: TFTPRequest) -> None:
        """Override to inspect the request."""

    def handle_read_request(self, request: TFTPRequest, response: Any) -> None:
        self._pre_handle(request)
        self._service.handle_read_request(request, response)
