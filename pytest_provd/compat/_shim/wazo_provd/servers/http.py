"""HTTP services: twisted.web resources, as in provd."""

from __future__ import annotations

import warnings
from typing import Any

from twisted.internet import defer
from twisted.web import http, resource, static

IHTTPService = resource.IResource


class BaseHTTPHookService(resource.Resource):
    """A resource that forwards path walking to a wrapped service."""

    def __init__(self, service: Any) -> None:
        super().__init__()
        self._service = service

    def _next_service(self, path: bytes, request: Any) -> Any:
        nxt = self._service
        if nxt.isLeaf:
            # Give the segment back so the leaf sees the path it was asked for.
            request.postpath.insert(0, request.prepath.pop())
            return nxt
        return nxt.getChildWithDefault(path, request)


class HTTPHookService(BaseHTTPHookService):
    """Runs :meth:`_pre_handle` before forwarding."""

    def _pre_handle(self, path: bytes, request: Any) -> None:
        """Override to inspect the request."""

    def getChild(self, path: bytes, request: Any) -> Any:
        self._pre_handle(path, request)
        return self._next_service(path, request)


class HTTPAsyncHookService(BaseHTTPHookService):
    """Like :class:`HTTPHookService` but :meth:`_pre_handle` returns a Deferred."""

    def _pre_handle(self, path: bytes, request: Any) -> defer.Deferred[Any]:
        return defer.succeed(None)

    def getChild(self, path: bytes, request: Any) -> Any:
        d = self._pre_handle(path, request)
        d.addCallback(lambda _: self._next_service(path, request))
        return d


class HTTPLogService(HTTPHookService):
    """Logs every request through a callable."""

    def __init__(self, logger: Any, service: Any) -> None:
        super().__init__(service)
        self._logger = logger

    def _pre_handle(self, path: bytes, request: Any) -> None:
        self._logger(f"{path} ---- {request}")


class HTTPNoListingFileService(static.File):
    """Static files; directories answer 403 instead of a listing, non-GET answer 405."""

    # resource.ErrorPage (deprecated by twisted) is what provd answers with; same bytes here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _FORBIDDEN = resource.ErrorPage(
            http.FORBIDDEN, "Forbidden", "Directory listing not permitted."
        )
        _NOT_ALLOWED = resource.ErrorPage(
            http.NOT_ALLOWED, "Method Not Allowed", "Method not allowed."
        )

    def directoryListing(self) -> Any:
        return self._FORBIDDEN

    def getChild(self, path: bytes, request: Any) -> Any:
        if request.method != b"GET":
            return self._NOT_ALLOWED
        return static.File.getChild(self, path, request)
