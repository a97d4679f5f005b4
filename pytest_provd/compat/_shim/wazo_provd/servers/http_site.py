"""The HTTP request class plugins see (a twisted.web request)."""

from __future__ import annotations

from typing import Any

from twisted.internet import defer
from twisted.web import server


class Request(server.Request):
    """twisted.web request; provd sets ``prov_dev`` (the device dict or None) on it."""

    prepath: list[bytes]
    postpath: list[bytes]
    prov_dev: Any = None


@defer.inlineCallbacks
def getChildForRequest(resource: Any, request: Any) -> Any:
    """Walk the resource tree like twisted.web, accepting Deferreds from ``getChild``."""
    steps = 0
    while request.postpath and not resource.isLeaf:
        steps += 1
        if steps > 256:
            raise RuntimeError("resource tree walk did not end after 256 path segments")
        segment = request.postpath.pop(0)
        request.prepath.append(segment)
        child = resource.getChildWithDefault(segment, request)
        if isinstance(child, defer.Deferred):
            child = yield child
        resource = child
    return resource
