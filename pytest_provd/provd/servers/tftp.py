"""A read-only TFTP server (RFC 1350) with option negotiation (RFC 2347/2348/2349) on asyncio.

Every read request goes through the device pipeline to the device plugin's TFTP service;
nothing is read from disk here.  A leading ``/`` is kept for the plugins' extractors (real
phones ask for ``/spa942.cfg``) and means the top of tftpboot, as on provd.  Names with ``..``
segments, backslashes, control characters or non-ASCII bytes are refused with an access
violation; write requests too.  Options: ``blksize`` (8-65464), ``tsize`` (the size is
announced), ``timeout`` (1-10 s; longer requests are declined).

Why not tftpy's server: it blocks its thread in ``select`` (stopping needs a wake-up
datagram), calls the dynamic file hook inside its only loop (one slow plugin stalls every
transfer), serves files present in its root before asking the hook, and does not pass the
requested options on.  Here each transfer is an asyncio task on the server loop and plugin
calls run on the worker pool; ``close()`` cancels them all at once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import struct
from typing import Any, cast

from pytest_provd.provd.domain.pipeline import Pipeline
from pytest_provd.provd.plugins.messages import TftpRequestInfo

logger = logging.getLogger(__name__)

RRQ, WRQ, DATA, ACK, ERROR, OACK = 1, 2, 3, 4, 5, 6
ERR_UNDEF, ERR_NOT_FOUND, ERR_ACCESS, ERR_ILLEGAL, ERR_TID, ERR_OPTION = 0, 1, 2, 4, 5, 8
DEFAULT_BLKSIZE = 512
DEFAULT_TIMEOUT = 1.0
# A client may ask for a longer time-out (RFC 2349), but a vanished client must not hold a
# session for 255 s x retries: longer requests are declined (left out of the OACK).
MAX_TIMEOUT = 10.0
RETRIES = 5
MAX_SESSIONS = 1024
MAX_NAME = 512


class TftpPacketError(ValueError):
    """A malformed packet."""


def parse_request(packet: bytes) -> tuple[int, str, str, dict[str, str]]:
    """``(opcode, filename, mode, options)`` of an RRQ/WRQ (TftpPacketError if malformed)."""
    if len(packet) < 4:
        raise TftpPacketError("packet too short")
    opcode = struct.unpack("!H", packet[:2])[0]
    fields = packet[2:].split(b"\0")
    if fields and fields[-1] == b"":
        fields.pop()
    else:
        raise TftpPacketError("request not NUL-terminated")
    if len(fields) < 2 or len(fields) % 2:
        raise TftpPacketError("request needs a filename, a mode and option/value pairs")
    try:
        name = fields[0].decode("ascii")
        mode = fields[1].decode("ascii").lower()
        options = {
            fields[i].decode("ascii").lower(): fields[i + 1].decode("ascii")
            for i in range(2, len(fields), 2)
        }
    except UnicodeDecodeError:
        raise TftpPacketError("non-ASCII request") from None
    return opcode, name, mode, options


def name_problem(name: str) -> str | None:
    """Why a requested file name is refused, or None."""
    if len(name) > MAX_NAME:
        return "file name too long"
    # Phones ask for "/spa942.cfg" and provd reads that inside tftpboot, as "spa942.cfg"
    # (its file service strips leading slashes): allowed, and never more than that.
    if not name.lstrip("/"):
        return "empty file name"
    if "\\" in name:
        return "backslash in file name"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "control character in file name"
    if any(part in ("..", ".") for part in name.split("/")):
        return "relative segment in file name"
    return None


def error_packet(code: int, message: str) -> bytes:
    """An ERROR packet."""
    return struct.pack("!HH", ERROR, code) + message.encode("ascii", "replace")[:200] + b"\0"


def negotiate(
    options: dict[str, str],
    size: int,
    timeout: float = DEFAULT_TIMEOUT,
    max_timeout: float = MAX_TIMEOUT,
) -> tuple[dict[str, str], int, float]:
    """Accepted options, block size and time-out for a request's *options*.

    *timeout* is the server's own; a client's ``timeout`` above *max_timeout* is declined.
    """
    accepted: dict[str, str] = {}
    blksize = DEFAULT_BLKSIZE
    if "blksize" in options:
        with contextlib.suppress(ValueError):
            wanted = int(options["blksize"])
            if wanted >= 8:
                blksize = min(wanted, 65464)
                accepted["blksize"] = str(blksize)
    if "tsize" in options:
        accepted["tsize"] = str(size)
    if "timeout" in options:
        with contextlib.suppress(ValueError):
            wanted = int(options["timeout"])
            if 1 <= wanted <= min(255, max_timeout):
                timeout = float(wanted)
                accepted["timeout"] = str(wanted)
    return accepted, blksize, timeout


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue(maxsize=256)
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait((data, (str(addr[0]), int(addr[1]))))

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, addr)


@dataclasses.dataclass
class TftpStats:
    """Counters of a server's transfers (read them from any thread)."""

    completed: int = 0
    abandoned: int = 0  # the client stopped answering or sent an ERROR
    not_found: int = 0
    refused: int = 0  # bad names, writes, malformed or unknown packets, busy
    foreign_tid: int = 0  # packets from an address that is not the transfer's client
    crashed: int = 0  # transfers dropped by an exception of the server itself


