"""A lean HTTP/1.1 server for the provisioning port: each request handed to a thread pool.

Phones make a handful of small requests each, one per connection; aiohttp's machinery (a
task, a request and a response object, a router, its writer) cost more than the pipeline
they lead to.  This protocol parses the request head itself, leniently as twisted.web
(real provd's server) does: header values may hold control bytes, only CR, LF and NUL are
refused (400).  A body comes with ``Content-Length`` or chunked, ``Expect: 100-continue`` is
answered, connections stay open as HTTP/1.x says (idle ones close after ``IDLE_TIMEOUT``).
What to answer is *respond*'s business, called on a worker thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import http
import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_HEAD = 8190 * 4  # request line and headers together (aiohttp's line limit is 8190)
MAX_LINE = 8190
MAX_HEADERS = 128
IDLE_TIMEOUT = 75.0  # aiohttp's keep-alive timeout
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(rb"HTTP/(\d)\.(\d)")
SERVER = "Python/3 pytest-provd"


@dataclass
class RawRequest:
    """A parsed request: what *respond* gets."""

    method: str
    target: str  # as sent, query included
    headers: dict[str, str]  # names as sent; a repeated name keeps its first value
    remote: str
    body: bytes


@dataclass
class RawReply:
    """What *respond* answers (hop-by-hop headers are the server's)."""

    status: int
    headers: dict[str, str]
    body: bytes


Respond = Callable[[RawRequest], RawReply]
Fault = Callable[[str, BaseException], None]


class BadRequest(Exception):
    """The request cannot be parsed: 400 (or *status*) and the connection closes."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def encode_reply(reply: RawReply, *, head: bool, close: bool) -> bytes:
    """The response bytes (no body for HEAD)."""
    headers = dict(reply.headers)
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/octet-stream"
    lines = [f"HTTP/1.1 {reply.status} {_reason(reply.status)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(reply.body)}")
    lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
    lines.append(f"Server: {SERVER}")
    if close:
        lines.append("Connection: close")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return data if head else data + reply.body


def parse_head(head: bytes) -> tuple[str, str, tuple[int, int], list[tuple[str, str]]]:
    """``(method, target, version, headers)`` of a request head without its blank line."""
    lines = head.split(b"\r\n")
    if len(lines) - 1 > MAX_HEADERS:
        raise BadRequest("too many headers")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise BadRequest(f"invalid request line {lines[0][:100]!r}")
    version = _VERSION.fullmatch(parts[2])
    if version is None:
        raise BadRequest(f"invalid HTTP version {parts[2][:20]!r}")
    headers = []
    for line in lines[1:]:
        if len(line) > MAX_LINE:
            raise BadRequest("header line too long")
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise BadRequest(f"invalid header {line[:100]!r}")
        value = value.strip(b" \t")
        if b"\x00" in value or b"\r" in value or b"\n" in value:
            raise BadRequest(f"invalid header value for {name.decode('ascii')}")
        headers.append((name.decode("ascii"), value.decode("latin-1")))
    target = parts[1].decode("latin-1")
    return parts[0].decode("ascii"), target, (int(version[1]), int(version[2])), headers


def _dechunk(buffer: bytearray, limit: int) -> tuple[bytes, int] | None:
    """``(body, bytes used)`` of a complete chunked body at the start of *buffer*, or None."""
    body = bytearray()
    position = 0
    while True:
        end = buffer.find(b"\r\n", position)
        if end < 0:
            if len(buffer) - position > MAX_LINE:
                raise BadRequest("chunk size line too long")
            return None
        size_text = bytes(buffer[position:end]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadRequest(f"invalid chunk size {size_text[:20]!r}") from None
        if size < 0:
            raise BadRequest("invalid chunk size")
        if size == 0:
            # trailers, if any, up to a blank line
            trailer_end = buffer.find(b"\r\n\r\n", end)
            if buffer[end : end + 4] == b"\r\n\r\n":
                return bytes(body), end + 4
            if trailer_end < 0:
                return None
            return bytes(body), trailer_end + 4
        if len(body) + size > limit:
            raise BadRequest("request body too large", 413)
        start = end + 2
        if len(buffer) < start + size + 2:
            return None
        if buffer[start + size : start + size + 2] != b"\r\n":
            raise BadRequest("chunk not followed by CRLF")
        body += buffer[start : start + size]
        position = start + size + 2


class Connection(asyncio.Protocol):
    """One client connection; requests one after the other."""

    def __init__(self, server: Http11Server) -> None:
        self.server = server
        assert server.loop is not None, "start() the server first"
        self.loop = server.loop
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.remote = ""
        self.busy = False
        self.eof = False
        self.continued = False  # 100 Continue sent for the pending request
        self.idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.remote = str(peer[0]) if peer else ""
        self.server.connections.add(self)
        self._arm_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        if self.idle is not None:
            self.idle.cancel()
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._next()

    def eof_received(self) -> bool:
        self.eof = True
        if not self.busy:
            self.close()
        return True  # an answer under way still goes out

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def _arm_idle(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        self.idle = self.loop.call_later(IDLE_TIMEOUT, self.close)

    def _next(self) -> None:
        try:
            request, used, keep = self._parse()
        except BadRequest as exc:
            self._refuse(exc.status, str(exc))
            return
        except Exception as exc:  # a bug of this parser: recorded, 500, closed
            self.server.fault(f"HTTP parsing request from {self.remote}", exc)
            self._refuse(500, "Internal processing error")
            return
        if request is None:
            if self.eof:  # an incomplete request will never be completed
                self.close()
            return
        del self.buffer[:used]
        self.busy = True
        self.continued = False
        if self.idle is not None:
            self.idle.cancel()
        self.server.executor.submit(self._work, request, keep)

    def _parse(self) -> tuple[RawRequest | None, int, bool]:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                raise BadRequest("request head too large")
            return None, 0, False
        if end > MAX_HEAD:
            raise BadRequest("request head too large")
        method, target, version, header_list = parse_head(bytes(self.buffer[:end]))
        headers: dict[str, str] = {}
        first: dict[str, str] = {}
        for name, value in header_list:
            first.setdefault(name.lower(), value)
        for name, _ in header_list:
            headers.setdefault(name, first[name.lower()])
        connection = first.get("connection", "").lower()
        keep = "close" not in connection if version >= (1, 1) else "keep-alive" in connection
        body_at = end + 4
        chunked = "chunked" in first.get("transfer-encoding", "").lower()
        if "transfer-encoding" in first and not chunked:
            raise BadRequest("unsupported Transfer-Encoding", 501)
        if chunked and "content-length" in first:
            raise BadRequest("Content-Length with Transfer-Encoding")
        limit = self.server.max_body
        if chunked:
            self._continue(first)
            found = _dechunk(self.buffer[body_at:], limit)
            if found is None:
                return None, 0, False
            body, used = found
            return RawRequest(method, target, headers, self.remote, body), body_at + used, keep
        length_text = first.get("content-length", "0").strip()
        if not length_text.isdigit():
            raise BadRequest(f"invalid Content-Length {length_text[:20]!r}")
        length = int(length_text)
        if length > limit:
            raise BadRequest("request body too large", 413)
        if len(self.buffer) < body_at + length:
            self._continue(first)
            return None, 0, False
        body = bytes(self.buffer[body_at : body_at + length])
        return RawRequest(method, target, headers, self.remote, body), body_at + length, keep

    def _continue(self, first: dict[str, str]) -> None:
        if not self.continued and first.get("expect", "").lower() == "100-continue":
            self.continued = True
            if self.transport is not None:
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _refuse(self, status: int, message: str) -> None:
        reply = RawReply(
            status, {"Content-Type": "text/plain; charset=utf-8"}, f"{message}\n".encode()
        )
        if self.transport is not None:
            self.transport.write(encode_reply(reply, head=False, close=True))
        self.buffer.clear()
        self.close()

    def _work(self, request: RawRequest, keep: bool) -> None:
        """On a worker thread: the answer, handed back to the loop."""
        try:
            reply = self.server.respond(request)
        except Exception as exc:  # no request may kill the server
            self.server.fault(f"HTTP {request.method} {request.target}", exc)
            reply = RawReply(500, {"Content-Type": "text/plain"}, b"Internal processing error\n")
        data = encode_reply(reply, head=request.method == "HEAD", close=not keep)
        try:
            self.loop.call_soon_threadsafe(self._send, data, keep)
        except RuntimeError:  # the loop closed meanwhile: nobody to answer
            pass

    def _send(self, data: bytes, keep: bool) -> None:
        self.busy = False
        if self.transport is None:
            return
        self.transport.write(data)
        if not keep:
            self.close()
        elif self.buffer:
            self._arm_idle()
            self._next()  # pipelined requests are answered even after the client's EOF
        elif self.eof:
            self.close()
        else:
            self._arm_idle()


class Http11Server:
    """Serves *respond* on a TCP port of the running loop (:meth:`start`, :meth:`close`)."""

    def __init__(
        self,
        respond: Respond,
        executor: concurrent.futures.Executor,
        fault: Fault,
        *,
        max_body: int,
    ) -> None:
        self.respond = respond
        self.executor = executor
        self.fault = fault
        self.max_body = max_body
        self.connections: set[Connection] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on *host*:*port* (0: a free one) of the running loop; the port."""
        self.loop = asyncio.get_running_loop()
        self._server = await self.loop.create_server(
            lambda: Connection(self), host, port, reuse_address=False
        )
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop the connections."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()
