"""Avaya phones: J100 (J129-J189) and 1220/1230 IP, text files over HTTP.

J100: the file server comes from option 66 when it is an HTTP URL (Wazo's dhcpd has no Avaya
class nor prefix, so a J100 gets none and says so).  The phone runs the upgrade script
``J100Supgrade.txt``: ``IF $MODEL4 SEQ J179 GOTO <label>`` (labels are ``# <label>``
lines), ``GOTO``, ``SET APPNAME <image>`` and ``GET <file>`` (``$MACADDR`` = lower-case MAC);
then each settings file it GETs (``SET NAME VALUE`` lines).  Line 1: ``SIP_USER_ACCOUNT``
(``user@domain``), ``DISPLAY_NAME``, ``FORCE_SIP_PASSWORD``, ``SIPPROXYSRVR``.  Firmware:
``APPNAME`` names the image, its version in the name (``FW_S_J179_R4_1_3_0_6.bin``).
User-Agent ``Mozilla/4.0 (compatible; MSIE 6.0) AVAYA/J179-<version> (MAC:<mac>)``.

1220/1230 IP (SIP firmware): option 60 ``Nortel-SIP-...``; ``1220SIP.cfg`` holds sections
``[DEVICE_CONFIG]``, ``[FW]`` and ``[USER_CONFIG]`` with ``VERSION``, ``FILENAME``,
``DOWNLOAD_MODE``; the phone then fetches the device file and the user file
(``SIP<MAC>.cfg`` when no ``FILENAME`` is given), ``KEY VALUE`` lines.  Line 1:
``AUTOLOGIN_ID_KEY01`` (``user@domain``), ``AUTOLOGIN_PASSWD_KEY01``, ``SERVER_IP1_1``; these
files carry no display name.  Firmware: ``[FW]`` ``VERSION 04011300`` and ``FILENAME``.
User-Agent ``AVAYA/SIP12x0\\x14/<version>`` (a control byte, no model nor MAC: provd reads
the model from ``1220SIP.cfg`` and the MAC from ``SIP<MAC>.cfg``).  The phones cannot read a
line of 80 characters or more: such lines are well-formedness errors.
"""

from __future__ import annotations

import re

from emulators.phone import Phone

MAX_SCRIPT_STEPS = 200
_J100 = re.compile(r"^J1\d\d$")


class AvayaPhone(Phone):
    """An Avaya J100 or 1200-series phone."""

    vendor = "avaya"
    oui = "c8:1f:ea"

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

    def provision(self) -> None:
        if self.j100:
            self._run_script("J100Supgrade.txt")
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

    def _run_script(self, name: str) -> None:
        data = self.http_get(name)
        if data is None:
            self.state.errors.append(f"{name}: upgrade script not fetched")
            return
        lines = [raw.strip() for raw in data.decode("utf-8", "replace").splitlines()]
        labels = {text[1:].strip(): i for i, text in enumerate(lines) if text.startswith("#")}
        values = {"$MODEL4": self.model, "$MACADDR": self.mac12.lower(), "$HWVERS": "4"}
        pc = 0
        for _ in range(MAX_SCRIPT_STEPS):
            if pc >= len(lines):
                return
            words, pc = lines[pc].split(), pc + 1
            if not words or words[0].startswith("#"):
                continue
            if words[0] == "GOTO" and len(words) == 2 and words[1] in labels:
                pc = labels[words[1]]
            elif words[0] == "IF" and len(words) == 6 and words[2] == "SEQ":
                if values.get(words[1], words[1]) == words[3] and words[5] in labels:
                    pc = labels[words[5]]
            elif words[0] == "SET" and len(words) >= 3:
                self.state.settings[words[1]] = " ".join(words[2:])
            elif words[0] == "GET" and len(words) == 2:
                target = words[1].replace("$MACADDR", values["$MACADDR"])
                self._read(target)
            else:
                self.state.wellformed_errors.append(f"{name}:{pc}: not a script command")
        self.state.errors.append(f"{name}: gave up after {MAX_SCRIPT_STEPS} script steps")

    def _read(self, name: str) -> dict[str, dict[str, str]]:
        """Fetch and apply a settings file; its sections (``{}`` when not served)."""
        data = self.http_get(name) if name else None
        if data is None:
            return {}
        sections: dict[str, dict[str, str]] = {}
        section = ""
        for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if len(raw) >= 80:
                self.state.wellformed_errors.append(f"{name}:{number}: 80 characters or more")
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            header = re.fullmatch(r"\[(\w+)\]", text)
            if header:
                section = header.group(1)
                continue
            words = text.split(None, 2 if text.startswith("SET ") else 1)
            if words[0] == "SET" and len(words) == 3:
                key, value = words[1], words[2]
            elif len(words) == 2 and re.fullmatch(r"[A-Z][A-Z0-9_]*", words[0]):
                key, value = words
            else:
                self.state.wellformed_errors.append(f"{name}:{number}: not 'KEY VALUE'")
                continue
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
