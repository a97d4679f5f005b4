"""How a plugin configures a device and serves what it wrote, asked the way phones ask.

provd's plugins come in two kinds (``wazo_provd.plugins.Plugin.configure``): *pull* plugins
write the device's files at configure time and serve them to the phone (a file of
``var/tftpboot`` over HTTP or TFTP, or a resource of their own HTTP service, such as Jitsi's
``POST /jitsi?uuid=<uuid>``); *push* plugins write nothing and send the settings to the
phone at synchronize time (Gigaset C470 drives the base's web interface).
:func:`pushes_at_synchronize` tells them apart from the plugin's code; :func:`find_served`
looks for a written file the way a phone would ask for it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

CLIENT_IP = "127.0.0.10"
"""The phone's address in the in-process requests (a loopback address, not 127.0.0.1)."""

# provd's synchronize helpers that only ask the phone to fetch its files again.
_RESYNC_HELPERS = frozenset({"standard_sip_synchronize", "sip_notify", "send_sip_notify"})
# Device fields a phone names itself by in a request to a plugin's own resource.
_ID_FIELDS = ("uuid", "mac", "sn", "serial", "id")
_MAX_RESOURCES = 8


@dataclass(frozen=True)
class Served:
    """One way a written file reaches the phone."""

    how: str  # "http", "tftp" or "resource" (the plugin's own HTTP resource)
    request: str  # "GET /Grandstream/cfg000b82000001.xml", "RRQ SEP…", "POST /jitsi?uuid=…"
    path: str  # the HTTP path ("/jitsi" for a resource), or the TFTP file name
    data: bytes

    @property
    def http_base(self) -> str | None:
        """The HTTP directory the file is served from (``/Grandstream/``); None over TFTP."""
        if self.how == "tftp":
            return None
        return self.path.rsplit("/", 1)[0] + "/"


def pushes_at_synchronize(obj: Any) -> bool:
    """Whether the plugin object configures devices by pushing at synchronize time.

    True when the plugin's own class (not provd's base) defines ``synchronize`` and that
    method does more than ask the phone to fetch its files again (provd's SIP NOTIFY).
    """
    for cls in type(obj).__mro__:
        if "synchronize" not in vars(cls):
            continue
        if str(cls.__module__).split(".")[0] in ("wazo_provd", "provd", "pytest_provd"):
            return False
        method = vars(cls)["synchronize"]
        code = getattr(getattr(method, "__func__", method), "__code__", None)
        return code is not None and not _RESYNC_HELPERS & set(code.co_names)
    return False


def find_served(plugin: Any, name: str, device: dict[str, Any]) -> tuple[Served | None, list[str]]:
    """How *plugin* serves the written file *name* (``var/tftpboot``-relative) to *device*.

    Asks as phones do: a GET of the file (or of its path below a sub-directory the service
    roots at), a TFTP read, then the resources of the plugin's own HTTP service, with the
    device's identifier as a query parameter.  Returns the first answer found, and when none,
    what each of the plugin's own resources answered (for the failure message).
    """
    # Kept lazy: the server stack is not needed to start pytest.
    from pytest_provd.provd.plugins.manager import HttpRequestInfo, TftpRequestInfo

    obj = plugin.obj
    parts = name.split("/")
    for candidate in ("/".join(parts[i:]) for i in range(len(parts))):
        if obj.http_service is not None:
            req = HttpRequestInfo("GET", "/" + candidate, {}, {}, CLIENT_IP)
            reply = plugin.serve_http(req, device)
            if reply.status == 200:
                return Served("http", f"GET /{candidate}", "/" + candidate, reply.body), []
        if obj.tftp_service is not None:
            try:
                data = plugin.serve_tftp(TftpRequestInfo(candidate, CLIENT_IP, {}), device)
            except FileNotFoundError:
                pass
            else:
                return Served("tftp", f"RRQ {candidate}", candidate, bytes(data)), []
    answers: list[str] = []
    for child in own_resources(obj.http_service):
        for key in (k for k in _ID_FIELDS if str(device.get(k) or "") in (name, parts[-1])):
            for method in ("POST", "GET"):
                query = {key: [str(device[key])]}
                req = HttpRequestInfo(method, "/" + child, query, {}, CLIENT_IP)
                reply = plugin.serve_http(req, device)
                request = f"{method} /{child}?{key}={device[key]}"
                if reply.status == 200:
                    return Served("resource", request, "/" + child, reply.body), []
                if reply.status != 405:  # 405: the resource takes the other method
                    answers.append(f"{request} answered {reply.status} {_reason(reply.body)}")
    return None, answers


def own_resources(service: Any) -> list[str]:
    """Names of the resources a plugin's HTTP service defines itself (not files it serves)."""
    children = getattr(service, "children", None)
    if not isinstance(children, dict):
        return []
    names = []
    for raw, child in children.items():
        if type(child).__module__.startswith("twisted.web.static") or hasattr(child, "path"):
            continue  # a directory or file served as is: asked for by file name above
        if isinstance(raw, bytes) and raw:
            names.append(raw.decode("utf-8", "replace"))
    return sorted(names)[:_MAX_RESOURCES]


def _reason(body: bytes) -> str:
    """The short reason of an error page (its title), else the start of the body."""
    text = body.decode("utf-8", "replace")
    title = re.search(r"<title>(.*?)</title>", text, re.S | re.I)
    shown = html.unescape(title.group(1)) if title else text
    return repr(" ".join(shown.split())[:100])
