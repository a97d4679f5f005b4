"""Gigaset DECT bases: N510/N720 and N610-N870 fetch one XML file over HTTP; the older
C470/C590 family is driven through its web interface instead.

N510 IP PRO, N720 DM/IP PRO: option 60 ``N510_IP_PRO`` / ``Gigaset_N720_DM_PRO``; the
provisioning URL is DHCP option 114 (``default-url``, from Wazo's dhcpd), else option 66;
the base fetches ``<url>/<MAC>.xml`` (upper-case MAC), a ``<ProviderFrame>`` of
``<SYMB_ITEM ID="..." value='"..."'/>``: account *n* is ``BS_IP_Data1.aucS_SIP_USER_ID_<n>``
(no suffix for the first) on the N510 and ``BS_VOIP_Data.astVoipAccounts[<n-1>]
.aucS_SIP_USER_ID[0]`` on the N720 (likewise ``DISPLAYNAME``, ``PASSWORD``).
User-Agent: ``N510 IP PRO/42.245.00.000.000;<MAC>`` (``Gigaset `` first on the N720).

N610/N670/N770/N870(E) IP PRO: no option 60; ``<url>/<mac>.xml`` (lower case), a
``<provisioning>`` of ``<param name="SipAccount.<00001>.UserName" value=...>`` per handset;
``<firmware><file version="2.65.0" url=...>`` offers firmware (flashed when the version differs
from the running one).  User-Agent: ``Gigaset N870 IP PRO/83.V2.39.0+build.1;<MAC>``.

C470/C475/S675/S685 and C590/C595/C610(A)/N300(A) IP: option 60 ``C470_IP``; the plugin writes
no file.  At boot the base serves its web interface (:mod:`emulators.gigaset_web`) on its own
address, port 80 -- the address provd learns from the DHCP commit, so the device needs no
other setting -- and the lines arrive when provd *synchronizes* the device
(``needs_synchronize``): boot, then ``POST dev_mgr/synchronize`` for the device, then read
``state``, then :meth:`close`.  Binding port 80 needs root or CAP_NET_BIND_SERVICE; without
it the phone records why in ``errors``.

Display names: the N-series plugins write ``"<name> <number>"`` or ``"<number> <name>"``;
:meth:`line_matches` accepts the pushed name with the number before or after it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from emulators.gigaset_web import GigasetWeb
from emulators.phone import Line, Phone

_WEB_MODELS = re.compile(r"^(C\d{3}A?|S\d{3}|N300A?) IP$")
_OLD_MODELS = re.compile(r"^N(510|720) ")
_N510 = re.compile(
    r"^BS_IP_Data[13]\.aucS_SIP_(USER_ID|DISPLAYNAME|PASSWORD|REGISTRAR)(?:_(\d+))?$"
)
_N720 = re.compile(
    r"^BS_VOIP_Data\.astVoipAccounts\[(\d+)\]\.aucS_SIP_(USER_ID|DISPLAYNAME|PASSWORD)\[0\]$"
)
_ITEM_FIELDS = {
    "USER_ID": "username",
    "DISPLAYNAME": "display_name",
    "PASSWORD": "password",
    "REGISTRAR": "registrar",
}
_PARAM = re.compile(r"^SipAccount\.(\d+)\.(UserName|DisplayName|AuthPassword)$")
_PARAM_FIELDS = {"UserName": "username", "DisplayName": "display_name", "AuthPassword": "password"}


class GigasetPhone(Phone):
    """A Gigaset base (the family follows from the model)."""

    vendor = "gigaset"
    oui = "7c:2f:80"

    _web: GigasetWeb | None = None

    @staticmethod
    def web_managed(model: str) -> bool:
        """C470/C590-era bases: configured through their web interface."""
        return bool(_WEB_MODELS.match(model))

    @classmethod
    def oui_for(cls, model: str) -> str:
        return "00:01:e3" if cls.web_managed(model) else cls.oui  # Siemens-era bases

    def __init__(self, model: str, mac: str, **kwargs: Any) -> None:
        super().__init__(model, mac, **kwargs)
        self.needs_synchronize = self.web_managed(self.model)

    @property
    def software_version(self) -> str:
        """The version in the bases' own form (five groups on the N510/N720)."""
        version = self.state.firmware_version
        if _OLD_MODELS.match(self.model):
            groups = re.findall(r"\d+", version)[:5]
            groups += ["00", "000", "000"][len(groups) - 2 :] if len(groups) >= 2 else []
            return ".".join(groups) if len(groups) == 5 else "42.245.00.000.000"
        return version

    def user_agent(self) -> str:
        brand = "" if self.model.startswith("N510") else "Gigaset "
        build = "" if _OLD_MODELS.match(self.model) else "+build.1"
        return f"{brand}{self.model}/{self.software_version}{build};{self.mac12}"

    def vendor_class(self) -> str | None:
        if self.web_managed(self.model) or _OLD_MODELS.match(self.model):
            brand = "Gigaset_" if self.model.startswith("N720") else ""
            return brand + self.model.replace(" ", "_")
        return None

    def provisioning_server(self, lease: Any) -> str | None:
        raw = lease.options.get(114)
        if raw:
            return str(raw.decode("latin-1").rstrip("\0").rstrip("/") + "/")
        return super().provisioning_server(lease)

    def provision(self) -> None:
        if self.web_managed(self.model):
            self._serve_web()
            return
        old = bool(_OLD_MODELS.match(self.model))
        name = f"{self.mac12 if old else self.mac12.lower()}.xml"
        root = self.fetch_xml(name, mandatory=True)
        if root is None:
            return
        for item in root.iter("SYMB_ITEM"):
            self._symbol(item.get("ID", ""), item.get("value", ""))
        for param in root.iter("param"):
            key, value = param.get("name", ""), param.get("value", "")
            self.state.settings[key] = value
            found = _PARAM.match(key)
            if found:
                self.set_line(int(found.group(1)), **{_PARAM_FIELDS[found.group(2)]: value})
        for file in root.iter("file"):
            self.state.settings["firmware.version"] = file.get("version", "")
            self.state.settings["firmware.url"] = file.get("url", "")

    def _symbol(self, ident: str, value: str) -> None:
        value = value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
        self.state.settings[ident] = value
        n510 = _N510.match(ident)
        if n510:
            number = int(n510.group(2) or 1)
            self.set_line(number, **{_ITEM_FIELDS[n510.group(1)]: value})
            return
        n720 = _N720.match(ident)
        if n720:
            self.set_line(int(n720.group(1)) + 1, **{_ITEM_FIELDS[n720.group(2)]: value})

    def _serve_web(self) -> None:
        if self._web is not None:  # a reboot: the interface keeps running
            return
        version = re.sub(r"\D", "", self.state.firmware_version)
        prefix = "42" if self.model[:4] in ("C590", "C595", "C610", "N300") else "02"
        self._web = GigasetWeb(self.state, self.mac12, prefix + version.zfill(3)[-3:])
        reason = self._web.start(self.ip)
        if reason is not None:
            self.state.errors.append(reason)
            self._web = None

    def close(self) -> None:
        if self._web is not None:
            self._web.close()
            self._web = None

    def line_matches(self, line: Line | None, pushed: Mapping[str, Any]) -> bool:
        if line is None or line.username != pushed.get("username"):
            return False
        shown, wanted = line.display_name or "", str(pushed.get("display_name") or "")
        return shown in (
            wanted,
            f"{pushed.get('number')} {wanted}",
            f"{wanted} {pushed.get('number')}",
        )

    def firmware_offer(self) -> tuple[str, str] | None:
        offered = self.state.settings.get("firmware.version")
        url = self.state.settings.get("firmware.url")
        if not offered or not url:
            return None
        running = self.state.firmware_version
        head = running[: running.upper().index("V") + 1] if "V" in running.upper() else ""
        if head + offered == running:
            return None
        return self.named_offer(head + offered, url)
