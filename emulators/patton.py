"""Patton SmartNode FXS gateways (SN4112-SN4332): a SmartNode CLI configuration over HTTP.

DHCP: option 60 ``SN4112/JS/EUI`` (Wazo's classes match its first six characters) gets option
66 ``<provd>``; a SmartNode without option 60 is known by MAC prefix and gets
``<provd>/$(system.mac).cfg``.  The unit fetches ``<server>/<mac>.cfg`` (lower-case MAC,
``$(system.mac)`` expanded).  User-Agent ``SmartNode (Model:SN4112/JS/EUI; Serial:<MAC>;
Software Version:R6.11 2019-07-02 H323 SIP FXS FXO; Hardware Version:4.4)``.

The file is CLI text: a context line, then its commands indented two spaces per level.  The
SIP line of FXS port *n* (line *n* + 1) is the ``subscriber-number`` of ``interface fxs
IF_FXS<n>``, registered by the ``identity`` of that name (``registrar <ip> <port>``) with the
password of the matching ``username <user> password <secret>`` of the authentication
service.  Odd indentation or template residue (``{{``, ``{%``) is a well-formedness error.

An FXS port has no display: the plugin configures no display name, so :meth:`line_matches`
compares user names only.  Firmware (``profile provisioning PF_PROVISIONING_FIRMWARE`` with
``location 1 $(dhcp.66)/sn4110/bw``) names a directory of images whose names are the
unit's own: upgrades are not emulated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulators.phone import Line, Phone


class PattonPhone(Phone):
    """A Patton SmartNode."""

    vendor = "patton"
    oui = "00:a0:ba"

    _config_url: str | None = None

    def user_agent(self) -> str:
        version = self.state.firmware_version.lstrip("Rr")
        return (
            f"SmartNode (Model:{self.model}/JS/EUI; Serial:{self.mac12}; Software Version:"
            f"R{version} 2019-07-02 H323 SIP FXS FXO; Hardware Version:4.4)"
        )

    def vendor_class(self) -> str:
        return f"{self.model}/JS/EUI"

    def provisioning_server(self, lease: Any) -> str | None:
        value = lease.tftp_server
        if not value or not value.startswith("http"):
            return None
        value = str(value).replace("$(system.mac)", self.mac12.lower())
        if value.endswith(".cfg"):
            self._config_url = value
            return value.rsplit("/", 1)[0] + "/"
        return value.rstrip("/") + "/"

    def provision(self) -> None:
        name = self._config_url or f"{self.mac12.lower()}.cfg"
        data = self.http_get(name)
        if data is None:
            self.state.errors.append(f"{name}: mandatory per-device file not fetched")
            return
        short = name.rsplit("/", 1)[-1]
        contexts: list[str] = []  # the enclosing command at each indentation level
        passwords: dict[str, str] = {}
        registrars: dict[str, str] = {}
        ports: dict[str, int] = {}
        for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            text = raw.rstrip()
            if not text.strip() or text.lstrip().startswith(("#", "!")):
                continue
            indent = len(text) - len(text.lstrip(" "))
            if indent % 2 or "{{" in text or "{%" in text or "\t" in text:
                self.state.wellformed_errors.append(
                    f"{short}:{number}: not a CLI command line: {text.strip()[:60]!r}"
                )
                continue
            level = indent // 2
            contexts = [*contexts[:level], text.strip()]
            words = text.split()
            parent = contexts[level - 1] if level else ""
            if words[0] == "subscriber-number" and len(words) == 2:
                port = re.fullmatch(r"interface fxs IF_FXS(\d+)", parent)
                if port:
                    ports[words[1]] = int(port.group(1)) + 1
            elif words[0] == "username" and len(words) == 4 and words[2] == "password":
                passwords[words[1]] = words[3]
            elif words[0] == "registrar" and len(words) >= 2:
                identity = next((c for c in reversed(contexts) if c.startswith("identity ")), "")
                registrars[identity.removeprefix("identity ")] = words[1]
        for user, line in ports.items():
            self.set_line(
                line, username=user, password=passwords.get(user), registrar=registrars.get(user)
            )

    def line_matches(self, line: Line | None, pushed: Mapping[str, Any]) -> bool:
        return line is not None and line.username == pushed.get("username")
