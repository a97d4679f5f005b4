"""The phone state machine every vendor emulator shares.

power on → DHCP (or a provisioning URL given by hand) → the vendor's provisioning fetches →
parse → apply → firmware check → download → "flash" → reboot → provision again (at most
``MAX_REBOOTS`` times).  Everything the phone did is recorded in :class:`PhoneState`: each
request and answer, the settings it applied, its lines, its firmware version, and every error
located by file and line.  "It got its lines" (``provisioned``) and "its files are well-formed"
(``wellformed_errors``) are separate verdicts, because real phones carry on past broken files.
"""

from __future__ import annotations

import http.client
import io
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from emulators.dhcp.client import DhcpClient
from pytest_provd.firmware.image import version_of
from pytest_provd.net import is_loopback_host

MAX_FETCHES = 40
MAX_REBOOTS = 2
TIMEOUT_S = 5.0


@dataclass
class Line:
    """A SIP line as the phone understood it."""

    number: int
    username: str | None = None
    password: str | None = None
    display_name: str | None = None
    registrar: str | None = None
    proxy: str | None = None
    port: str | None = None


@dataclass
class Fetch:
    """One provisioning request and its outcome."""

    proto: str
    path: str
    status: int
    size: int
    seconds: float


@dataclass
class PhoneState:
    """All a phone did and learned during its boots."""

    fetches: list[Fetch] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    lines: dict[int, Line] = field(default_factory=dict)
    firmware_version: str = ""
    flashed: list[str] = field(default_factory=list)
    language: str | None = None
    timezone: str | None = None
    function_keys: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    wellformed_errors: list[str] = field(default_factory=list)
    ip: str | None = None
    reboots: int = 0

    @property
    def provisioned(self) -> bool:
        """Got at least one line with a user name."""
        return any(line.username for line in self.lines.values())

    def describe(self) -> str:
        """A readable summary for assertion messages."""
        fetched = "\n".join(
            f"  {f.proto} {f.path} -> {f.status} ({f.size} B)" for f in self.fetches
        )
        lines = "\n".join(f"  {n}: {vars(line)}" for n, line in sorted(self.lines.items()))
        errors = "\n".join(f"  {e}" for e in self.errors + self.wellformed_errors)
        return (
            f"fetched:\n{fetched or '  nothing'}\nlines:\n{lines or '  none'}\n"
            f"firmware: {self.firmware_version}\nerrors:\n{errors or '  none'}"
        )