class TftpServer:
    """The server; ``await start(host, port)`` then ``await close()`` on the same loop.

    *timeout* and *retries* bound how long a transfer waits for a silent client
    (``timeout * retries`` per block); *max_sessions* bounds concurrent transfers.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        executor: concurrent.futures.Executor,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = RETRIES,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        if timeout <= 0 or retries < 1 or max_sessions < 1:
            raise ValueError("timeout, retries and max_sessions must be positive")
        self.pipeline = pipeline
        self.executor = executor
        self.timeout = timeout
        self.retries = retries
        self.max_sessions = max_sessions
        self.stats = TftpStats()
        self._main: _Endpoint | None = None
        self._reader: asyncio.Task[None] | None = None
        self._sessions: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._host = "127.0.0.1"

    @property
    def active_transfers(self) -> int:
        """How many transfers are running now."""
        return len(self._sessions)

    async def start(self, host: str, port: int) -> tuple[str, int]:
        """Bind and serve; returns the bound address."""
        loop = asyncio.get_running_loop()
        transport, protocol = await loop.create_datagram_endpoint(
            _Endpoint, local_addr=(host, port)
        )
        self._main = protocol
        self._host = host
        self._reader = asyncio.create_task(self._read_requests(), name="tftp-main")
        self._reader.add_done_callback(self._reader_done)
        sockname = transport.get_extra_info("sockname")
        return str(sockname[0]), int(sockname[1])

    def _reader_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self._crashed("TFTP request reader", task.exception())

    async def close(self) -> None:
        """Stop accepting requests and abort running transfers (idempotent)."""
        tasks = [t for t in (self._reader, *self._sessions.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._sessions.clear()
        self._reader = None
        if self._main is not None and self._main.transport is not None:
            self._main.transport.close()
        self._main = None

    async def _read_requests(self) -> None:
        assert self._main is not None
        main = self._main
        while True:
            packet, addr = await main.queue.get()
            if addr in self._sessions:
                continue  # a retransmitted request: the session answers it
            try:
                opcode, name, _mode, options = parse_request(packet)
            except TftpPacketError as exc:
                self._refuse(main, addr, ERR_ILLEGAL, str(exc))
                continue
            if opcode == WRQ:
                self._refuse(main, addr, ERR_ACCESS, "read-only server")
                continue
            if opcode != RRQ:
                self._refuse(main, addr, ERR_ILLEGAL, "expected a read request")
                continue
            problem = name_problem(name)
            if problem is not None:
                self._refuse(main, addr, ERR_ACCESS, problem)
                continue
            if len(self._sessions) >= self.max_sessions:
                self._refuse(main, addr, ERR_UNDEF, "server busy")
                continue
            task = asyncio.create_task(self._session(addr, name, options), name=f"tftp-{name}")
            self._sessions[addr] = task
            task.add_done_callback(self._forget(addr, name))

    def _refuse(self, main: _Endpoint, addr: tuple[str, int], code: int, why: str) -> None:
        self.stats.refused += 1
        main.send(error_packet(code, why), addr)

    def _forget(self, addr: tuple[str, int], name: str) -> Any:
        def forget(task: asyncio.Task[None]) -> None:
            self._sessions.pop(addr, None)
            if not task.cancelled() and task.exception() is not None:
                self._crashed(f"TFTP {name} for {addr[0]}:{addr[1]}", task.exception())

        return forget

    def _crashed(self, where: str, exc: BaseException | None) -> None:
        """A transfer (or the request reader) died of an exception: the server's own fault."""
        assert exc is not None
        self.stats.crashed += 1
        logger.error("%s failed", where, exc_info=exc)
        self.pipeline.faults.record(where, exc)

    async def _session(self, client: tuple[str, int], name: str, options: dict[str, str]) -> None:
        loop = asyncio.get_running_loop()
        transport, endpoint = await loop.create_datagram_endpoint(
            _Endpoint, local_addr=(self._host, 0)
        )
        try:
            request = TftpRequestInfo(name, client[0], dict(options))
            try:
                data = await loop.run_in_executor(self.executor, self.pipeline.tftp, request)
            except FileNotFoundError:
                self.stats.not_found += 1
                endpoint.send(error_packet(ERR_NOT_FOUND, "File not found"), client)
                return
            accepted, blksize, timeout = negotiate(options, len(data), self.timeout)
            if accepted:
                oack = struct.pack("!H", OACK) + b"".join(
                    k.encode() + b"\0" + v.encode() + b"\0" for k, v in accepted.items()
                )
                if not await self._exchange(endpoint, client, oack, 0, timeout):
                    self.stats.abandoned += 1
                    return
            block = 1
            offset = 0
            while True:
                chunk = data[offset : offset + blksize]
                packet = struct.pack("!HH", DATA, block & 0xFFFF) + chunk
                if not await self._exchange(endpoint, client, packet, block & 0xFFFF, timeout):
                    self.stats.abandoned += 1
                    return
                offset += blksize
                block += 1
                if len(chunk) < blksize:
                    self.stats.completed += 1
                    return
        finally:
            transport.close()

    async def _exchange(
        self,
        endpoint: _Endpoint,
        client: tuple[str, int],
        packet: bytes,
        block: int,
        timeout: float,
    ) -> bool:
        """Send *packet* until the client ACKs *block* (False: gave up or client error).

        A duplicate ACK of the previous block is ignored, not answered with a resend: answering
        it would double every later packet (the Sorcerer's Apprentice bug, RFC 1123 4.2.3.1).
        """
        for _ in range(self.retries):
            endpoint.send(packet, client)
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    reply, addr = await asyncio.wait_for(endpoint.queue.get(), remaining)
                except TimeoutError:
                    break
                if addr != client:
                    self.stats.foreign_tid += 1
                    endpoint.send(error_packet(ERR_TID, "unknown transfer ID"), addr)
                    continue
                if len(reply) >= 4:
                    opcode, number = struct.unpack("!HH", reply[:4])
                    if opcode == ACK and number == block:
                        return True
                    if opcode == ERROR:
                        return False
        logger.info("TFTP transfer to %s:%s timed out at block %s", *client, block)
        return False
