"""Avaya phones: J100 (J129-J189) and 1220/1230 IP, text files over HTTP.

J100: the file server comes from option 66 when it is an HTTP URL (Wazo's dhcpd has no Avaya
class nor prefix, so a J100 gets none and says so).  The phone runs the upgrade script
``J100Supgrade.txt`` as the J100 admin guide describes a settings file: ``IF $MODEL4 SEQ J179
GOTO <label>`` (labels are ``# <label>`` lines), ``GOTO``, ``SET NAME VALUE``, ``GET <file>``
(``$MACADDR`` = lower-case MAC); a file it GETs is read as more of the script, and once one
is read the rest of the file that named it is not; any other line is a comment (no error:
the guide says so, and names no line length limit).  The guide wants a value holding spaces
in double quotes: one that is not is a well-formedness error (what the phone then reads is
not documented; the emulator keeps the whole value).  Line 1: ``SIP_USER_ACCOUNT``
(``user@domain``), ``DISPLAY_NAME``, ``FORCE_SIP_PASSWORD``, ``SIPPROXYSRVR``.  Firmware:
``APPNAME`` names the image, its version in the name (``FW_S_J179_R4_1_3_0_6.bin``).
User-Agent ``Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-<version> (MAC:<mac>)``.

1220/1230 IP (SIP firmware): option 60 ``Nortel-SIP-...``; ``1220SIP.cfg`` holds sections
``[DEVICE_CONFIG]``, ``[FW]`` and ``[USER_CONFIG]`` with ``VERSION``, ``FILENAME``,
``DOWNLOAD_MODE``; the phone then fetches the device file and the user file
(``SIP<MAC>.cfg`` when no ``FILENAME`` is given), ``KEY VALUE`` lines (keys may have lower
case letters: ``AVAYA_AUTOMATIC_QoS``).  Line 1: ``AUTOLOGIN_ID_KEY01`` (``user@domain``),
``AUTOLOGIN_PASSWD_KEY01``, ``SERVER_IP1_1``.  These phones take no display name from their
files (the admin guide's auto-login names only an ID, an auth ID and a password), so
:meth:`line_matches` compares the user alone.  Firmware:
``[FW]`` ``VERSION 04011300`` and ``FILENAME``.  User-Agent ``AVAYA/SIP12x0\\x14/<version>``
(a control byte, no model nor MAC: provd reads the model from ``1220SIP.cfg`` and the MAC from
``SIP<MAC>.cfg``).  The 1200 admin guide caps a line at 80 characters: a longer line is a
well-formedness error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulators.phone import Line, Phone

MAX_SCRIPT_STEPS = 200
MAX_GET_DEPTH = 4
MAX_LINE_12X0 = 80
_J100 = re.compile(r"^J1\d\d$")
_KEY_12X0 = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


class AvayaPhone(Phone):
    """An Avaya J100 or 1200-series phone."""

    vendor = "avaya"
    oui = "c8:1f:ea"
    _steps = 0  # J100 script lines interpreted in this boot, all files together

    @property
    def j100(self) -> bool:
        """A J100 (script-driven) rather than a 1220/1230 (section files)."""
        return bool(_J100.match(self.model))

    @classmethod
    def oui_for(cls, model: str) -> str:
        return cls.oui if _J100.match(model) else "00:24:00"  # the 12x0 are Nortel's

    def user_agent(self) -> str:
        if self.j100:
            return (
                f"Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/{self.model}-"
                f"{self.state.firmware_version} (MAC:{self.mac12.lower()})"
            )
        return f"AVAYA/SIP12x0\x14/{self.state.firmware_version}"

    def vendor_class(self) -> str | None:
        return None if self.j100 else f"Nortel-SIP-{self.model}"

    def line_matches(self, line: Line | None, pushed: Mapping[str, Any]) -> bool:
        if self.j100:
            return super().line_matches(line, pushed)
        return line is not None and line.username == pushed.get("username")

    def provision(self) -> None:
        if self.j100:
            self._steps = 0
            if not self._run_script("J100Supgrade.txt", depth=0):
                self.state.errors.append("J100Supgrade.txt: upgrade script not fetched")
            if f"{self.mac12.lower()}.cfg" not in self.state.files:
                self.state.errors.append(f"{self.mac12.lower()}.cfg: not fetched")
            return
        first = f"{self.model.removesuffix('IP')}SIP.cfg"
        sections = self._read(first)
        self.state.settings.update(
            {f"{s}.{k}": v for s, values in sections.items() for k, v in values.items()}
        )
        self._read(sections.get("DEVICE_CONFIG", {}).get("FILENAME", ""))
        user = sections.get("USER_CONFIG", {}).get("FILENAME") or f"SIP{self.mac12}.cfg"
        if not self._read(user):
            self.state.errors.append(f"{user}: mandatory per-device file not fetched")

    def _run_script(self, name: str, *, depth: int) -> bool:
        """Interpret a J100 settings file; whether it was served."""
        data = self.http_get(name)
        if data is None:
            return False
        lines = [raw.strip() for raw in data.decode("utf-8", "replace").splitlines()]
        labels = {text[2:].strip(): i for i, text in enumerate(lines) if text.startswith("# ")}
        values = {"$MODEL4": self.model, "$MACADDR": self.mac12.lower(), "$HWVERS": "4"}
        pc = 0
        while pc < len(lines):
            self._steps += 1
            if self._steps > MAX_SCRIPT_STEPS:
                self.state.errors.append(f"{name}: gave up after {MAX_SCRIPT_STEPS} script steps")
                return True
            words, pc = lines[pc].split(), pc + 1
            command = words[0] if words and not words[0].startswith("#") else ""
            if command == "GOTO" and len(words) == 2:
                if words[1] not in labels:
                    return True  # no such tag: the rest of the file is ignored
                pc = labels[words[1]]
            elif command == "IF" and len(words) == 6 and words[2] == "SEQ":
                known = words[1] in values
                if known and values[words[1]] == words[3] and words[5] in labels:
                    pc = labels[words[5]]
            elif command in ("SET", "ADD") and len(words) >= 3:
                value = lines[pc - 1].split(None, 2)[2].strip()
                if len(words) > 3 and not (len(value) >= 2 and value[0] == value[-1] == '"'):
                    self.state.wellformed_errors.append(
                        f"{name}:{pc}: a value with spaces not in double quotes: {value[:60]!r}"
                    )
                self._set(words[1], value, add=command == "ADD")
            elif command == "GET" and len(words) == 2 and depth < MAX_GET_DEPTH:
                target = words[1].replace("$MACADDR", values["$MACADDR"])
                if self._run_script(target, depth=depth + 1):
                    return True  # a file obtained ends this one
        return True

    def _set(self, key: str, value: str, *, add: bool = False) -> None:
        value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
        if add and self.state.settings.get(key):
            value = f"{self.state.settings[key]},{value}"
        self._apply(key, value)

    def _read(self, name: str) -> dict[str, dict[str, str]]:
        """Fetch and apply a 1200-series settings file; its sections (``{}`` if not served)."""
        data = self.http_get(name) if name else None
        if data is None:
            return {}
        sections: dict[str, dict[str, str]] = {}
        section = ""
        for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if len(raw) > MAX_LINE_12X0:
                self.state.wellformed_errors.append(
                    f"{name}:{number}: more than {MAX_LINE_12X0} characters"
                )
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            header = re.fullmatch(r"\[(\w+)\]", text)
            if header:
                section = header.group(1)
                continue
            words = text.split(None, 1)
            if len(words) != 2 or not _KEY_12X0.fullmatch(words[0]):
                self.state.wellformed_errors.append(f"{name}:{number}: not 'KEY VALUE'")
                continue
            key, value = words
            sections.setdefault(section, {})[key] = value
            self._apply(key, value.strip().strip('"'))
        return sections

    def _apply(self, key: str, value: str) -> None:
        self.state.settings[key] = value
        if key in ("SIP_USER_ACCOUNT", "AUTOLOGIN_ID_KEY01"):
            self.set_line(1, username=value.split("@", 1)[0])
        elif key in ("FORCE_SIP_PASSWORD", "AUTOLOGIN_PASSWD_KEY01"):
            self.set_line(1, password=value)
        elif key == "DISPLAY_NAME":
            self.set_line(1, display_name=value)
        elif key in ("SIPPROXYSRVR", "SERVER_IP1_1"):
            self.set_line(1, registrar=value)

    def firmware_offer(self) -> tuple[str, str] | None:
        if self.j100:
            image = self.state.settings.get("APPNAME", "")
            found = re.search(r"_R(\d+(?:_\d+)+)\.bin$", image)
            version = found.group(1).replace("_", ".") if found else None
        else:
            image = self.state.settings.get("FW.FILENAME", "")
            digits = self.state.settings.get("FW.VERSION", "")
            pairs = re.findall(r"\d\d", digits) if re.fullmatch(r"\d{8}", digits) else []
            version = ".".join(pairs) or None
        if (
            not image
            or version is None
            or _numbers(version) == _numbers(self.state.firmware_version)
        ):
            return None
        return self.named_offer(version, image)


def _numbers(version: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", version)]
