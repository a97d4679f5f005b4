"""The provisioning HTTP server phones fetch their files from (provd's port 8667).

Each request goes through the device pipeline and on to the device plugin's HTTP service.
Before that, paths that could escape the plugin's directory or list it are refused: encoded
slashes or backslashes, ``.``/``..`` segments (encoded or not), NUL and control characters
give 403; a path naming a directory (ending in ``/``) gives 404.

Requests are parsed leniently, as twisted.web (real provd's server) parses them: header
values may hold control bytes (Avaya 1200-series phones send one in their User-Agent), which
a strict parser answers with 400.  Only CR, LF and NUL stay refused.  The connections are
:mod:`.http11`'s (threads of their own, not the event loop's); :func:`provisioning_server`
serves the pipeline on them.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, unquote

from yarl import URL

from pytest_provd.provd.domain.pipeline import Pipeline
from pytest_provd.provd.plugins.messages import HttpRequestInfo
from pytest_provd.provd.servers.http11 import Http11Server, RawReply, RawRequest

logger = logging.getLogger(__name__)

MAX_REQUEST_BODY = 64 * 1024
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c|00)", re.IGNORECASE)
_FORBIDDEN_CHAR = re.compile(r"[\x00-\x1f\x7f\\]")  # control characters, backslash
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}
_TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def path_problem(raw_path: str) -> int | None:
    """403/404 when *raw_path* (percent-encoded, no query) must not reach a plugin."""
    if _ENCODED_SEPARATOR.search(raw_path):
        return 403
    path = unquote(raw_path, errors="strict")
    if _FORBIDDEN_CHAR.search(path):
        return 403
    segments = path.split("/")[1:]
    if any(s in (".", "..") for s in segments):
        return 403
    if not segments or segments[-1] == "":
        return 404
    return None


def _query(raw_query: str) -> dict[str, list[str]]:
    # As aiohttp read it before: the query string percent-decoded once, then parsed.
    decoded = URL.build(query_string=raw_query, encoded=True).query_string
    return parse_qs(decoded, keep_blank_values=True)


def respond(pipeline: Pipeline, request: RawRequest) -> RawReply:
    """The answer to one provisioning request (on a server thread: plugin code runs here)."""
    raw_path, mark, raw_query = request.target.partition("?")
    try:
        problem = path_problem(raw_path)
    except UnicodeDecodeError:
        problem = 403
    if problem is not None:
        reason = "forbidden path" if problem == 403 else "no such file"
        return RawReply(problem, _TEXT, f"{reason}\n".encode())
    info = HttpRequestInfo(
        request.method,
        raw_path,
        _query(raw_query) if mark else {},
        request.headers,
        request.remote,
        request.body,
    )
    reply = pipeline.http(info)
    data = reply.body
    if reply.status >= 500:
        data = b"Internal processing error\n"  # never hand a plugin traceback to a phone
    headers = {k: v for k, v in reply.headers.items() if k.lower() not in _HOP_BY_HOP}
    return RawReply(reply.status, headers, data)


def provisioning_server(pipeline: Pipeline, max_body: int = MAX_REQUEST_BODY) -> Http11Server:
    """The provisioning HTTP server of *pipeline* (to :meth:`~Http11Server.start`)."""

    def fault(where: str, exc: BaseException) -> None:
        logger.error("%s failed", where, exc_info=exc)
        pipeline.faults.record(where, exc)

    def answer(request: RawRequest) -> RawReply:
        return respond(pipeline, request)

    return Http11Server(answer, fault, max_body=max_body)
