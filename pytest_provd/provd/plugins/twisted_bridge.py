"""Run plugin-side twisted code without a reactor.

Plugins hand out Deferreds, twisted.web resources and TFTP read services. Almost all of it
fires synchronously, so we resolve Deferreds on the spot, walk resources the way
twisted.web's site does and feed TFTP services a response object that records the answer.
Threads started with ``threads.deferToThread`` are run inline (bounded by a timeout), and
``reactor.callFromThread`` calls queued for the entering thread, while :func:`inline_threads`
is active.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import io
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from twisted.internet import defer, threads
from twisted.internet.address import IPv4Address
from twisted.python.failure import Failure
from twisted.web import server

from pytest_provd.provd.plugins.errors import FAILURE_FRAMES_ATTR

DEFAULT_TIMEOUT = 10.0
_MAX_QUEUED_CALLS = 10_000
logger = logging.getLogger(__name__)


def provd_module(name: str) -> Any:
    """A module of the provd namespace plugins see (our compat, or a real provd)."""
    return importlib.import_module(name)


MAX_BODY = 64 * 1024 * 1024
_MAX_PRODUCER_ROUNDS = 1_000_000
_MAX_WALK = 256


class DeferredTimeout(TimeoutError):
    """A Deferred did not fire in time (it waits on a reactor that is not running)."""


def resolve(value: Any, timeout: float = DEFAULT_TIMEOUT) -> Any:
    """The result of *value* if it is a Deferred (raising its failure), else *value*."""
    if not isinstance(value, defer.Deferred):
        return value
    box: list[Any] = []

    def keep(result: Any) -> None:
        box.append(result)

    value.addBoth(keep)
    deadline = time.monotonic() + timeout
    while not box:
        if time.monotonic() >= deadline:
            raise DeferredTimeout(f"Deferred did not fire within {timeout:g}s")
        time.sleep(0.005)
    result = box[0]
    if isinstance(result, Failure):
        exc = result.value
        if exc is None:
            result.raiseException()
        tb = result.tb or exc.__traceback__
        if tb is None and result.frames:
            # Old twisted dropped the traceback (cleanFailure); where it failed stays known.
            setattr(exc, FAILURE_FRAMES_ATTR, [(f[1], f[2]) for f in result.frames])
        raise exc.with_traceback(tb)
    return result


_THREADS_LOCK = threading.RLock()


@contextlib.contextmanager
def inline_threads(timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Make ``threads.deferToThread`` and ``reactor.callFromThread`` work without a reactor.

    The thread that enters stands for provd's reactor thread.  A ``deferToThread`` function
    runs in a worker thread (so a hung telnet session is cut at *timeout*) and the returned
    Deferred has already fired.  ``callFromThread`` only queues, as it does in provd: the
    queued calls run in the entering thread once the worker function has returned (before
    its Deferred is handed back) and when the block ends.  So a plugin's thread that calls
    ``reactor.callFromThread(app.dev_update, device)`` while ``dev_synchronize`` holds the
    application lock does not wait on that lock: the update runs after the thread, as
    provd's write lock makes it run after the synchronize.
    """
    from twisted.internet import reactor

    queued: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]
    queued = queue.SimpleQueue()

    def run_queued() -> None:
        for _ in range(_MAX_QUEUED_CALLS):
            try:
                fun, args, kwargs = queued.get_nowait()
            except queue.Empty:
                return
            try:
                fun(*args, **kwargs)
            except Exception:
                # provd's reactor logs an unhandled error of a queued call and goes on.
                logger.exception("reactor.callFromThread(%r) failed", fun)
        raise RuntimeError(f"more than {_MAX_QUEUED_CALLS} reactor.callFromThread calls")

    def defer_to_thread(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            future = pool.submit(fun, *args, **kwargs)
            try:
                result = defer.succeed(future.result(timeout=timeout))
            except concurrent.futures.TimeoutError:
                return defer.fail(DeferredTimeout(f"{fun!r} still running after {timeout:g}s"))
            except Exception as e:
                result = defer.fail(e)
            run_queued()
            return result
        finally:
            pool.shutdown(wait=False)

    def call_from_thread(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        queued.put((fun, args, kwargs))

    with _THREADS_LOCK:
        saved_defer = threads.deferToThread
        saved_call = getattr(reactor, "callFromThread", None)
        setattr(threads, "deferToThread", defer_to_thread)  # noqa: B010 - typed differently
        setattr(reactor, "callFromThread", call_from_thread)  # noqa: B010
        try:
            yield
            run_queued()
        finally:
            setattr(threads, "deferToThread", saved_defer)  # noqa: B010
            if saved_call is not None:
                setattr(reactor, "callFromThread", saved_call)  # noqa: B010


# --- HTTP -------------------------------------------------------------------------------


class _NoFormParsingSite:
    # twisted >= 25.5 reads this from channel.site when a Request is made (older ones have no such
    # setting); the bridge sets request.args itself and never parses a body.
    _parsePOSTFormSubmission = False


class _FakeChannel:
    """Just enough of an HTTPChannel for a Request that never touches a socket."""

    site = _NoFormParsingSite()
    transport = None

    def __init__(self, client_ip: str, client_port: int) -> None:
        self._peer = IPv4Address("TCP", client_ip, client_port)
        self._host = IPv4Address("TCP", "127.0.0.1", 0)

    def getPeer(self) -> IPv4Address:
        return self._peer

    def getHost(self) -> IPv4Address:
        return self._host


def _request_class() -> type[server.Request]:
    # Subclass whatever Request the plugins import, so isinstance checks hold.
    try:
        from wazo_provd.servers.http_site import Request as PluginRequest
    except ImportError:
        PluginRequest = server.Request
    return _make_bridge_request(PluginRequest)


_BRIDGE_CLASSES: dict[type, type] = {}


def _make_bridge_request(base: type[server.Request]) -> type[server.Request]:
    if base in _BRIDGE_CLASSES:
        return _BRIDGE_CLASSES[base]

    class BridgeRequest(base):  # type: ignore[valid-type, misc]
        """Collects the response in memory instead of writing to a transport."""

        def __init__(self, channel: _FakeChannel) -> None:
            super().__init__(channel)
            self.body_out = bytearray()
            self.finished_flag = False
            self._producer: Any = None
            self.prov_dev = None

        def write(self, data: bytes) -> None:
            if self.finished_flag:
                raise RuntimeError("write() after finish()")
            self.startedWriting = 1
            if self.method == b"HEAD":
                return
            if len(self.body_out) + len(data) > MAX_BODY:
                raise RuntimeError(f"response body larger than {MAX_BODY} bytes")
            self.body_out += data

        def finish(self) -> None:
            self.finished_flag = True
            self.finished = 1

        def registerProducer(self, producer: Any, streaming: bool) -> None:
            self._producer = producer
            if streaming:
                producer.resumeProducing()
                return
            rounds = 0
            while self._producer is producer and not self.finished_flag:
                rounds += 1
                if rounds > _MAX_PRODUCER_ROUNDS:
                    raise RuntimeError("producer did not finish")
                producer.resumeProducing()

        def unregisterProducer(self) -> None:
            self._producer = None

        def getClientIP(self) -> str:
            return str(self.client.host)

        def getClientAddress(self) -> Any:
            return self.client

        def notifyFinish(self) -> Any:
            return defer.succeed(None)

    _BRIDGE_CLASSES[base] = BridgeRequest
    return BridgeRequest


@dataclass
class HttpResult:
    """What a resource answered."""

    status: int
    headers: dict[str, str]
    body: bytes
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def build_request(
    method: str,
    path: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
    client_ip: str,
    body: bytes = b"",
    device: dict[str, Any] | None = None,
    client_port: int = 5060,
) -> Any:
    """A plugin-visible Request for ``method path?query`` (path as sent, percent-encoded)."""
    if not path.startswith("/"):
        path = "/" + path
    req = _request_class()(_FakeChannel(client_ip, client_port))
    raw_path, _, raw_query = path.partition("?")
    pairs = [(k, v) for k, values in query.items() for v in values]
    if raw_query:
        pairs += parse_qsl(raw_query, keep_blank_values=True)
    args: dict[bytes, list[bytes]] = {}
    for k, v in pairs:
        args.setdefault(k.encode("utf-8"), []).append(v.encode("utf-8"))
    req.method = method.upper().encode("ascii")
    req.path = raw_path.encode("utf-8")
    query_text = "&".join(f"{k}={v}" for k, v in pairs)
    req.uri = req.path + (b"?" + query_text.encode("utf-8") if query_text else b"")
    req.args = args
    req.clientproto = b"HTTP/1.1"
    for name, value in headers.items():
        req.requestHeaders.addRawHeader(name.encode("latin-1"), value.encode("latin-1"))
    req.content = io.BytesIO(body)
    req.prepath = []
    req.postpath = [unquote_to_bytes(seg) for seg in req.path[1:].split(b"/")]
    setattr(req, "prov_dev", device)  # noqa: B010 - provd's own attribute
    return req


@defer.inlineCallbacks
def _walk(resource: Any, request: Any) -> Any:
    steps = 0
    while request.postpath and not resource.isLeaf:
        steps += 1
        if steps > _MAX_WALK:
            raise RuntimeError(f"resource walk exceeded {_MAX_WALK} segments")
        segment = request.postpath.pop(0)
        request.prepath.append(segment)
        child = resource.getChildWithDefault(segment, request)
        if isinstance(child, defer.Deferred):
            child = yield child
        resource = child
    return resource


def service_for_request(service: Any, request: Any) -> Any:
    """Wrap *service* the way provd routes to a plugin's HTTP service."""
    if hasattr(service, "path_preprocess"):
        rewrite = importlib.import_module("twisted.web.rewrite")
        return rewrite.RewriterResource(service, service.path_preprocess)
    return service


def render(service: Any, request: Any, timeout: float = DEFAULT_TIMEOUT) -> HttpResult:
    """Walk from *service* along ``request.postpath`` and render the resource reached."""
    try:
        leaf = resolve(_walk(service_for_request(service, request), request), timeout)
        request.render(leaf)
        deadline = time.monotonic() + timeout
        while not request.finished_flag:
            if time.monotonic() >= deadline:
                raise DeferredTimeout(f"resource did not finish within {timeout:g}s")
            time.sleep(0.005)
    except Exception as e:
        return HttpResult(
            500,
            {"Content-Type": "text/plain; charset=utf-8"},
            traceback.format_exc().encode("utf-8"),
            error=f"{type(e).__name__}: {e}",
        )
    headers = {
        name.decode("latin-1"): ", ".join(v.decode("latin-1") for v in values)
        for name, values in request.responseHeaders.getAllRawHeaders()
    }
    # twisted adds these while writing the status line, which never happens here.
    if getattr(request, "lastModified", None) is not None:
        stamp: Any = importlib.import_module("twisted.web.http").datetimeToString
        headers.setdefault("Last-Modified", stamp(request.lastModified).decode())
    if getattr(request, "etag", None) is not None:
        headers.setdefault("ETag", request.etag.decode("latin-1"))
    return HttpResult(int(request.code), headers, bytes(request.body_out))


# --- TFTP -------------------------------------------------------------------------------


class TftpRejected(FileNotFoundError):
    """The TFTP service rejected or ignored the read request."""

    def __init__(self, errcode: bytes, message: str) -> None:
        super().__init__(message)
        self.errcode = errcode


class _TftpResponse:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.fobj: Any = None
        self.rejected: tuple[bytes, str] | None = None

    def accept(self, fobj: Any) -> None:
        self.fobj = fobj
        self.done.set()

    def reject(self, errcode: bytes, errmsg: Any) -> None:
        text = errmsg.decode("utf-8", "replace") if isinstance(errmsg, bytes) else str(errmsg)
        self.rejected = (errcode, text)
        self.done.set()

    def ignore(self) -> None:
        self.rejected = (b"", "request ignored")
        self.done.set()


def tftp_read(
    service: Any,
    filename: str | bytes,
    client_ip: str,
    options: dict[str, str] | None = None,
    device: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    client_port: int = 69,
) -> bytes:
    """Content a TFTP read service serves for *filename*; :class:`TftpRejected` otherwise."""
    raw_name = filename.encode("ascii") if isinstance(filename, str) else filename
    packet = {
        "opcode": b"\x00\x01",
        "filename": raw_name,
        "mode": b"octet",
        "options": {k.encode("ascii"): v.encode("ascii") for k, v in (options or {}).items()},
    }
    request: dict[str, Any] = {
        "address": (client_ip, client_port),
        "packet": packet,
        "prov_dev": device,
    }
    response = _TftpResponse()
    service.handle_read_request(request, response)
    if not response.done.wait(timeout):
        raise TftpRejected(b"", f"no answer within {timeout:g}s (request ignored)")
    if response.rejected is not None:
        raise TftpRejected(*response.rejected)
    fobj = response.fobj
    try:
        data = fobj.read(MAX_BODY + 1)
    finally:
        with contextlib.suppress(Exception):
            fobj.close()
    if len(data) > MAX_BODY:
        raise RuntimeError(f"TFTP file larger than {MAX_BODY} bytes")
    return bytes(data)
