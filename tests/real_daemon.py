"""Run the installed wazo_provd as its daemon does, on 127.0.0.1, for the url backend's tests.

``python tests/real_daemon.py STATE_DIR READY_FILE`` composes the services of
``wazo_provd.main`` (synchronize, localization, provisioning, request processing, proxied
HTTP, TFTP, DHCP and the authenticated REST API) the way its service maker does, with
production's configuration (:mod:`pytest_provd.backends.realconf`), every port a free one of
127.0.0.1, and writes ``{"rest_url", "http_url", "tftp_port", "token"}`` to READY_FILE once
listening.  It runs until SIGTERM.

Left out, because a test has none of what they talk to: the bus consumer (RabbitMQ), the
token renewer (it logs in to wazo-auth with a service key), syncdb (tenant clean-up).

wazo-auth is stood in for by :class:`FakeAuth`, a small HTTP server on 127.0.0.1 answering
the three calls provd's REST API makes (token check, token lookup for its tenant, tenant
listing).  A server rather than a patched verifier: the daemon's own auth client, verifier
and tenant helpers then run unmodified, as they do against wazo-auth.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import signal
import socket
import sys
import threading
import types
import urllib.parse
from pathlib import Path
from typing import Any

TOKEN = "pytest-provd-token"
TENANT = "00000000-0000-4000-8000-0000000000aa"
USER = "00000000-0000-4000-8000-0000000000bb"


class FakeAuth:
    """wazo-auth's token and tenant endpoints for one token with every provd ACL."""

    def __init__(self) -> None:
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _handler() -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _reply(self, status: int, body: Any = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def do_HEAD(self) -> None:  # token check (scope, tenant)
                path = urllib.parse.urlsplit(self.path).path
                self._reply(204 if path == f"/0.1/token/{TOKEN}" else 404)

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                if path == f"/0.1/token/{TOKEN}":
                    metadata = {"tenant_uuid": TENANT, "uuid": USER, "pbx_user_uuid": None}
                    self._reply(
                        200,
                        {"data": {"token": TOKEN, "metadata": metadata, "acl": ["provd.#"]}},
                    )
                elif path == "/0.1/tenants":
                    items = [{"uuid": TENANT, "name": "pytest-provd", "parent_uuid": TENANT}]
                    self._reply(200, {"items": items, "total": 1, "filtered": 1})
                else:
                    self._reply(404, {"reason": ["not faked"]})

        return Handler


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stand_in_for_wazo_bus() -> None:
    """wazo_provd.main imports wazo_bus for the bus consumer, which is left out here; the
    plugins repository's test-requirements.txt does not install wazo-bus."""
    if importlib.util.find_spec("wazo_bus") is not None:
        return
    package, consumer = types.ModuleType("wazo_bus"), types.ModuleType("wazo_bus.consumer")
    consumer.BusConsumer = type("BusConsumer", (), {})  # type: ignore[attr-defined]
    package.consumer = consumer  # type: ignore[attr-defined]
    sys.modules.update({"wazo_bus": package, "wazo_bus.consumer": consumer})


def main(state_dir: Path, ready_file: Path) -> int:
    _stand_in_for_wazo_bus()
    from twisted.application import internet
    from twisted.application.service import MultiService
    from twisted.internet import reactor
    from wazo_provd import main as provd_main

    from pytest_provd.backends.realconf import (
        application_config,
        production_base_raw_config,
        request_processors,
    )
    from pytest_provd.provd.domain.configs import default_configs

    auth = FakeAuth()
    http_port, rest_port = _free_port(socket.SOCK_STREAM), _free_port(socket.SOCK_STREAM)
    tftp_port = _free_port(socket.SOCK_DGRAM)
    http_url = f"http://127.0.0.1:{http_port}"
    config: Any = application_config(state_dir, production_base_raw_config(http_url, tftp_port), {})
    config["general"].update(
        http_proxied_listen_interface="127.0.0.1",
        http_proxied_listen_port=http_port,
        # Phones reach this HTTP directly, not through nginx.
        http_proxied_trusted_proxies_count=0,
        sync_service_type="none",
    )
    config["rest_api"] = {"ip": "127.0.0.1", "port": rest_port, "ssl": False}
    config["auth"] = {"host": "127.0.0.1", "port": auth.port, "prefix": None, "https": False}

    class ProcessService(provd_main.ProcessService):
        # provd's default processors, from its classes: no etc/wazo-provd here.
        def startService(self) -> None:
            app = self._prov_service.app
            extractor, retriever, updater = request_processors(app)
            self.request_processing = provd_main.ident.RequestProcessingService(
                app, extractor, retriever, updater
            )
            provd_main.Service.startService(self)

    class TFTPProcessService(provd_main.TFTPProcessService):
        # provd binds TFTP on every interface; tests stay on 127.0.0.1.
        def privilegedStartService(self) -> None:
            self._udp_server = internet.UDPServer(
                tftp_port, self._tftp_protocol, interface="127.0.0.1"
            )
            self._udp_server.privilegedStartService()
            provd_main.Service.privilegedStartService(self)

    top = MultiService()
    provd_main.SynchronizeService(config).setServiceParent(top)
    provd_main.LocalizationService().setServiceParent(top)
    prov = provd_main.ProvisioningService(config)
    prov.setServiceParent(top)
    process = ProcessService(prov, config)
    process.setServiceParent(top)
    provd_main.HTTPProxiedProcessService(prov, process, config).setServiceParent(top)
    TFTPProcessService(prov, process, config).setServiceParent(top)
    dhcp = provd_main.DHCPProcessService(process)
    dhcp.setServiceParent(top)
    provd_main.RemoteConfigurationService(prov, dhcp, config).setServiceParent(top)

    def started() -> None:
        top.privilegedStartService()
        top.startService()
        # The configs a Wazo install has (base, default device config...), as ours has.
        for cfg in default_configs("127.0.0.1"):
            prov.app._cfg_collection.insert(dict(cfg))
        ready = {
            "rest_url": f"http://127.0.0.1:{rest_port}/0.2",
            "http_url": http_url + "/",
            "tftp_port": tftp_port,
            "token": TOKEN,
        }
        ready_file.write_text(json.dumps(ready))

    def stop(*_: Any) -> None:
        reactor.callFromThread(reactor.stop)  # type: ignore[attr-defined]

    signal.signal(signal.SIGTERM, stop)
    reactor.callWhenRunning(started)  # type: ignore[attr-defined]
    reactor.addSystemEventTrigger("before", "shutdown", top.stopService)  # type: ignore[attr-defined]
    reactor.run(installSignalHandlers=False)  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
