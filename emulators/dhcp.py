"""DHCP on the wire (RFC 2131/2132): a small codec, a client and a Wazo-like server.

The server answers phones on a loopback UDP port with addresses from 127.1.0.0/16 and the
options of the vendor class the phone matches (read from the ISC dhcpd subset used by the
plugins repository's ``dhcp/`` directory), and on every ACK pushes the transaction to provd's
``dev_mgr/dhcpinfo`` like Wazo's dhcpd hook.  Unlike a real phone, the client sends unicast to
the server's port from an ephemeral port (no root, no broadcast): the bytes are the same.
Malformed packets are dropped and counted in :attr:`DhcpServer.stats`.
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
import socket
import struct
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAGIC = b"\x63\x82\x53\x63"
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
_HEADER = struct.Struct("!BBBBIHH4s4s4s4s16s64s128s")
MAX_PACKET = 1500


class DhcpDecodeError(ValueError):
    """A packet that is not valid DHCP; the message says why."""


@dataclass
class DhcpMessage:
    """One DHCP message; ``options`` maps option codes to raw values."""

    op: int
    xid: int
    chaddr: bytes
    options: dict[int, bytes] = field(default_factory=dict)
    ciaddr: str = "0.0.0.0"
    yiaddr: str = "0.0.0.0"
    siaddr: str = "0.0.0.0"
    giaddr: str = "0.0.0.0"
    flags: int = 0
    sname: bytes = b""
    file: bytes = b""

    @property
    def msg_type(self) -> int:
        """Option 53, or 0 when absent."""
        value = self.options.get(53, b"")
        return value[0] if len(value) == 1 else 0

    @property
    def mac(self) -> str:
        """The client hardware address as ``aa:bb:cc:dd:ee:ff``."""
        return ":".join(f"{b:02x}" for b in self.chaddr[:6])

    def encode(self) -> bytes:
        """Wire bytes of the message."""
        head = _HEADER.pack(
            self.op,
            1,
            6,
            0,
            self.xid,
            0,
            self.flags,
            socket.inet_aton(self.ciaddr),
            socket.inet_aton(self.yiaddr),
            socket.inet_aton(self.siaddr),
            socket.inet_aton(self.giaddr),
            self.chaddr.ljust(16, b"\0")[:16],
            self.sname.ljust(64, b"\0")[:64],
            self.file.ljust(128, b"\0")[:128],
        )
        body = bytearray(MAGIC)
        for code, value in self.options.items():
            for start in range(0, max(len(value), 1), 255):
                chunk = value[start : start + 255]
                body += bytes([code, len(chunk)]) + chunk
        body += b"\xff"
        return head + bytes(body)

    @classmethod
    def decode(cls, data: bytes) -> DhcpMessage:
        """Parse wire bytes; DhcpDecodeError on anything malformed."""
        if len(data) < _HEADER.size + 4:
            raise DhcpDecodeError("truncated")
        if len(data) > MAX_PACKET * 4:
            raise DhcpDecodeError("oversized")
        fields = _HEADER.unpack_from(data)
        op, htype, hlen, _hops, xid, _secs, flags = fields[:7]
        if op not in (1, 2) or htype != 1 or hlen != 6:
            raise DhcpDecodeError("not an Ethernet BOOTP message")
        if data[_HEADER.size : _HEADER.size + 4] != MAGIC:
            raise DhcpDecodeError("bad magic cookie")
        options = _parse_options(data[_HEADER.size + 4 :])
        sname, file = fields[12], fields[13]
        overload = options.get(52, b"")
        if overload:
            if len(overload) != 1 or overload[0] not in (1, 2, 3):
                raise DhcpDecodeError("bad option overload")
            if overload[0] & 1:
                _merge(options, _parse_options(file, need_end=False))
                file = b""
            if overload[0] & 2:
                _merge(options, _parse_options(sname, need_end=False))
                sname = b""
        return cls(
            op=op,
            xid=xid,
            chaddr=fields[11][:6],
            options=options,
            ciaddr=socket.inet_ntoa(fields[7]),
            yiaddr=socket.inet_ntoa(fields[8]),
            siaddr=socket.inet_ntoa(fields[9]),
            giaddr=socket.inet_ntoa(fields[10]),
            flags=flags,
            sname=sname.rstrip(b"\0"),
            file=file.rstrip(b"\0"),
        )


def _merge(options: dict[int, bytes], more: dict[int, bytes]) -> None:
    for code, value in more.items():
        options[code] = options.get(code, b"") + value


def _parse_options(data: bytes, need_end: bool = True) -> dict[int, bytes]:
    options: dict[int, bytes] = {}
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            return options
        if i + 1 >= len(data):
            raise DhcpDecodeError(f"option {code} has no length")
        length = data[i + 1]
        if i + 2 + length > len(data):
            raise DhcpDecodeError(f"option {code} length {length} overruns the packet")
        # Repeated options concatenate (RFC 3396).
        options[code] = options.get(code, b"") + data[i + 2 : i + 2 + length]
        i += 2 + length
    if need_end:
        raise DhcpDecodeError("options not terminated by END")
    return options


def encode_vendor_options(sub: dict[int, bytes]) -> bytes:
    """Option 43 payload from sub-options."""
    return b"".join(bytes([code, len(v)]) + v for code, v in sub.items())


def decode_vendor_options(data: bytes) -> dict[int, bytes]:
    """Sub-options of an option 43 payload."""
    return _parse_options(data + b"\xff")


# --- client ---------------------------------------------------------------------------------


@dataclass
class Lease:
    """What the server granted."""

    yiaddr: str
    server_id: str
    options: dict[int, bytes]
    siaddr: str = "0.0.0.0"
    file: bytes = b""

    @property
    def tftp_server(self) -> str | None:
        """Option 66, else 150, else siaddr."""
        if 66 in self.options:
            return self.options[66].decode("latin-1").rstrip("\0")
        if 150 in self.options and len(self.options[150]) >= 4:
            return socket.inet_ntoa(self.options[150][:4])
        return None if self.siaddr == "0.0.0.0" else self.siaddr

    @property
    def bootfile(self) -> str | None:
        """Option 67, else the file field."""
        raw = self.options.get(67) or self.file
        return raw.decode("latin-1").rstrip("\0") if raw else None

    @property
    def vendor_options(self) -> dict[int, bytes]:
        """Decoded option 43."""
        return decode_vendor_options(self.options.get(43, b""))


class DhcpClient:
    """DISCOVER → OFFER → REQUEST → ACK against one server, bounded in tries and time."""

    __test__ = False

    def __init__(
        self,
        server: tuple[str, int],
        mac: str,
        *,
        vendor_class: str | None = None,
        hostname: str | None = None,
        param_request_list: bytes = bytes([1, 3, 6, 15, 42, 43, 66, 67, 150]),
        extra_options: dict[int, bytes] | None = None,
        timeout: float = 2.0,
        retries: int = 3,
    ) -> None:
        self.server = server
        self.chaddr = bytes.fromhex(re.sub(r"[^0-9A-Fa-f]", "", mac))
        self.options = {55: param_request_list, **(extra_options or {})}
        if vendor_class is not None:
            self.options[60] = vendor_class.encode()
        if hostname is not None:
            self.options[12] = hostname.encode()
        self.options[61] = b"\x01" + self.chaddr
        self.timeout = timeout
        self.retries = retries

    def _exchange(self, sock: socket.socket, message: DhcpMessage, want: int) -> DhcpMessage:
        for _ in range(self.retries):
            sock.sendto(message.encode(), self.server)
            try:
                while True:
                    data, _ = sock.recvfrom(MAX_PACKET * 4)
                    try:
                        reply = DhcpMessage.decode(data)
                    except DhcpDecodeError:
                        continue
                    if reply.xid == message.xid and reply.msg_type in (want, NAK):
                        if reply.msg_type == NAK:
                            raise ConnectionRefusedError("DHCP NAK")
                        return reply
            except TimeoutError:
                continue
        raise TimeoutError(f"no DHCP answer from {self.server} after {self.retries} tries")

    def obtain_lease(self) -> Lease:
        """Run the four-message exchange; TimeoutError or ConnectionRefusedError on failure."""
        xid = random.getrandbits(32)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(self.timeout)
            discover = DhcpMessage(1, xid, self.chaddr, {53: bytes([DISCOVER]), **self.options})
            offer = self._exchange(sock, discover, OFFER)
            request_opts = {
                53: bytes([REQUEST]),
                50: socket.inet_aton(offer.yiaddr),
                54: offer.options.get(54, b""),
                **self.options,
            }
            ack = self._exchange(sock, DhcpMessage(1, xid, self.chaddr, request_opts), ACK)
        return Lease(
            ack.yiaddr,
            socket.inet_ntoa(ack.options.get(54, b"\0\0\0\0")[:4]),
            ack.options,
            ack.siaddr,
            ack.file,
        )


# --- server configuration (ISC dhcpd subset) -----------------------------------------------


@dataclass
class VendorClass:
    """A ``class`` of the dhcpd configuration."""

    name: str
    matches: list[tuple[str, int, str]]  # (kind, length, text): "eq", "prefix" or "suffix"
    options: dict[str, str]
    source: str

    def match(self, vendor_class: str) -> bool:
        """Whether a phone sending *vendor_class* (option 60) falls in this class."""
        for kind, length, text in self.matches:
            if kind == "eq" and vendor_class == text:
                return True
            if kind == "prefix" and vendor_class[:length] == text:
                return True
            if kind == "suffix" and vendor_class[-length:] == text:
                return True
        return False


@dataclass
class MacSubclass:
    """A ``subclass "…" 1:<prefix>`` of the dhcpd configuration: options by MAC prefix.

    *options* apply to every phone with the prefix; each ``(condition, options)`` of
    *conditional* applies when the condition on the vendor class holds.
    """

    prefix: str  # "00:04:13", lower case
    options: dict[str, str]
    conditional: list[tuple[str, dict[str, str]]]
    source: str

    def options_for(self, mac: str, vendor_class: str | None) -> dict[str, str] | None:
        """The options for a phone (None when its MAC lacks the prefix)."""
        if not mac.lower().startswith(self.prefix):
            return None
        options = dict(self.options)
        for condition, opts in self.conditional:
            if evaluate_condition(condition, vendor_class):
                options.update(opts)
        return options


_COND_NOT_EXISTS = re.compile(r"^not\s+exists\s+vendor-class-identifier$")
_COND_EQ = re.compile(r'^(?:option\s+)?vendor-class-identifier\s*=\s*"([^"]*)"$')
_COND_SUBSTR = re.compile(
    r"^(not\s*)?\(?\s*substring\s*\(\s*option\s+vendor-class-identifier\s*,\s*0\s*,"
    r'\s*(\d+)\s*\)\s*=\s*"([^"]*)"\s*\)?$'
)


class UnknownCondition(ValueError):
    """A dhcpd ``if`` condition outside the subset Wazo's configuration uses."""