class Phone:
    """Base of the vendor emulators: networking, recording, the boot loop."""

    __test__ = False
    vendor = "generic"
    # Wazo's dhcpd gives a provisioning server to some phones by MAC prefix alone, and plugin
    # extractors may look at it: each vendor boots with its own OUI (``oui_for``).
    oui = "02:00:00"  # locally administered: no vendor's
    uses_tftp = False  # whether a plain TFTP server name in option 66 is enough
    # Harness contract, for vendors that do not simply fetch files at boot:
    # needs_synchronize: the plugin pushes the settings at ``dev_mgr/synchronize`` time
    # (after ``boot()``, synchronize the device in provd, then read ``state``; ``close()``).
    # url_by_hand: the user types the provisioning URL (pass ``http_url=`` to the phone).
    needs_synchronize = False
    url_by_hand = False

    @classmethod
    def oui_for(cls, model: str) -> str:
        """The MAC prefix a real phone of *model* carries."""
        return cls.oui

    def __init__(
        self,
        model: str,
        mac: str,
        *,
        version: str = "0.0.1",
        dhcp_server: tuple[str, int] | None = None,
        http_url: str | None = None,
        tftp_address: tuple[str, int] | None = None,
    ) -> None:
        # Capabilities may name a family "T31(P)(G)(W)" or "6920(w)": boot the base model.
        self.model = re.sub(r"\([^)]*\)", "", model)
        self.mac = mac.lower()
        self.dhcp_server = dhcp_server
        self.http_url = http_url
        self.tftp_address = tftp_address
        self.state = PhoneState(firmware_version=version)
        self.ip = "127.0.0.1"
        self._fetch_count = 0  # requests in the current boot (reset by ``boot``)
        self._images: dict[str, bytes] = {}  # firmware read by ``image_offer``, by URL

    # -- identity, overridden per vendor
    @property
    def mac12(self) -> str:
        """MAC without separators, upper case."""
        return self.mac.replace(":", "").upper()

    def user_agent(self) -> str:
        """The User-Agent the real phone sends."""
        return f"{self.vendor}/{self.model}-{self.state.firmware_version}"

    def vendor_class(self) -> str | None:
        """DHCP option 60 the real phone sends (None: it sends none)."""
        return f"{self.vendor}{self.model}"

    def user_class(self) -> str | None:
        """DHCP option 77 the real phone sends (None: it sends none)."""
        return None

    def line_matches(self, line: Line | None, pushed: Mapping[str, Any]) -> bool:
        """Whether *line* is the SIP line *pushed* over REST, as the vendor's plugin means it.

        By default user name and display name are the pushed ones; vendors whose plugins
        deliberately show something else (the number next to the name) say so here.
        """
        return line is not None and (line.username, line.display_name) == (
            pushed.get("username"),
            pushed.get("display_name"),
        )

    def close(self) -> None:
        """Stop what the phone serves (nothing by default); safe to call twice."""

    # -- the state machine
    def boot(self) -> PhoneState:
        """Power on and provision, upgrading firmware when offered; returns the state."""
        for _ in range(MAX_REBOOTS + 1):
            if self.dhcp_server is not None:
                self._dhcp()
            self._fetch_count = 0
            self.provision()
            target = self.firmware_offer()
            if target is None or target[0] == self.state.firmware_version:
                break
            version, url = target
            data = self._images.pop(url, None) or self.http_get(url)
            if data is None:
                self.state.errors.append(f"firmware {url}: download failed")
                break
            self.state.flashed.append(version)
            self.state.firmware_version = version
            self.state.reboots += 1
        # A file read again after a reboot is the same file: say each problem once.
        self.state.errors = list(dict.fromkeys(self.state.errors))
        self.state.wellformed_errors = list(dict.fromkeys(self.state.wellformed_errors))
        return self.state

    def _dhcp(self) -> None:
        assert self.dhcp_server is not None
        client = DhcpClient(
            self.dhcp_server,
            self.mac,
            vendor_class=self.vendor_class(),
            user_class=self.user_class(),
            hostname=self.model,
        )
        lease = client.obtain_lease()
        self.ip = lease.yiaddr
        self.state.ip = lease.yiaddr
        server = self.provisioning_server(lease)
        if server:
            self.http_url = server
        elif not (
            self.http_url
            or self.url_by_hand
            or self.needs_synchronize  # settings come from provd, not from a server
            or (self.uses_tftp and lease.tftp_server)
        ):
            # A real phone has nowhere to fetch from: say why, not only "nothing fetched".
            self.state.errors.append(
                f"DHCP: no provisioning server in the answer: no class of the dhcpd "
                f"configuration matches vendor class {self.vendor_class()!r} or MAC prefix "
                f"{self.mac[:8]}"
            )

    def provisioning_server(self, lease: Any) -> str | None:
        """Where the phone's DHCP answer points it (option 66 by default)."""
        value = lease.tftp_server
        return str(value) if value and value.startswith("http") else None

    def provision(self) -> None:
        """The vendor's fetch sequence (implemented by each vendor)."""
        raise NotImplementedError

    def firmware_offer(self) -> tuple[str, str] | None:
        """``(version, url)`` of the firmware the configuration points to, if any."""
        return None

    def image_offer(self, url: str, *, tftp: bool = False) -> tuple[str, str] | None:
        """``(version, url)`` of the image at *url*, read from its header as the phone reads
        it before flashing; None when not served or carrying no version the phone knows."""
        data = self.tftp_get(url) if tftp else self.http_get(url)
        version = version_of(data) if data is not None else None
        if data is None or version is None:
            return None
        self._images[url] = data
        return version, url

    def named_offer(self, version: str, url: str, *, tftp: bool = False) -> tuple[str, str] | None:
        """``(version, url)`` of an image the configuration names with its version (the
        phone trusts the configuration); None, with an error, when the image is not served."""
        data = self.tftp_get(url) if tftp else self.http_get(url)
        if data is None:
            self.state.errors.append(f"firmware {url} ({version}): not served")
            return None
        self._images[url] = data
        return version, url

    # -- transport
    def url(self, path: str) -> str:
        """*path* resolved against the provisioning server."""
        if path.startswith("http"):
            return path
        base = self.http_url or ""
        return urljoin(base if base.endswith("/") else base + "/", path.lstrip("/"))

    def http_get(self, path: str) -> bytes | None:
        """GET with the phone's User-Agent, from the phone's own address; None if not 200."""
        return self.http_request("GET", path)

    def http_request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> bytes | None:
        """One request with the phone's User-Agent from its own address; None if not 200."""
        if self._budget_spent():
            return None
        url = self.url(path)
        parts = urlsplit(url)
        if parts.hostname is None:
            self.state.errors.append(f"{path}: no provisioning server known to fetch it from")
            return None
        if not is_loopback_host(parts.hostname):
            self.state.errors.append(f"{url}: refusing to fetch outside loopback")
            return None
        start = time.perf_counter()
        conn = http.client.HTTPConnection(
            parts.hostname, parts.port or 80, timeout=TIMEOUT_S, source_address=(self.ip, 0)
        )
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            headers = {"User-Agent": self.user_agent()}
            if content_type:
                headers["Content-Type"] = content_type
            conn.request(method, target or "/", body=body, headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            status = resp.status
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # ValueError: http.client refuses URLs with spaces or control characters.
            self.state.errors.append(f"{url}: {exc}")
            return None
        finally:
            conn.close()
        name = parts.path.rsplit("/", 1)[-1]
        self.state.fetches.append(
            Fetch("http", parts.path, status, len(body), time.perf_counter() - start)
        )
        if status != 200:
            return None
        self.state.files[name] = body
        return body

    def tftp_get(self, name: str) -> bytes | None:
        """TFTP read of *name* from the TFTP server; None when refused."""
        if self._budget_spent() or self.tftp_address is None:
            return None
        import tftpy

        out = io.BytesIO()
        start = time.perf_counter()
        client = tftpy.TftpClient(self.tftp_address[0], self.tftp_address[1], localip=self.ip)
        try:
            client.download(name, out, timeout=2, retries=1)
            status = 200
        except tftpy.TftpException:
            status = 404
        self.state.fetches.append(
            Fetch("tftp", name, status, out.tell(), time.perf_counter() - start)
        )
        if status != 200:
            return None
        self.state.files[name] = out.getvalue()
        return out.getvalue()

    def _budget_spent(self) -> bool:
        self._fetch_count += 1
        if self._fetch_count > MAX_FETCHES:
            self.state.errors.append(f"gave up after {MAX_FETCHES} requests in one boot")
            return True
        return False

    # -- parsing helpers
    def parse_xml(self, name: str, data: bytes) -> Any:
        """Strict parse; on failure record the error and parse again recovering, like phones."""
        from lxml import etree

        try:
            return etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            self.state.wellformed_errors.append(f"{name}:{exc.lineno}: {exc.msg}")
            parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
            return etree.fromstring(data, parser)

    def key_values(self, name: str, data: bytes, sep: str) -> Iterator[tuple[str, str]]:
        """``(key, value)`` of a ``key<sep>value`` text file; blank and ``#`` lines skipped,
        any other line recorded as a well-formedness error with file and line."""
        for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            key, found, value = text.partition(sep)
            if not found:
                shown = f"key{sep} value" if sep == ":" else f"key {sep} value"
                self.state.wellformed_errors.append(
                    f"{name}:{number}: not '{shown}': {text[:60]!r}"
                )
                continue
            yield key.strip(), value.strip()

    def fetch_xml(self, name: str, *, mandatory: bool = False) -> Any:
        """GET and parse *name* (recovering, errors kept); None when not served."""
        data = self.http_get(name)
        if data is None:
            if mandatory:
                self.state.errors.append(f"{name}: mandatory per-device file not fetched")
            return None
        return self.parse_xml(name, data)

    def set_line(self, number: int, **values: str | None) -> None:
        """Record line settings."""
        line = self.state.lines.setdefault(number, Line(number))
        for key, value in values.items():
            if value is not None:
                setattr(line, key, value)


FIRMWARE_VERSION_RE = re.compile(r"(\d+(?:[.\-]\d+){1,4}(?:-SP\d+)?)")
