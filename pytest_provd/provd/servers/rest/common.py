"""What every REST resource group shares: media type, errors, answers, operations, queries.

:class:`Resources` is the base of the resource groups (devices, configs, plugins): the
application, the worker pool the blocking calls run on, the operations in progress, and the
request helpers (JSON entity, tenant, visible device, link lists).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from pytest_provd.problems import ProvdHarnessError
from pytest_provd.provd.domain.app import ProvdApp
from pytest_provd.provd.domain.faults import FaultLog
from pytest_provd.provd.plugins.errors import PluginError

logger = logging.getLogger(__name__)

MEDIA_TYPE = "application/vnd.proformatique.provd+json"
ACCEPTED_BODY_TYPES = (MEDIA_TYPE, "application/json")
JsonDict = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY_KEY = web.AppKey("max_body", int)


class BadRequest(ProvdHarnessError):
    """A request body or parameter the API cannot use (HTTP 400)."""


class NotFound(ProvdHarnessError):
    """No such resource (HTTP 404)."""


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A provd-typed JSON answer."""
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        content_type=MEDIA_TYPE,
        headers=headers,
    )


def error_response(status: int, message: str) -> web.Response:
    """A JSON error answer."""
    body = json.dumps({"error": message, "status": status}).encode()
    return web.Response(body=body, status=status, content_type="application/json")


def no_content(status: int = 204, location: str | None = None) -> web.Response:
    """An empty answer (``201`` + ``Location`` for created operations)."""
    return web.Response(status=status, headers={"Location": location} if location else None)


# --- operations in progress --------------------------------------------------------------


@dataclass
class Operation:
    """An operation in progress, formatted like provd's ``label|state;current/end(subs)``."""

    label: str | None = None
    state: str = "waiting"
    current: int | None = None
    end: int | None = None
    subs: list[Operation] = field(default_factory=list)
    error: str | None = None

    def format(self) -> str:
        """provd's textual form of the operation."""
        text = f"{self.label}|" if self.label is not None else ""
        text += self.state
        if self.current is not None:
            text += f";{self.current}"
            if self.end:
                text += f"/{self.end}"
        return text + "".join(f"({sub.format()})" for sub in self.subs)


class Operations:
    """Operations by the resource path their POST created them under."""

    def __init__(
        self, executor: concurrent.futures.Executor, faults: FaultLog | None = None
    ) -> None:
        self._executor = executor
        self._faults = faults if faults is not None else FaultLog()
        self._by_path: dict[str, Operation] = {}
        self._next = 1

    def start(self, base_path: str, label: str, work: Callable[[], None]) -> str:
        """Run *work* on the pool; returns the new operation's path (``Location``)."""
        path = f"{base_path.rstrip('/')}/{self._next}"
        self._next += 1
        op = Operation(label, "progress")
        self._by_path[path] = op

        def done(future: concurrent.futures.Future[None]) -> None:
            exc = future.exception() if not future.cancelled() else None
            if future.cancelled():
                op.state, op.error = "fail", "cancelled"
            elif exc is not None:
                op.state, op.error = "fail", str(exc)
                if not isinstance(exc, ProvdHarnessError | PluginError):
                    logger.error("operation %s failed", label, exc_info=exc)
                    self._faults.record(f"operation {label} ({path})", exc)
            else:
                op.state = "success"

        future = self._executor.submit(work)
        future.add_done_callback(done)
        return path

    def get(self, path: str) -> Operation:
        """The operation at *path* (NotFound)."""
        try:
            return self._by_path[path.rstrip("/")]
        except KeyError:
            raise NotFound(f"no operation at {path}") from None

    def delete(self, path: str) -> None:
        """Forget the operation at *path* (NotFound)."""
        self.get(path)
        del self._by_path[path.rstrip("/")]


