"""The Jitsi softphone (1.x): its configuration from the plugin's own ``/jitsi`` resource.

Jitsi takes no provisioning server from DHCP: the user types the URL the plugin documents,
``http://<provd>/jitsi?uuid=${uuid}`` (``url_by_hand``: give the phone ``http_url``), and Jitsi
replaces ``${uuid}`` with its installation UUID (here derived from the MAC, so a phone keeps
it across boots).  It sends a ``POST`` to that URL, the parameters both in the query string and
as a form body, with User-Agent ``Jitsi/<version>``.  The answer is Java properties:
``net.java.sip.communicator.impl.protocol.sip.acc<n>.USER_ID=<user>@<server>``,
``...DISPLAY_NAME``, ``...PASSWORD``, ``...SERVER_ADDRESS`` (``\\:`` escapes a colon); any
other non-comment line without ``=`` is a well-formedness error.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

from emulators.phone import Phone

_ACCOUNT = re.compile(
    r"^net\.java\.sip\.communicator\.impl\.protocol\.sip\.acc(\d+)\."
    r"(USER_ID|DISPLAY_NAME|PASSWORD|SERVER_ADDRESS)$"
)
_FIELDS = {
    "USER_ID": "username",
    "DISPLAY_NAME": "display_name",
    "PASSWORD": "password",
    "SERVER_ADDRESS": "registrar",
}


class JitsiPhone(Phone):
    """A Jitsi softphone (the computer it runs on boots from DHCP)."""

    vendor = "jitsi"
    oui = "02:4a:49"  # a PC: a locally administered address
    url_by_hand = True

    @property
    def uuid(self) -> str:
        """Jitsi's installation UUID (stable for a MAC)."""
        return str(uuid.uuid5(uuid.NAMESPACE_OID, f"jitsi/{self.mac}"))

    def user_agent(self) -> str:
        return f"Jitsi/{self.state.firmware_version}"

    def vendor_class(self) -> str | None:
        return None

    def provisioning_server(self, lease: object) -> str | None:
        return None  # the typed-in URL, whatever DHCP says

    def provision(self) -> None:
        if not self.http_url:
            self.state.errors.append("no provisioning URL typed in (give the phone http_url)")
            return
        query = f"uuid={quote(self.uuid)}"
        name = f"jitsi?{query}"
        data = self.http_request(
            "POST", name, query.encode(), content_type="application/x-www-form-urlencoded"
        )
        if data is None:
            self.state.errors.append(f"POST /jitsi?{query}: no configuration")
            return
        self.state.files["jitsi"] = data
        for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            text = raw.strip()
            if not text or text.startswith(("#", "!")):
                continue
            key, found, value = text.partition("=")
            if not found:
                self.state.wellformed_errors.append(
                    f"jitsi:{number}: not 'key=value': {text[:60]!r}"
                )
                continue
            value = re.sub(r"\\(.)", r"\1", value.strip())
            self.state.settings[key.strip()] = value
            account = _ACCOUNT.match(key.strip())
            if account:
                if account.group(2) == "USER_ID":
                    value = value.split("@", 1)[0]
                self.set_line(int(account.group(1)), **{_FIELDS[account.group(2)]: value})
