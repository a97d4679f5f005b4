"""The web interface of a Gigaset C470/C590-era base, as the ``wazo-gigaset-C*`` plugins
drive it at synchronize time (HTTP requests from provd to the phone).

Served on the phone's own address, port 80 (the plugin builds ``http://<device ip>/`` and
provd keeps bare IP addresses), by a small threaded server bounded in requests and lifetime.
What it accepts, as the bases do:

- ``POST login.html`` (``language``, ``password`` = the PIN) → 302 to ``home.html`` with a
  session cookie (a wrong PIN → 302 back to ``login.html``); every other page wants the
  cookie, and ``logout.html`` ends the session;
- ``GET status_device.html``: ``MAC address:`` and ``Firmware version:`` lines;
- ``GET scripts/settings_telephony_voip_multi.js``: the account table (the gigaset.net
  account, the 7th, enabled);
- ``POST settings_telephony_voip.html?id=<n>``: account *n* + 1 (``sip_user_id``,
  ``sip_display_name``, ``sip_password``, ``sip_registrar``...), ``do_delete=1`` deletes it;
- any other ``POST <page>.html``: its fields, kept as settings ``<page>:<field>``.

Every request is recorded in the phone's ``fetches`` with protocol ``web``.
"""

from __future__ import annotations

import http.server
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulators.phone import Fetch, Line, PhoneState

MAX_REQUESTS = 200
LIFETIME_S = 120.0


class GigasetWeb:
    """The web interface of one base; :meth:`start` binds it, :meth:`close` stops it."""

    def __init__(
        self, state: PhoneState, mac: str, firmware: str, *, pin: str = "0000", port: int = 80
    ) -> None:
        self.state = state
        self.mac = mac.upper()
        self.firmware = firmware
        self.pin = pin
        self.port = port
        self.sessions: set[str] = set()
        self.requests = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def start(self, host: str) -> str | None:
        """Serve on *host*:port; the reason when that is impossible (None when serving)."""
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                web.handle(self, b"")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                web.handle(self, self.rfile.read(min(length, 64 * 1024)))

            def log_message(self, format: str, *args: Any) -> None:
                return  # recorded in the phone's state instead

        try:
            self._server = http.server.ThreadingHTTPServer((host, self.port), Handler)
        except OSError as exc:
            return f"web interface: cannot listen on {host}:{self.port}: {exc}"
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self._timer = threading.Timer(LIFETIME_S, self.close)
        self._timer.daemon = True
        self._timer.start()
        return None

    def close(self) -> None:
        """Stop serving (idempotent)."""
        with self._lock:
            server, self._server = self._server, None
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()

    # -- pages
    def handle(self, request: http.server.BaseHTTPRequestHandler, body: bytes) -> None:
        """Answer one request and record it."""
        start = time.perf_counter()
        with self._lock:
            self.requests += 1
            over = self.requests > MAX_REQUESTS
        parts = urlsplit(request.path)
        page = parts.path.lstrip("/")
        form = {k: v[-1] for k, v in parse_qs(body.decode("latin-1")).items()}
        cookie = request.headers.get("Cookie", "")
        headers: dict[str, str]
        logged_in = any(f"SID={sid}" in cookie for sid in self.sessions)
        if over:
            status, headers, content = 503, {}, b"too many requests"
        elif page == "login.html" and request.command == "POST":
            status, headers, content = self._login(form)
        elif page in ("login.html", ""):
            status, headers, content = 200, {"Content-Type": "text/html"}, b"<form></form>"
        elif not logged_in and page != "logout.html":
            self.state.errors.append(f"web: {request.command} /{page} without a session")
            status, headers, content = 302, {"Location": "/login.html"}, b""
        else:
            status, headers, content = self._page(request.command, page, parts.query, form)
            if page == "logout.html":
                self.sessions.clear()
        request.send_response(status)
        for key, value in headers.items():
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(content)))
        request.end_headers()
        request.wfile.write(content)
        self.state.fetches.append(
            Fetch(
                "web", f"{request.command} /{page}", status, len(body), time.perf_counter() - start
            )
        )

    def _login(self, form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if form.get("password") != self.pin:
            self.state.errors.append(f"web: login refused (PIN {form.get('password')!r})")
            return 302, {"Location": "/login.html"}, b""
        sid = secrets.token_hex(8)
        self.sessions.add(sid)
        return 302, {"Location": "/home.html", "Set-Cookie": f"SID={sid}; path=/"}, b""

    def _page(
        self, method: str, page: str, query: str, form: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        html = {"Content-Type": "text/html"}
        if method == "GET":
            if page == "status_device.html":
                mac = ":".join(self.mac[i : i + 2] for i in range(0, 12, 2))
                text = f"<p>MAC address: {mac}</p><p>Firmware version: {self.firmware}</p>"
                return 200, html, text.encode()
            if page == "scripts/settings_telephony_voip_multi.js":
                return 200, {"Content-Type": "text/javascript"}, b"lines[6][4]=1;\n"
            if page.endswith(".html"):
                return 200, html, b"<html></html>"
            return 404, html, b"not found"
        if page == "settings_telephony_voip.html":
            self._account(parse_qs(query).get("id", [""])[0], form)
        elif page in ("settings_telephony_voip_multi.html", "settings_telephony_connections.html"):
            if form.get("account_id") == "6":
                self.state.settings["gigaset.net"] = "disabled"
        else:
            for key, value in form.items():
                self.state.settings[f"{page}:{key}"] = value
        return 200, html, b"<html></html>"

    def _account(self, ident: str, form: dict[str, str]) -> None:
        if not ident.isdigit() or not 0 <= int(ident) <= 5:
            self.state.errors.append(f"web: settings_telephony_voip.html: bad account {ident!r}")
            return
        number = int(ident) + 1
        if form.get("do_delete") == "1":
            self.state.lines.pop(number, None)
            return
        if form.get("sip_password") != form.get("sip_password_2"):
            self.state.errors.append(f"web: account {number}: the two passwords differ")
        self.state.lines[number] = Line(
            number,
            username=form.get("sip_user_id"),
            password=form.get("sip_password"),
            display_name=form.get("sip_display_name"),
            registrar=form.get("sip_registrar"),
            proxy=form.get("sip_server"),
            port=form.get("sip_server_port"),
        )
