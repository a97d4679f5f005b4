"""Cisco/Linksys SPA phones and ATAs: flat-profile XML over TFTP or HTTP.

Sequence: ``spa<PSN>.cfg`` (``/init.cfg`` on a PAP2T; over TFTP the name has a leading slash,
as real phones send it) → every ``Profile_Rule*`` (``$MA``, ``$MAU``, ``$PSN`` expanded) →
lines from ``User_ID_n_``, ``Password_n_``, ``Display_Name_n_``, ``Proxy_n_``; ``Upgrade_Rule``
names the firmware image.  The SPA9xx desk phones read a profile declaring no encoding as
ISO-8859-1.

Multiplatform (3PCC) 68xx/78xx/88xx phones speak the same profile grammar: option 60
``CP-8841-3PCC`` (NUL-terminated), first file ``8841-3PCC.xml``, User-Agent
``Cisco-CP-8841-3PCC/<version> (<MAC>)``; the ATA191/192 on it ask for ``ata191.cfg`` with
option 60 ``CISCO ATA191-MPP``.

Identity by era: Cisco 7.x phones and the SPA1xx ATAs send ``Cisco SPA504G`` / ``CISCO SPA112``
and ``Cisco/<model>-<version> (<MAC>)(<serial>)``; Linksys-era devices (SPA9xx, SPA2102,
SPA3102, SPA8000) send ``LINKSYS SPA-942`` and ``Linksys/SPA-942-<version> (<serial>)``, as
the dhcpd classes and the plugin's extractor comments show.  The PAP2T and SPA8800 appear in
neither: they boot without option 60 and are known by MAC prefix, as Wazo's dhcpd expects.

The ATA190 is provisioned like Cisco's enterprise phones: one ``ATA<MAC>.cnf.xml`` per port over
TFTP (the second port's MAC is the first one shifted left by one byte, ``:01`` appended), each
holding one ``<sipLines><line>`` (``name``, ``featureLabel``, ``authPassword``, ``proxy``);
``<loadInformation>`` names its firmware load, fetched as ``<load>.loads`` over TFTP when its
version is not the running one (as :mod:`emulators.cisco_sccp` phones do).
"""

from __future__ import annotations

import re
from typing import Any

from emulators.cisco_sccp import load_version
from emulators.phone import Phone
from pytest_provd.versions import VersionError, compare


