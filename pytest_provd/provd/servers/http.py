"""The provisioning HTTP server phones fetch their files from (provd's port 8667).

Each request goes through the device pipeline and on to the device plugin's HTTP service.
Before that, paths that could escape the plugin's directory or list it are refused: encoded
slashes or backslashes, ``.``/``..`` segments (encoded or not), NUL and control characters
give 403; a path naming a directory (ending in ``/``) gives 404.

Requests are parsed leniently, as twisted.web (real provd's server) parses them: header
values may hold control bytes (Avaya 1200-series phones send one in their User-Agent), which
aiohttp's strict parser answers with 400.  Only CR, LF and NUL stay refused.  Serve
:func:`make_http_app` with :class:`LenientTCPSite` to get that.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from aiohttp import web, web_protocol
from aiohttp.http_exceptions import BadHttpMessage
from aiohttp.http_parser import HttpRequestParserPy

from pytest_provd.provd.domain.pipeline import Pipeline
from pytest_provd.provd.plugins.messages import HttpRequestInfo

logger = logging.getLogger(__name__)

MAX_REQUEST_BODY = 64 * 1024
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|00)", re.IGNORECASE)
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def path_problem(raw_path: str) -> int | None:
    """403/404 when *raw_path* (percent-encoded, no query) must not reach a plugin."""
    if _ENCODED_SEPARATOR.search(raw_path):
        return 403
    path = unquote(raw_path, errors="strict")
    if "\\" in path or any(ord(c) < 32 or ord(c) == 127 for c in path):
        return 403
    segments = path.split("/")[1:]
    if any(s in (".", "..") for s in segments):
        return 403
    if not segments or segments[-1] == "":
        return 404
    return None


def make_http_app(pipeline: Pipeline, executor: concurrent.futures.Executor) -> web.Application:
    """The aiohttp application of the provisioning HTTP server."""

    async def serve(request: web.Request) -> web.StreamResponse:
        raw_path = request.raw_path.split("?", 1)[0]
        try:
            problem = path_problem(raw_path)
        except UnicodeDecodeError:
            problem = 403
        if problem is not None:
            reason = "forbidden path" if problem == 403 else "no such file"
            return web.Response(status=problem, text=f"{reason}\n")
        try:
            body = await request.read() if request.can_read_body else b""
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="request body too large\n")
        query = parse_qs(request.query_string, keep_blank_values=True)
        info = HttpRequestInfo(
            request.method,
            raw_path,
            query,
            dict(request.headers),
            request.remote or "",
            body,
        )
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(executor, pipeline.http, info)
        data = reply.body
        if reply.status >= 500:
            data = b"Internal processing error\n"  # never hand a plugin traceback to a phone
        headers = {k: v for k, v in reply.headers.items() if k.lower() not in _HOP_BY_HOP}
        return web.Response(status=reply.status, headers=headers, body=data)

    async def provision(request: web.Request) -> web.StreamResponse:
        # The pipeline answers 500 for what fails inside it; this catches what fails around
        # it.  Not an aiohttp middleware: those cost a wrapper per request.
        try:
            return await serve(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            where = f"HTTP {request.method} {request.path}"
            logger.error("%s failed", where, exc_info=exc)
            pipeline.faults.record(where, exc)
            return web.Response(status=500, text="Internal processing error\n")

    app = web.Application(client_max_size=MAX_REQUEST_BODY)
    app.router.add_route("*", "/{tail:.*}", provision)
    return app


class LenientRequestParser(HttpRequestParserPy):
    """aiohttp's pure-Python request parser in its lax mode (control bytes in values)."""

    lax = True


_PARSER_ATTRS = ("_parser", "_request_parser")  # aiohttp >= 3.10, then 3.9
# Once, not per connection: inspecting the signature costs more than the rest of the swap.
_ACCEPTED = frozenset(inspect.signature(LenientRequestParser.__init__).parameters)


def _lenient(handler: web_protocol.RequestHandler, loop: asyncio.AbstractEventLoop) -> Any:
    """*handler* with its request parser replaced by a :class:`LenientRequestParser`."""
    accepted = _ACCEPTED
    options: dict[str, Any] = {
        "max_line_size": handler.max_line_size,
        "max_field_size": handler.max_field_size,
        "max_headers": handler.max_headers,
        "payload_exception": getattr(web_protocol, "RequestPayloadError", BadHttpMessage),
    }
    if "max_msg_queue_size" in accepted:
        options["max_msg_queue_size"] = getattr(web_protocol, "MAX_MSG_QUEUE_SIZE", 0)
    limit = getattr(handler, "_read_bufsize", 2**16)
    parser = LenientRequestParser(handler, loop, limit, **options)
    for attr in _PARSER_ATTRS:
        if getattr(handler, attr, None) is not None:
            setattr(handler, attr, parser)
            return handler
    raise RuntimeError(f"aiohttp's RequestHandler has none of {_PARSER_ATTRS}: update _lenient")


class LenientTCPSite(web.TCPSite):
    """A TCP site whose connections parse requests with :class:`LenientRequestParser`."""

    async def start(self) -> None:
        await web.BaseSite.start(self)
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None

        def protocol() -> Any:
            return _lenient(server(), loop)

        self._server = await loop.create_server(
            protocol, self._host, self._port, reuse_address=self._reuse_address
        )
