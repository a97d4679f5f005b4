"""Cisco/Linksys SPA phones and ATAs: flat-profile XML over TFTP or HTTP.

Sequence: ``spa<PSN>.cfg`` → every ``Profile_Rule*`` (``$MA``, ``$MAU``, ``$PSN`` expanded) →
lines from ``User_ID_n_``, ``Password_n_``, ``Display_Name_n_``, ``Proxy_n_``; ``Upgrade_Rule``
names the firmware image.
"""

from __future__ import annotations

import re
from typing import Any

from emulators.phone import Phone


class CiscoSpaPhone(Phone):
    """A Cisco SPA phone."""

    vendor = "cisco"
    oui = "00:0e:08"  # Linksys, the SPA's maker

    @property
    def psn(self) -> str:
        """Product serial name: the model without its ``SPA`` prefix."""
        return re.sub(r"^SPA", "", self.model, flags=re.IGNORECASE)

    def user_agent(self) -> str:
        return f"Cisco/{self.model}-{self.state.firmware_version} ({self.mac12})(CBT1414001A)"

    def vendor_class(self) -> str:
        return f"Cisco {self.model}"

    def provisioning_server(self, lease: Any) -> str | None:
        value = lease.tftp_server
        if value and value.startswith("http"):
            return str(value.rsplit("/", 1)[0] + "/")
        return None

    def _expand(self, rule: str) -> str:
        rule = re.sub(r"^\[[^\]]*\]\s*", "", rule.strip())  # drop "[--key ...]" options
        return (
            rule.replace("$MAU", self.mac12)
            .replace("$MA", self.mac12.lower())
            .replace("$PSN", self.psn)
        )

    def _get(self, path: str) -> bytes | None:
        if self.http_url or path.startswith("http"):
            return self.http_get(path)
        return self.tftp_get(path.lstrip("/"))

    def provision(self) -> None:
        queue = [f"spa{self.psn}.cfg"]
        seen: set[str] = set()
        while queue:
            path = queue.pop(0)
            if not path or path in seen:
                continue
            seen.add(path)
            data = self._get(path)
            if data is None:
                continue
            root = self.parse_xml(path.rsplit("/", 1)[-1], data)
            if root is None:
                continue
            for element in root.iter():
                if not isinstance(element.tag, str) or element is root:
                    continue
                value = (element.text or "").strip()
                self.state.settings[element.tag] = value
                if element.tag.startswith("Profile_Rule") and value:
                    queue.append(self._expand(value))
                line = re.fullmatch(
                    r"(User_ID|Password|Display_Name|Proxy|Outbound_Proxy)_(\d+)_", element.tag
                )
                if line:
                    field = {
                        "User_ID": "username",
                        "Password": "password",
                        "Display_Name": "display_name",
                        "Proxy": "registrar",
                        "Outbound_Proxy": "proxy",
                    }[line.group(1)]
                    self.set_line(int(line.group(2)), **{field: value})
        if not self.state.files:
            self.state.errors.append("no provisioning file could be fetched")

    def _choose(self, rule: str) -> str:
        """Evaluate the ``($SWVER lt 7.5.2b) ? url1 | url2`` form real SPA rules use."""
        from pytest_provd.versions import VersionError, compare

        match = re.fullmatch(
            r"\s*\(\s*\$SWVER\s+(lt|le|gt|ge|eq|ne)\s+(\S+?)\s*\)\s*\?\s*(\S+)\s*\|\s*(\S+)\s*",
            rule,
        )
        if match is None:
            return rule
        op, version, then, other = match.groups()
        try:
            order = compare(self.state.firmware_version, version)
        except VersionError:
            self.state.errors.append(f"Upgrade_Rule: cannot compare with {version!r}")
            return other
        holds = {
            "lt": order < 0,
            "le": order <= 0,
            "gt": order > 0,
            "ge": order >= 0,
            "eq": order == 0,
            "ne": order != 0,
        }[op]
        return then if holds else other

    def firmware_offer(self) -> tuple[str, str] | None:
        rule = self.state.settings.get("Upgrade_Rule")
        if not rule:
            return None
        url = self._expand(self._choose(rule))
        found = re.findall(r"(\d+(?:[.\-]\d+){2,3}[a-z]?)(?=\.bin)", url)
        return (found[-1].replace("-", "."), url) if found else None