def evaluate_condition(condition: str, vendor_class: str | None) -> bool:
    """Evaluate the ``if`` conditions Wazo's dhcpd files use (``or`` of simple tests)."""
    for term in re.split(r"\s+or\s+", condition.strip()):
        term = term.strip()
        if _COND_NOT_EXISTS.match(term):
            if vendor_class is None:
                return True
            continue
        eq = _COND_EQ.match(term)
        if eq:
            if vendor_class is not None and vendor_class == eq.group(1):
                return True
            continue
        sub = _COND_SUBSTR.match(term)
        if sub:
            # dhcpd: a test on a missing option is false, and so is its negation
            if vendor_class is None:
                continue
            equal = vendor_class[: int(sub.group(2))] == sub.group(3)
            if equal != bool(sub.group(1)):
                return True
            continue
        raise UnknownCondition(term)
    return False


def _statements(body: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for statement in body.split(";"):
        statement = statement.strip()
        if not statement or statement.startswith(("log", "match")):
            continue
        m = _OPT.match(statement + ";")
        if m:
            options[m.group(1)] = m.group(2).strip().strip('"')
    return options


_CLASS = re.compile(r'(?<!sub)class\s+"([^"]+)"\s*\{')
_SUBCLASS = re.compile(r'subclass\s+"[^"]+"\s+1:([0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){0,5})\s*\{')
_IF = re.compile(r"\bif\s+(.+?)\s*\{", re.S)
_SUBSTR = re.compile(
    r'substring\s*\(\s*option\s+vendor-class-identifier\s*,\s*0\s*,\s*(\d+)\s*\)\s*=\s*"([^"]*)"'
)
_EQ = re.compile(r'option\s+vendor-class-identifier\s*=\s*"([^"]*)"')
_SUFFIX = re.compile(
    r'suffix\s*\(\s*option\s+vendor-class-identifier\s*,\s*(\d+)\s*\)\s*=\s*"([^"]*)"'
)


def _unescape(text: str) -> str:
    """dhcpd string escapes: ``\\x00`` (Cisco's trailing NUL), ``\\"`` and ``\\\\``."""
    return re.sub(
        r"\\(x[0-9a-fA-F]{2}|.)",
        lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "x" else m.group(1),
        text,
    )


_OPT = re.compile(r"^\s*(?:option\s+)?([\w.-]+)\s*=?\s*(.+?);\s*$")


@dataclass
class DhcpConfig:
    """Vendor classes read from a dhcpd configuration directory, with warnings."""

    classes: list[VendorClass] = field(default_factory=list)
    subclasses: list[MacSubclass] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, path: Path) -> DhcpConfig:
        """Read a file or every ``*.conf`` below a directory."""
        config = cls()
        files = sorted(Path(path).rglob("*.conf")) if Path(path).is_dir() else [Path(path)]
        for file in files:
            config._parse_text(file.read_text(encoding="utf-8", errors="replace"), str(file))
        return config

    @staticmethod
    def _block_end(text: str, start: int) -> int:
        depth, i = 1, start
        while i < len(text) and depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        return i

    def _parse_text(self, text: str, source: str) -> None:
        text = re.sub(r"#[^\n]*", "", text)
        groups: list[tuple[int, int, dict[str, str]]] = []
        for group in re.finditer(r"\bgroup\s*\{", text):
            end = self._block_end(text, group.end())
            # Group-level statements are those before its first nested block.
            head = text[group.end() : end - 1].split("{", 1)[0].rsplit(";", 1)[0]
            opts = {}
            for statement in head.split(";"):
                m = _OPT.match(statement.strip() + ";")
                if m and not statement.strip().startswith("class"):
                    opts[m.group(1)] = m.group(2).strip().strip('"')
            groups.append((group.start(), end, opts))
        for match in _CLASS.finditer(text):
            i = self._block_end(text, match.end())
            body = text[match.end() : i - 1]
            line = text.count("\n", 0, match.start()) + 1
            matches: list[tuple[str, int, str]] = [
                ("prefix", int(n), _unescape(s)) for n, s in _SUBSTR.findall(body)
            ]
            matches += [("suffix", int(n), _unescape(s)) for n, s in _SUFFIX.findall(body)]
            matches += [("eq", 0, _unescape(s)) for s in _EQ.findall(body)]
            options: dict[str, str] = {}
            for start, end, group_opts in groups:
                if start < match.start() < end:
                    options.update(group_opts)
            for statement in body.split(";"):
                statement = statement.strip()
                if not statement or statement.startswith(("match", "log", "or", "and")):
                    continue
                m = _OPT.match(statement + ";")
                if m:
                    options[m.group(1)] = m.group(2).strip().strip('"')
                else:
                    self.warnings.append(f"{source}:{line}: unhandled statement {statement[:60]!r}")
            if not matches and not re.search(r"match\s+substring\s*\(\s*hardware", body):
                self.warnings.append(
                    f"{source}:{line}: class {match.group(1)!r} has no vendor match"
                )
            self.classes.append(VendorClass(match.group(1), matches, options, f"{source}:{line}"))
        for match in _SUBCLASS.finditer(text):
            self._parse_subclass(text, match, source)

    def _parse_subclass(self, text: str, match: re.Match[str], source: str) -> None:
        end = self._block_end(text, match.end())
        body = text[match.end() : end - 1]
        where = f"{source}:{text.count(chr(10), 0, match.start()) + 1}"
        conditional: list[tuple[str, dict[str, str]]] = []
        plain = ""
        pos = 0
        for found in _IF.finditer(body):
            if found.start() < pos:
                continue  # inside an if block already consumed
            block_end = self._block_end(body, found.end())
            plain += body[pos : found.start()]
            pos = block_end
            condition = " ".join(found.group(1).split())
            try:
                evaluate_condition(condition, None)
            except UnknownCondition as exc:
                self.warnings.append(f"{where}: unhandled condition {str(exc)[:60]!r}")
                continue
            conditional.append((condition, _statements(body[found.end() : block_end - 1])))
        plain += body[pos:]
        self.subclasses.append(
            MacSubclass(match.group(1).lower(), _statements(plain), conditional, where)
        )

    def mac_options(self, mac: str, vendor_class: str | None) -> dict[str, str]:
        """Options the MAC-prefix subclasses give a phone."""
        options: dict[str, str] = {}
        for subclass in self.subclasses:
            found = subclass.options_for(mac, vendor_class)
            if found is not None:
                options.update(found)
        return options

    def matched_class(self, vendor_class: str) -> VendorClass | None:
        """The first class matching a vendor class identifier."""
        return next((c for c in self.classes if c.match(vendor_class)), None)


