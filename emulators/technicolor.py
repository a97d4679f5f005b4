"""Technicolor (Thomson) ST2022, ST2030 and TB30 phones: INI-style files over HTTP.

DHCP: option 77 (user class) ``Thomson ST2022S``; Wazo's dhcpd answers with option 43
holding, as a plain string, the URL of the model's ``ST2022S.inf``.  That file's ``[config]``
section names ``telcfg`` and ``common_config`` (fetched in turn) and ``config``, the
directory of the per-device file ``<model>S_<MAC>.txt`` (upper-case MAC).  The phones read
ISO-8859-1.  ``telcfg`` is a command script (``set ...``, ``commit`` lines); the others are
``[section]`` headers and ``key=value`` lines; ``;`` and ``#`` start comments in both.  Line *n*:
``TEL<n>Number``, ``DisplayName<n>``, ``regpwd<n>``, ``RegisterServerMP<n>``.  Firmware:
``[application]`` ``fwurl`` names the image; its header gives the version.  User-Agent
``THOMSON ST2022 hw2 fw<version> 00-14-7F-AA-BB-CC`` (``Thomson`` for the TB30).
"""

from __future__ import annotations

import re
from typing import Any

from emulators.phone import Phone

_LINE = re.compile(r"^(TEL(\d+)Number|DisplayName(\d+)|regpwd(\d+)|RegisterServerMP(\d+))$")


class TechnicolorPhone(Phone):
    """A Technicolor phone."""

    vendor = "technicolor"
    oui = "00:14:7f"

    _inf_url: str | None = None

    def user_agent(self) -> str:
        brand = "Thomson" if self.model.startswith("TB") else "THOMSON"
        mac = "-".join(self.mac12[i : i + 2] for i in range(0, 12, 2))
        return f"{brand} {self.model} hw2 fw{self.state.firmware_version} {mac}"

    def vendor_class(self) -> str | None:
        return None

    def user_class(self) -> str:
        return f"Thomson {self.model}S"

    def provisioning_server(self, lease: Any) -> str | None:
        raw = lease.options.get(43, b"").decode("latin-1").rstrip("\0")
        if raw.startswith("http"):
            self._inf_url = raw
            return str(raw.rsplit("/", 1)[0]) + "/"
        return super().provisioning_server(lease)

    def provision(self) -> None:
        inf = self._inf_url or f"{self.model}S.inf"
        if not self._read(inf):
            self.state.errors.append(f"{inf}: not fetched")
            return
        if self.state.settings.get("config.telcfg"):
            self._read(self.state.settings["config.telcfg"], script=True)
        if self.state.settings.get("config.common_config"):
            self._read(self.state.settings["config.common_config"])
        folder = self.state.settings.get("config.config", "")
        device = f"{folder.rstrip('/')}/{self.model}S_{self.mac12}.txt".lstrip("/")
        if not self._read(device):
            self.state.errors.append(f"{device}: mandatory per-device file not fetched")

    def _read(self, name: str, *, script: bool = False) -> bool:
        data = self.http_get(name)
        if data is None:
            return False
        short, section = name.rsplit("/", 1)[-1], ""
        for number, raw in enumerate(data.decode("latin-1").splitlines(), start=1):
            text = raw.strip()
            if not text or text.startswith(("#", ";")):
                continue
            if script:  # "set ...", "activate", "commit"
                if not re.fullmatch(r"[a-z]+(?:\s.*)?", text):
                    self.state.wellformed_errors.append(
                        f"{short}:{number}: not a command: {text[:60]!r}"
                    )
                continue
            header = re.fullmatch(r"\[(\w+)\]", text)
            if header:
                section = header.group(1)
                continue
            key, found, value = text.partition("=")
            if not found or not re.fullmatch(r"[\w-]+", key):
                self.state.wellformed_errors.append(
                    f"{short}:{number}: not 'key=value': {text[:60]!r}"
                )
                continue
            self.state.settings[f"{section}.{key}"] = value
            line = _LINE.match(key)
            if line and section == "sip":
                index = next(int(g) for g in line.groups()[1:] if g)
                field = {"T": "username", "D": "display_name", "r": "password", "R": "registrar"}
                if value:
                    self.set_line(index, **{field[key[0]]: value})
        return True

    def firmware_offer(self) -> tuple[str, str] | None:
        url = self.state.settings.get("application.fwurl")
        return self.image_offer(url) if url else None