class CiscoSpaPhone(Phone):
    """A Cisco SPA phone."""

    vendor = "cisco"
    oui = "00:0e:08"  # Linksys, the SPA's maker
    uses_tftp = True

    @property
    def mpp(self) -> bool:
        """A 68xx/78xx/88xx on Multiplatform (3PCC) firmware: the SPA profile grammar."""
        return bool(re.fullmatch(r"\d{4}", self.model))

    @property
    def mpp_ata(self) -> bool:
        """An ATA191/ATA192 on Multiplatform firmware (``ata$PSN.cfg`` flat profiles)."""
        return self.model.upper() in ("ATA191", "ATA192")

    @property
    def psn(self) -> str:
        """Product serial name: the model without its ``SPA`` prefix (``8841-3PCC`` on MPP)."""
        if self.mpp:
            return f"{self.model}-3PCC"
        return re.sub(r"^(SPA|ATA)", "", self.model, flags=re.IGNORECASE)

    @property
    def linksys_era(self) -> bool:
        """Devices that still identify as Linksys."""
        return bool(re.fullmatch(r"SPA9\d\d|SPA[23]102|SPA8[08]00|PAP2T", self.model.upper()))

    def _linksys_model(self) -> str:
        # "SPA-942", "SPA-2102" but "SPA8000" (dhcpd linksys.conf)
        model = self.model.upper()
        return re.sub(r"^SPA(?=9\d\d$|[23]102$)", "SPA-", model)

    def user_agent(self) -> str:
        if self.mpp_ata:
            return f"Cisco/{self.model}-MPP-{self.state.firmware_version} (CBT1414001A)"
        if self.mpp:
            return f"Cisco-CP-{self.psn}/{self.state.firmware_version} ({self.mac12})"
        if self.linksys_era:
            return f"Linksys/{self._linksys_model()}-{self.state.firmware_version} (4MM00F903042)"
        return f"Cisco/{self.model}-{self.state.firmware_version} ({self.mac12})(CBT1414001A)"

    def vendor_class(self) -> str | None:
        model = self.model.upper()
        if self.mpp:
            return f"CP-{self.psn}\x00"
        if self.mpp_ata:
            return f"CISCO {self.model}-MPP"
        if model in ("PAP2T", "SPA8800"):
            return None
        if self.linksys_era:
            return f"LINKSYS {self._linksys_model()}"
        if model.startswith(("SPA1", "ATA")):
            return f"CISCO {self.model}"
        return f"Cisco {self.model}"

    def provisioning_server(self, lease: Any) -> str | None:
        value = lease.tftp_server
        if not value or not value.startswith("http"):
            return None
        # "http://provd:8667/spa$PSN.cfg" names the profile; "http://provd:8667" only the server
        head, _, last = str(value).rstrip("/").rpartition("/")
        return (head if "." in last and "//" in head else str(value).rstrip("/")) + "/"

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
        return self.tftp_get("/" + path.lstrip("/"))

    def _provision_ata(self) -> None:
        shifted = [*self.mac.split(":")[1:], "01"]
        for port, mac12 in enumerate((self.mac12, "".join(shifted).upper()), start=1):
            name = f"ATA{mac12}.cnf.xml"
            data = self.tftp_get(name)  # no leading slash: the plugin's extractor wants none
            if data is None:
                continue
            root = self.parse_xml(name, data)
            if root is None:
                continue
            load = (root.findtext("loadInformation") or "").strip()
            if load:
                self.state.settings["loadInformation"] = load
            for line in root.iter("line"):
                self.set_line(
                    port,
                    username=line.findtext("name"),
                    display_name=line.findtext("featureLabel"),
                    password=line.findtext("authPassword"),
                    registrar=line.findtext("proxy"),
                )
        if not self.state.files:
            self.state.errors.append("no provisioning file could be fetched")

    def provision(self) -> None:
        if self.model.upper().startswith("ATA") and not self.mpp_ata:
            self._provision_ata()
            return
        if self.mpp:
            first = f"{self.psn}.xml"
        elif self.mpp_ata:
            first = f"ata{self.psn}.cfg"
        elif self.model.upper() == "PAP2T":
            first = "init.cfg"
        else:
            first = f"spa{self.psn}.cfg"
        queue = [first]
        seen: set[str] = set()
        while queue:
            path = queue.pop(0)
            if not path or path in seen:
                continue
            seen.add(path)
            data = self._get(path)
            if data is None:
                continue
            root = self._parse_profile(path.rsplit("/", 1)[-1], data)
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

    def _parse_profile(self, name: str, data: bytes) -> Any:
        """The profile as the device reads it; the strict XML verdict is kept either way.

        The Linksys SPA9xx desk phones show the names of a profile that declares no encoding
        as ISO-8859-1 (the plugin's legacy target writes their files in that encoding), so a
        Latin-1 name reads right there although the file is not well-formed XML.  The ATAs
        have no screen: they pass a name on to SIP as it is, read as UTF-8 here.
        """
        root = self.parse_xml(name, data)
        latin1 = re.fullmatch(r"SPA9\d\d", self.model.upper())
        if not latin1 or re.match(rb"<\?xml[^>]*encoding=", data.lstrip()):
            return root
        from lxml import etree  # loaded lazily, as Phone.parse_xml does

        parser = etree.XMLParser(
            encoding="iso-8859-1", recover=True, resolve_entities=False, no_network=True
        )
        return etree.fromstring(data, parser)

    def _choose(self, rule: str) -> str:
        """Evaluate the ``($SWVER lt 7.5.2b) ? url1 | url2`` form real SPA rules use."""
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
        load = self.state.settings.get("loadInformation")
        if load and load_version(load) != self.state.firmware_version:
            return self.named_offer(load_version(load), f"{load}.loads", tftp=True)
        rule = self.state.settings.get("Upgrade_Rule")
        if not rule:
            return None
        url = self._expand(self._choose(rule))
        # spa50x-30x-7-5-5.bin, spa3102-5-1-10-GW.bin, SPA112-SPA122_1.3.5_004p.bin
        name = url.rsplit("/", 1)[-1]
        found = re.findall(r"(?<![\d])(\d{1,2}(?:[._-]\d+){2,3}[a-z]?)", name)
        return (re.sub(r"[_-]", ".", found[-1]), url) if found else None
