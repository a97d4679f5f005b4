"""Snom desk phones (D1xx/D3xx/D7xx/D8xx, 3xx/7xx/8xx) and DECT bases (M300-M900) as they
provision over HTTP.

Sequence: ``snom<model>.htm`` (setting files list) and ``snom<model>-<MAC>.htm`` → every listed
settings file → ``<MAC>.xml``; ``firmware_status`` points to a firmware XML whose ``<firmware>``
URL is the image, downloaded and "flashed" when its version differs and ``update_policy``
allows it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from emulators.phone import Phone

_LINE_KEYS = {
    "user_name": "username",
    "user_pass": "password",
    "user_realname": "display_name",
    "user_host": "registrar",
    "user_outbound": "proxy",
}


class SnomPhone(Phone):
    """A Snom phone."""

    vendor = "snom"
    oui = "00:04:13"

    @property
    def is_dect(self) -> bool:
        """M-series DECT bases identify differently (``Snom M900 <version> <mac>``)."""
        return bool(re.fullmatch(r"M\d{3}", self.model))

    def user_agent(self) -> str:
        """Snom's UA carries model, firmware version and MAC."""
        if self.is_dect:
            # as the DECT plugin's extractor documents: lower-case MAC, no "-SIP"
            return (
                f"Mozilla/4.0 (compatible; Snom {self.model} {self.state.firmware_version} "
                f"{self.mac12.lower()})"
            )
        return (
            f"Mozilla/4.0 (compatible; snom{self.model}-SIP {self.state.firmware_version} "
            f"1.1.5-IFX-05.01.12 {self.mac12})"
        )

    def vendor_class(self) -> str:
        return f"snom{self.model}"

    def provision(self) -> None:
        queue = [f"snom{self.model}.htm", f"snom{self.model}-{self.mac12}.htm"]
        seen: set[str] = set()
        while queue:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            data = self.http_get(path)
            if data is None:
                continue
            root = self.parse_xml(path.rsplit("/", 1)[-1], data)
            if root is None:
                continue
            for element in root.iter("file"):
                url = element.get("url")
                if url:
                    queue.append(url)
            self._apply(root)
        if f"{self.mac12}.xml" not in self.state.files:
            data = self.http_get(f"{self.mac12}.xml")
            if data is not None:
                root = self.parse_xml(f"{self.mac12}.xml", data)
                if root is not None:
                    self._apply(root)
        if not self.state.files:
            self.state.errors.append("no provisioning file could be fetched")

    def _apply(self, root: Any) -> None:
        for settings in root.iter("phone-settings"):
            for element in settings:
                if not isinstance(element.tag, str):
                    continue
                idx = element.get("idx")
                key = element.tag + (idx or "")
                value = (element.text or "").strip()
                self.state.settings[key] = value
                if element.tag in _LINE_KEYS and idx and idx.isdigit():
                    self.set_line(int(idx), **{_LINE_KEYS[element.tag]: value})
                elif element.tag == "language":
                    self.state.language = value
                elif element.tag in ("timezone", "utc_offset"):
                    self.state.timezone = value
        for keys in root.iter("functionKeys"):
            for fkey in keys:
                if isinstance(fkey.tag, str):
                    self.state.function_keys[fkey.get("idx", "?")] = (fkey.text or "").strip()
        for element in root.iter("firmware"):
            self.state.settings["firmware_url"] = (element.text or "").strip()

    def firmware_offer(self) -> tuple[str, str] | None:
        status = self.state.settings.get("firmware_status")
        if status and "firmware_url" not in self.state.settings:
            data = self.http_get(status)
            if data is not None:
                root = self.parse_xml(status.rsplit("/", 1)[-1], data)
                if root is not None:
                    self._apply(root)
        url = self.state.settings.get("firmware_url")
        if not url or self.state.settings.get("update_policy") == "never_update_firm":
            return None
        url = url.replace("{mac}", self.mac12)
        version = _version_in(unquote(url))
        return (version, url) if version else None


def _version_in(text: str) -> str | None:
    found = re.findall(r"(?<![\w.])(\d+(?:\.\d+){2,4})(?=-SIP|\.bin|\.swu|-)", text)
    return found[-1] if found else None
