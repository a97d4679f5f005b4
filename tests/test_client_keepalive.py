"""ProvdClient's kept-alive connections: reused, opened again when provd closed them, and
answers and failures as the urllib path gives them."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator

import pytest

from pytest_provd.client import ProvdClient, ProvdClientError
from pytest_provd.provd import EmbeddedProvd


@pytest.fixture(scope="module")
def provd() -> Iterator[EmbeddedProvd]:
    with EmbeddedProvd() as server:
        yield server


def through_urllib(client: ProvdClient) -> ProvdClient:
    client._keep_prefix = ""  # what a proxied or https provd gets
    return client


def test_calls_share_one_connection(provd: EmbeddedProvd) -> None:
    client = ProvdClient(provd.rest_url)
    assert client.status()["rest_api"] == "ok"
    kept = list(client._idle)
    assert len(kept) == 1
    config_id = client.add_config({"parent_ids": ["base"], "raw_config": {}})
    assert client.get_config(config_id)["id"] == config_id
    assert client._idle == kept
    client.close()
    assert client._idle == []
    assert client.status()["rest_api"] == "ok"  # a new one after close()
    client.close()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/dev_mgr/devices/nope", None),
        ("POST", "/dev_mgr/devices", {"device": "not an object"}),
        ("GET", "/nowhere", None),
    ],
)
def test_refusals_read_as_through_urllib(
    provd: EmbeddedProvd, method: str, path: str, body: object
) -> None:
    failures = []
    for client in (ProvdClient(provd.rest_url), through_urllib(ProvdClient(provd.rest_url))):
        with pytest.raises(ProvdClientError) as info:
            client.request(method, path, body)
        failures.append((str(info.value), info.value.status, info.value.body))
        client.close()
    assert failures[0] == failures[1]
    assert failures[0][1] >= 400


def test_unreachable_reads_as_through_urllib() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/provd"  # nobody listens
        failures = []
        for client in (ProvdClient(url, timeout=1), through_urllib(ProvdClient(url, timeout=1))):
            with pytest.raises(ProvdClientError) as info:
                client.status()
            failures.append((str(info.value), info.value.status))
    assert failures[0] == failures[1]
    assert failures[0][1] == 0


def test_a_connection_provd_closed_is_opened_again() -> None:
    opened = []

    class Provd(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            opened.append(self.client_address)

        def do_GET(self) -> None:
            body = json.dumps({"rest_api": "ok"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True  # as an idle timeout: closed, unannounced

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Provd)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = ProvdClient(f"http://127.0.0.1:{server.server_address[1]}/provd")
    try:
        for _ in range(3):
            assert client.status() == {"rest_api": "ok"}
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    assert len(opened) == 3
