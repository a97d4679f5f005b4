"""What a tree's dhcpd configuration answers one phone: the class or MAC-prefix subclass it
falls in, and the provisioning URL the phone reads from the answer.

The answer is asked of a private loopback DHCP server holding the configuration (one real
DISCOVER/REQUEST exchange, no provd behind it) and read by the phone's emulator itself, so
vendor option spaces and the phones' own ways of reading option 66, 114 or 43 count as they
do at boot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulators.dhcp import DhcpConfig
    from emulators.phone import Phone

HTTP_URL = "http://127.0.0.1:8667"
"""The provd HTTP URL the private server hands out (``VOIP.http-server-uri``)."""


@dataclass
class DhcpAnswer:
    """What the configuration gives one phone."""

    url: str | None  # the provisioning server the phone reads ("http://…/", "tftp://…")
    matched: list[str] = field(default_factory=list)  # 'class "SnomD120" (…/snom.conf:8)'
    by_prefix_only: bool = False  # only MAC-prefix subclasses matched: nothing model-specific
    options: dict[str, str] = field(default_factory=dict)  # the dhcpd options given

    def describe(self) -> str:
        """``class "X" (file:line)`` and/or ``MAC prefix 00:04:13 (file:line)``."""
        return " and ".join(self.matched) or "no class"


def dhcp_answer(config: DhcpConfig, phone: Phone, http_url: str = HTTP_URL) -> DhcpAnswer:
    """The answer *config* gives *phone* (read by *phone*, which it may remember: pass a phone
    that does not boot afterwards)."""
    # Kept lazy: the emulators are not needed to start pytest.
    from emulators.dhcp import DhcpClient, DhcpServer

    vendor_class, user_class = phone.vendor_class(), phone.user_class()
    answer = DhcpAnswer(None)
    found = config.matched_class(vendor_class, user_class) if vendor_class or user_class else None
    if found is not None:
        answer.matched.append(f'class "{found.name}" ({found.source})')
        answer.options.update(found.options)
    for subclass in config.subclasses:
        given = subclass.options_for(phone.mac, vendor_class)
        if given:
            answer.matched.append(f"MAC prefix {subclass.prefix} ({subclass.source})")
            answer.options.update(given)
    answer.by_prefix_only = found is None and bool(answer.matched)
    if not answer.options:
        return answer
    with DhcpServer(config, http_url=http_url) as server:
        lease = DhcpClient(
            server.address,
            phone.mac,
            vendor_class=vendor_class,
            user_class=user_class,
            hostname=phone.model,
        ).obtain_lease()
    answer.url = phone.provisioning_server(lease)
    if answer.url is None and phone.uses_tftp and lease.tftp_server:
        if any(key.endswith("tftp-server-name") for key in answer.options):
            answer.url = f"tftp://{lease.tftp_server}"
    return answer


def config_file_for(config: DhcpConfig, phones: list[Phone], dhcp_dir: Path) -> str:
    """The configuration file a vendor's classes live in: the one holding the most classes or
    subclasses matching *phones*, else the dhcp directory."""
    counts: dict[str, int] = {}
    for phone in phones:
        found = config.matched_class(phone.vendor_class(), phone.user_class())
        sources = [found.source] if found is not None else []
        sources += [s.source for s in config.subclasses if s.options_for(phone.mac, None)]
        for source in sources:
            path = source.rsplit(":", 1)[0]
            counts[path] = counts.get(path, 0) + 1
    return max(counts, key=lambda path: (counts[path], path)) if counts else str(dhcp_dir)
