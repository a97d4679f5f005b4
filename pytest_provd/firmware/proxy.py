"""A loopback HTTP proxy that keeps real fetchfw on 127.0.0.1.

With the real ``wazo_provd`` in place, a plugin's firmware install goes through real fetchfw,
which downloads pkgs.db URLs from vendor sites.  The harness gives plugins this proxy as
their ``http``/``https``/``ftp`` proxy: a file whose name is in the firmware cache
(``--provd-firmware-dir``) is served from there (fetchfw then checks its size and sha1 itself);
every other request, and every ``CONNECT`` tunnel, is refused with 403 and recorded, so no
byte leaves the machine.
"""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from pathlib import Path
from typing import Any

REFUSED = "pytest-provd: download refused, the harness stays on loopback"


class FirmwareProxy:
    """``with FirmwareProxy(cache_dir) as proxy: proxy.proxies`` → a gen_cfg ``proxies`` dict."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self.served: list[str] = []
        self.refused: list[str] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (start first)."""
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def proxies(self) -> dict[str, str]:
        """What provd passes plugins as ``gen_cfg['proxies']``."""
        return {"http": self.url, "https": self.url, "ftp": self.url}

    def start(self) -> FirmwareProxy:
        """Listen on a free loopback port."""
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_CONNECT(self) -> None:
                proxy.refused.append(f"CONNECT {self.path}")
                self.send_error(403, REFUSED)

            def do_GET(self) -> None:
                name = Path(urllib.parse.urlsplit(self.path).path).name
                source = proxy.cache_dir / name if proxy.cache_dir and name else None
                if source is None or not source.is_file():
                    proxy.refused.append(self.path)
                    self.send_error(403, REFUSED)
                    return
                proxy.served.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(source.stat().st_size))
                self.end_headers()
                with source.open("rb") as handle:
                    while chunk := handle.read(1 << 16):
                        self.wfile.write(chunk)

            do_HEAD = do_GET

            def do_POST(self) -> None:
                proxy.refused.append(f"POST {self.path}")
                self.send_error(403, REFUSED)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="firmware-proxy", daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop listening (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> FirmwareProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
