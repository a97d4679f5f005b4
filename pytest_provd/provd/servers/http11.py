"""A lean HTTP/1.1 server for the provisioning port, on threads of its own.

Phones make a handful of small requests each, one per connection.  Through an event loop
each costs more than the pipeline it leads to: the loop's transport machinery, then a
hand-off to a worker thread for the plugin code and back, each hand-off a thread wake-up.
Here each of ``threads`` threads accepts a connection and serves it from start to end with
blocking sockets: the plugin code still runs off the event loop (which keeps the REST API
and TFTP), and no request changes thread.

Requests are parsed leniently, as twisted.web (real provd's server) parses them: header
values may hold control bytes, only CR, LF and NUL are refused (400).  A body comes with
``Content-Length`` or chunked, ``Expect: 100-continue`` is answered, connections stay open
as HTTP/1.x says, bounded in requests (``MAX_REQUESTS``) and idle time (``IDLE_TIMEOUT``).
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_HEAD = 8190 * 4  # request line and headers together (aiohttp's line limit is 8190)
MAX_LINE = 8190
MAX_HEADERS = 128
IDLE_TIMEOUT = 75.0  # aiohttp's keep-alive timeout
MAX_REQUESTS = 1000  # on one connection
THREADS = 16
_RECV = 65536
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


_REASONS = {status.value: status.phrase for status in http.HTTPStatus}
_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """``Date`` of a response now: formatted once per second, not per response."""
    global _date
    now = time.time()
    second, text = _date
    if int(now) != second:
        text = email.utils.formatdate(now, usegmt=True)
        _date = (int(now), text)  # one tuple: threads see the old pair or the new one
    return text


def encode_reply(reply: RawReply, *, head: bool, close: bool) -> bytes:
    """The response bytes (no body for HEAD)."""
    headers = dict(reply.headers)
    if not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/octet-stream"
    lines = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, '')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    lines.append(f"Content-Length: {len(reply.body)}")
    lines.append(f"Date: {_http_date()}")
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
                if len(buffer) - end > MAX_HEAD:
                    raise BadRequest("chunked trailers too large")
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


def _request_of(
    buffer: bytearray,
    remote: str,
    max_body: int,
    read: Callable[[], bytes | None],
    send: Callable[[bytes], None],
) -> tuple[RawRequest, bool] | None:
    """The next request of a connection, reading as needed: ``(request, keep-alive)``, or
    None when the client closed (or went idle) between requests."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        if len(buffer) > MAX_HEAD:
            raise BadRequest("request head too large")
        data = read()
        if not data:
            if buffer:
                raise _Gone
            return None
        buffer += data
    if end > MAX_HEAD:
        raise BadRequest("request head too large")
    method, target, version, header_list = parse_head(bytes(buffer[:end]))
    del buffer[: end + 4]
    first: dict[str, str] = {}
    for name, value in header_list:
        first.setdefault(name.lower(), value)
    headers: dict[str, str] = {}
    for name, _ in header_list:
        headers.setdefault(name, first[name.lower()])
    connection = first.get("connection", "").lower()
    keep = "close" not in connection if version >= (1, 1) else "keep-alive" in connection
    chunked = "chunked" in first.get("transfer-encoding", "").lower()
    if "transfer-encoding" in first and not chunked:
        raise BadRequest("unsupported Transfer-Encoding", 501)
    if chunked and "content-length" in first:
        raise BadRequest("Content-Length with Transfer-Encoding")
    length_text = first.get("content-length", "0").strip()
    if not chunked and not length_text.isdigit():
        raise BadRequest(f"invalid Content-Length {length_text[:20]!r}")
    length = 0 if chunked else int(length_text)
    if length > max_body:
        raise BadRequest("request body too large", 413)
    if version >= (1, 1) and first.get("expect", "").lower() == "100-continue":
        send(b"HTTP/1.1 100 Continue\r\n\r\n")  # as aiohttp: whether the body came or not
    complete = _dechunk(buffer, max_body) if chunked else (len(buffer) >= length or None)
    while complete is None:
        data = read()
        if not data:
            raise _Gone
        buffer += data
        complete = _dechunk(buffer, max_body) if chunked else (len(buffer) >= length or None)
    if isinstance(complete, tuple):
        body, used = complete
    else:
        body, used = bytes(buffer[:length]), length
    del buffer[:used]
    return RawRequest(method, target, headers, remote, body), keep


class _Gone(Exception):
    """The client left in the middle of a request: nobody to answer."""


class Http11Server:
    """Serves *respond* on a TCP port from ``threads`` threads (:meth:`start`, :meth:`close`).

    *fault* hears of what *respond* (or this server) raised; the client gets a 500.
    """

    def __init__(
        self,
        respond: Respond,
        fault: Fault,
        *,
        max_body: int,
        threads: int = THREADS,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.respond = respond
        self.fault = fault
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self._count = threads
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def start(self, host: str, port: int) -> int:
        """Listen on *host*:*port* (0: a free one); the port."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((host, port))
            sock.listen(128)
            # Blocking, without a timeout: the kernel then wakes one waiting thread per
            # connection.  With a timeout every thread polls the socket and all of them wake
            # for each connection (one accepts, the others get EAGAIN and fight for the GIL).
            # close() wakes them all with shutdown().
        except OSError:
            sock.close()
            raise
        self._sock = sock
        for n in range(self._count):
            thread = threading.Thread(target=self._accept, name=f"provd-http-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return int(sock.getsockname()[1])

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, cut the connections, wait for the threads (idempotent)."""
        self._closed.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes the threads blocked in accept
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = []
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _accept(self) -> None:
        assert self._sock is not None
        listener = self._sock
        while not self._closed.is_set():
            try:
                conn, peer = listener.accept()
            except OSError:
                if self._closed.is_set():
                    return
                time.sleep(0.05)  # out of descriptors: let connections finish first
                continue
            with self._lock:
                self._open.add(conn)
            try:
                self._serve(conn, str(peer[0]))
            except Exception as exc:  # a bug of this server: recorded, never fatal
                self.fault(f"HTTP connection from {peer[0]}", exc)
            finally:
                with self._lock:
                    self._open.discard(conn)
                conn.close()

    def _serve(self, conn: socket.socket, remote: str) -> None:
        conn.settimeout(self.idle_timeout)
        buffer = bytearray()

        def read() -> bytes | None:
            try:
                return conn.recv(_RECV)
            except OSError:  # timed out, reset, or cut by close()
                return None

        for _ in range(MAX_REQUESTS):
            try:
                found = _request_of(buffer, remote, self.max_body, read, conn.sendall)
            except _Gone:
                return
            except BadRequest as exc:
                reply = RawReply(exc.status, _PLAIN, f"{exc}\n".encode())
                self._send(conn, encode_reply(reply, head=False, close=True))
                return
            if found is None:
                return
            request, keep = found
            try:
                reply = self.respond(request)
            except Exception as exc:  # no request may kill the server
                self.fault(f"HTTP {request.method} {request.target}", exc)
                reply = RawReply(500, _PLAIN, b"Internal processing error\n")
            keep = keep and not self._closed.is_set()
            if not self._send(
                conn, encode_reply(reply, head=request.method == "HEAD", close=not keep)
            ):
                return
            if not keep:
                return

    @staticmethod
    def _send(conn: socket.socket, data: bytes) -> bool:
        try:
            conn.sendall(data)
        except OSError:
            return False
        return True


_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}
