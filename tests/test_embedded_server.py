"""The embedded provd over real sockets: the Managing Plugins flow and hostile requests."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pytest_provd import tree
from pytest_provd.client import ProvdClient, ProvdClientError
from pytest_provd.embedded.plugin_rawconfig import sample_raw_config
from tests.test_tree import make_family


@pytest.fixture
def plugin_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))
    make_family(tmp_path / "plugins")
    found = tree.discover(tmp_path / "plugins")
    return tree.make_plugin_server(found.select(["all"]), tmp_path / "server")


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=5
        ) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_managing_plugins_flow(provd: Any, provd_client: ProvdClient, plugin_server: Path) -> None:
    provd_client.set_param("plugin_server", str(plugin_server))
    provd_client.update_plugins()
    assert set(provd_client.installable_plugins()) == {"acme-phone-1.0", "acme-phone-2.0"}
    provd_client.install_plugin("acme-phone-1.0")
    assert "acme-phone-1.0" in provd_client.installed_plugins()
    raw = sample_raw_config()
    config_id = provd_client.add_config(
        {"parent_ids": ["base"], "raw_config": {"sip_lines": raw["sip_lines"]}}
    )
    assert provd_client.raw_config(config_id)["sip_lines"]["1"]["username"] == "alice1001"
    device_id = provd_client.add_device(
        {
            "mac": "00-0B-82-AA-BB-CC",
            "ip": "127.0.0.1",
            "plugin": "acme-phone-1.0",
            "model": "M1",
            "vendor": "Acme",
            "config": config_id,
        }
    )
    device = provd_client.get_device(device_id)
    assert device["mac"] == "00:0b:82:aa:bb:cc" and device["configured"] is True
    status, body = get(provd.http_url + "000b82aabbcc.xml")
    assert status == 200 and b'user="alice1001"' in body and b'user="bob1002"' in body
    # A config change reconfigures the device: the served file follows.
    raw["sip_lines"]["1"]["username"] = "carol1003"
    provd_client.update_config(
        config_id, {"parent_ids": ["base"], "raw_config": {"sip_lines": raw["sip_lines"]}}
    )
    assert b'user="carol1003"' in get(provd.http_url + "000b82aabbcc.xml")[1]
    assert provd.pipeline.log[-1]["status"] == 200


def test_raw_config_inheritance_later_parent_and_own_win(provd_client: ProvdClient) -> None:
    a = provd_client.add_config(
        {"id": "a", "parent_ids": [], "raw_config": {"x": 1, "d": {"k": 1, "a": 1}}}
    )
    b = provd_client.add_config(
        {"id": "b", "parent_ids": [], "raw_config": {"x": 2, "d": {"k": 2}}}
    )
    c = provd_client.add_config({"parent_ids": [a, b], "raw_config": {"y": 3}})
    assert provd_client.raw_config(c) == {"x": 2, "d": {"k": 2, "a": 1}, "y": 3}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/cfg_mgr/configs", b"{not json", 400),
        ("POST", "/cfg_mgr/configs", b'{"config": {"parent_ids": "base", "raw_config": {}}}', 400),
        (
            "POST",
            "/cfg_mgr/configs",
            b'{"config": {"parent_ids": ["nope"], "raw_config": {}}}',
            400,
        ),
        ("POST", "/dev_mgr/devices", b'{"device": {"mac": "zz"}}', 400),
        ("POST", "/dev_mgr/devices", b'{"device": {"mac": 12}}', 400),
        ("POST", "/dev_mgr/devices", b"[1, 2]", 400),
        ("GET", "/dev_mgr/devices/unknown", None, 404),
        ("DELETE", "/cfg_mgr/configs/unknown", None, 404),
        ("GET", "/pg_mgr/plugins/nope/info", None, 404),
        ("POST", "/pg_mgr/install/install", b'{"id": 5}', 400),
        (
            "POST",
            "/dev_mgr/dhcpinfo",
            b'{"dhcp_info": {"op": "commit", "ip": "127.0.0.9", "mac": "00:11:22:33:44:55", '
            b'"options": ["zz"]}}',
            400,
        ),
        ("PUT", "/configure/unknown_param", b'{"param": {"value": "x"}}', 404),
        ("GET", "/no/such/route", None, 404),
        ("POST", "/cfg_mgr/configs", b'{"config": ' + b'"' + b"x" * (2 * 1024 * 1024) + b'"}', 413),
    ],
    ids=lambda v: v[:40].decode("latin-1") if isinstance(v, bytes) else None,
)
def test_hostile_rest_requests_get_json_4xx(
    provd: Any, method: str, path: str, body: bytes | None, status: int
) -> None:
    req = urllib.request.Request(provd.rest_url + path, data=body, method=method)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == status
    payload = info.value.read()
    assert b"Traceback" not in payload
    assert "error" in json.loads(payload)


@pytest.mark.parametrize(
    "path",
    [
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/a/../../x",
        "/x%00.xml",
        "/" + "a" * 6000,
    ],
)
def test_hostile_http_paths_never_escape(provd: Any, path: str) -> None:
    status, body = get(provd.http_url.rstrip("/") + path)
    assert status in (400, 403, 404, 414, 431)
    assert b"root:" not in body


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"\x00\x01../../etc/passwd\x00octet\x00",
        b"\x00\x01/etc/passwd\x00octet\x00",
        b"\x00\x01..\\..\\etc\\passwd\x00octet\x00",
        b"\x00\x01" + b"a" * 600 + b"\x00octet\x00",
        b"\x00\x02upload.bin\x00octet\x00",
    ],
    ids=["dotdot", "absolute", "backslash", "overlong", "wrq"],
)
def test_hostile_tftp_requests_are_refused(provd: Any, request_bytes: bytes) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(3)
    try:
        sock.sendto(request_bytes, provd.tftp_address)
        data, _ = sock.recvfrom(516)
        assert data[:2] == b"\x00\x05", data  # an ERROR packet, never DATA or ACK
        assert not any((provd.state_dir / "tftp-empty-root").iterdir())
        # The server is still up and answering.
        sock.sendto(b"\x00\x01nothing\x00octet\x00", provd.tftp_address)
        data, _ = sock.recvfrom(516)
        assert data[:2] == b"\x00\x05"
    finally:
        sock.close()


def test_client_error_carries_status_and_body(provd_client: ProvdClient) -> None:
    with pytest.raises(ProvdClientError) as info:
        provd_client.get_device("missing")
    assert info.value.status == 404 and "no device" in info.value.body["error"]


def test_start_and_close_are_clean(provd_factory: Any) -> None:
    instance = provd_factory()
    port = int(instance.rest_url.rsplit(":", 1)[1].split("/")[0])
    instance.close()
    instance.close()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0