def find(docs: list[JsonDict], request: web.Request) -> list[JsonDict]:
    """provd's find parameters: ``q`` (JSON selector), ``fields``, ``skip``, ``limit``, ``sort``."""
    query = request.query
    if "q" in query:
        try:
            selector = json.loads(query["q"])
        except ValueError:
            raise BadRequest("q: invalid JSON selector") from None
        if not isinstance(selector, dict):
            raise BadRequest("q: selector must be an object")
        docs = [d for d in docs if _matches(d, selector)]
    if "sort" in query:
        key = query["sort"]
        reverse = query.get("sort_ord", "ASC").upper() == "DESC"
        docs.sort(key=lambda d: (key not in d, str(d.get(key, ""))), reverse=reverse)
    try:
        skip = int(query.get("skip", "0"))
        limit = int(query.get("limit", "0"))
    except ValueError:
        raise BadRequest("skip and limit must be integers") from None
    if skip < 0 or limit < 0:
        raise BadRequest("skip and limit must be positive")
    docs = docs[skip:]
    if limit:
        docs = docs[:limit]
    if "fields" in query:
        wanted = query["fields"].split(",")
        docs = [{k: v for k, v in d.items() if k in wanted} for d in docs]
    return docs


def _matches(doc: JsonDict, selector: JsonDict) -> bool:
    for key, cond in selector.items():
        value = doc.get(key)
        if isinstance(cond, dict):
            for op, arg in cond.items():
                if op == "$in" and (not isinstance(arg, list) or value not in arg):
                    return False
                if op == "$nin" and isinstance(arg, list) and value in arg:
                    return False
                if op == "$ne" and value == arg:
                    return False
                if op == "$exists" and (key in doc) != bool(arg):
                    return False
                if op == "$contains" and not (isinstance(value, str) and str(arg) in value):
                    return False
        elif value != cond:
            return False
    return True


class Resources:
    """Handlers of one group of provd's REST resources over a :class:`ProvdApp`."""

    def __init__(
        self, app: ProvdApp, executor: concurrent.futures.Executor, ops: Operations
    ) -> None:
        self.app = app
        self.executor = executor
        self.ops = ops

    async def run(self, fun: Callable[..., Any], *args: Any) -> Any:
        """Call blocking application code on the worker pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fun(*args))

    # request helpers -----------------------------------------------------------------------

    async def body(self, request: web.Request, key: str | None = None) -> Any:
        """The JSON entity (415/400 when unusable); with *key*, that member of an object."""
        ctype = request.content_type
        if ctype not in ACCEPTED_BODY_TYPES:
            raise web.HTTPUnsupportedMediaType(
                reason=f'Entity must be in media type "{MEDIA_TYPE}"'
            )
        raw = await request.read()
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise BadRequest(f"Invalid JSON document: {exc}") from None
        if key is None:
            return data
        if not isinstance(data, dict):
            raise BadRequest(f"entity must be a JSON object with a {key!r} key")
        if key not in data:
            raise BadRequest(f"Missing {key!r} key")
        return data[key]

    async def body_id(self, request: web.Request) -> str:
        """The ``{"id": "..."}`` entity of install/uninstall/reload/synchronize requests."""
        value = await self.body(request, "id")
        if not isinstance(value, str) or not value:
            raise BadRequest('"id" must be a non-empty string')
        return value

    def tenant(self, request: web.Request) -> str:
        """The request's tenant: ``Wazo-Tenant``, else the provd's own (401 if unknown)."""
        return self.app.check_tenant(request.headers.get("Wazo-Tenant"))

    def visible_device(self, request: web.Request, device_id: str) -> JsonDict:
        """A device of the request's tenant or a tenant below it (404 otherwise, as provd)."""
        device = self.app.devices.get(device_id)
        if device.get("tenant_uuid") not in self.app.tenant_tree(self.tenant(request)):
            raise NotFound(f"no device {device_id!r}")
        return device

    @staticmethod
    def links(request: web.Request, names: list[tuple[str, str]]) -> web.Response:
        base = request.path.rstrip("/")
        return json_response({"links": [{"rel": rel, "href": f"{base}/{p}"} for rel, p in names]})