# --- server ---------------------------------------------------------------------------------


class DhcpServer:
    """A loopback DHCP server with Wazo's vendor classes and provd's dhcpinfo hook."""

    __test__ = False

    def __init__(
        self,
        config: DhcpConfig | None = None,
        *,
        tftp_server: str = "127.0.0.1",
        http_url: str | None = None,
        provd_url: str | None = None,
        provd_token: str | None = None,
        on_commit: Callable[[dict[str, Any]], None] | None = None,
        network: str = "127.1.0.0/16",
    ) -> None:
        self.config = config or DhcpConfig()
        self.tftp_server = tftp_server
        self.http_url = http_url
        self.provd_url = provd_url
        self.provd_token = provd_token
        self.on_commit = on_commit
        self._hosts = ipaddress.ip_network(network).hosts()
        self.leases: dict[str, str] = {}
        self.stats: Counter[str] = Counter()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        self.server_id = "127.0.0.1"

    def start(self) -> DhcpServer:
        """Bind a free loopback port and serve in a background thread."""
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.address = self._sock.getsockname()
        self._thread = threading.Thread(target=self._serve, name="dhcp-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> DhcpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(MAX_PACKET * 4)
            except TimeoutError:
                continue
            except OSError:
                return
            self.stats["received"] += 1
            try:
                message = DhcpMessage.decode(data)
            except DhcpDecodeError as exc:
                self.stats[f"dropped:{exc}"] += 1
                continue
            reply = self.handle(message)
            if reply is not None:
                self._sock.sendto(reply.encode(), peer)

    def _options_for(self, message: DhcpMessage) -> dict[int, bytes]:
        options: dict[int, bytes] = {
            54: socket.inet_aton(self.server_id),
            51: struct.pack("!I", 3600),
            1: socket.inet_aton("255.255.0.0"),
        }
        vendor_opts: dict[int, bytes] = {}
        raw_vendor = message.options.get(60)
        vendor = raw_vendor.decode("latin-1") if raw_vendor is not None else None
        matched = self.config.matched_class(vendor) if vendor else None
        given: dict[str, str] = {}
        if matched is not None:
            self.stats[f"class:{matched.name}"] += 1
            given.update(matched.options)
        by_mac = self.config.mac_options(message.mac, vendor)
        if by_mac:
            self.stats["mac-prefix"] += 1
            given.update(by_mac)
        if given:
            for key, value in given.items():
                resolved = self._resolve(value)
                if key.endswith("tftp-server-name"):
                    options[66] = resolved.encode()
                elif key in ("filename", "bootfile-name"):
                    options[67] = resolved.encode()
                elif key.endswith(".cfg-server-name"):
                    vendor_opts[2] = resolved.encode()
        if vendor_opts:
            options[43] = encode_vendor_options(vendor_opts)
        options.setdefault(66, self.tftp_server.encode())
        options[150] = socket.inet_aton(self.tftp_server.split(":")[0])
        return options

    def _resolve(self, value: str) -> str:
        concat = re.fullmatch(r"concat\((.*)\)", value.strip())
        if concat:
            parts = [p.strip() for p in concat.group(1).split(",")]
            return "".join(self._resolve(p) for p in parts)
        if "VOIP.http-server-uri" in value:
            return (self.http_url or "").rstrip("/")
        if "VOIP.tftp-server-name" in value:
            return self.tftp_server
        return value.strip().strip('"')

    def handle(self, message: DhcpMessage) -> DhcpMessage | None:
        """The reply to one request (None when there is nothing to answer)."""
        if message.op != 1:
            self.stats["dropped:not a request"] += 1
            return None
        mac = message.mac
        if message.msg_type == DISCOVER:
            ip = self.leases.get(mac) or str(next(self._hosts))
            self.leases[mac] = ip
            self.stats["offers"] += 1
            opts = {53: bytes([OFFER]), **self._options_for(message)}
            return DhcpMessage(
                2, message.xid, message.chaddr, opts, yiaddr=ip, siaddr=self.server_id
            )
        if message.msg_type == REQUEST:
            wanted = message.options.get(50)
            leased = self.leases.get(mac)
            if leased is None or (wanted and socket.inet_ntoa(wanted[:4]) != leased):
                self.stats["naks"] += 1
                return DhcpMessage(2, message.xid, message.chaddr, {53: bytes([NAK])})
            self.stats["acks"] += 1
            opts = {53: bytes([ACK]), **self._options_for(message)}
            self._commit(leased, mac, message)
            return DhcpMessage(
                2, message.xid, message.chaddr, opts, yiaddr=leased, siaddr=self.server_id
            )
        if message.msg_type == RELEASE:
            self.leases.pop(mac, None)
            return None
        self.stats["dropped:unhandled type"] += 1
        return None

    def _commit(self, ip: str, mac: str, message: DhcpMessage) -> None:
        # Wazo's hook sends each option as its 3-digit code and dot-separated hex bytes.
        options = [
            f"{code:03d}" + ".".join(f"{b:02x}" for b in value)
            for code, value in sorted(message.options.items())
        ]
        info = {"op": "commit", "ip": ip, "mac": mac, "options": options}
        if self.on_commit is not None:
            self.on_commit(info)
        if self.provd_url:
            body = json.dumps({"dhcp_info": info}).encode()
            headers = {"Content-Type": "application/vnd.proformatique.provd+json"}
            if self.provd_token:
                headers["X-Auth-Token"] = self.provd_token
            req = urllib.request.Request(
                self.provd_url.rstrip("/") + "/dev_mgr/dhcpinfo",
                data=body,
                method="POST",
                headers=headers,
            )
            try:
                with urllib.request.urlopen(req, timeout=5):
                    self.stats["commits_pushed"] += 1
            except OSError:
                self.stats["push_errors"] += 1
