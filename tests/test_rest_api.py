"""The embedded provd's REST API against hostile and malformed requests: 4xx JSON, never a 500."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from pytest_provd.client import ProvdClient, ProvdClientError, operation_state
from pytest_provd.provd import EmbeddedProvd

# The fixtures under test (until pytest_provd.plugin registers them).

MEDIA = "application/vnd.proformatique.provd+json"
DHCP = (
    b'{"dhcp_info": {"op": "commit", "ip": "1.2.3.4", "mac": "00:04:13:00:00:01", "options": %s}}'
)


def raw_call(
    provd: EmbeddedProvd,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str = MEDIA,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    host, port = provd.rest_url.split("//")[1].split("/")[0].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        all_headers = {"Content-Type": content_type, **(headers or {})}
        conn.request(method, "/provd" + path, body=body, headers=all_headers)
        resp = conn.getresponse()
        data = resp.read()
        decoded = json.loads(data) if data else None
        return resp.status, dict(resp.getheaders()), decoded
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "fragment"),
    [
        ("POST", "/cfg_mgr/configs", b"{not json", 400, "Invalid JSON"),
        ("POST", "/cfg_mgr/configs", b"[1, 2]", 400, "'config' key"),
        ("POST", "/cfg_mgr/configs", b'{"config": 3}', 400, "config must be an object"),
        ("POST", "/cfg_mgr/configs", b'{"config": {"raw_config": {}}}', 400, "parent_ids"),
        (
            "POST",
            "/cfg_mgr/configs",
            b'{"config": {"parent_ids": "base", "raw_config": {}}}',
            400,
            "list",
        ),
        (
            "POST",
            "/cfg_mgr/configs",
            b'{"config": {"parent_ids": [], "raw_config": {"http_port": "80"}}}',
            400,
            "http_port",
        ),
        (
            "POST",
            "/cfg_mgr/configs",
            b'{"config": {"parent_ids": [], "raw_config": {"bogus": 1}}}',
            400,
            "X_",
        ),
        (
            "POST",
            "/cfg_mgr/configs",
            b'{"config": {"parent_ids": [], "raw_config": {"sip_lines": []}}}',
            400,
            "sip_lines",
        ),
        (
            "POST",
            "/dev_mgr/devices",
            b'{"device": {"mac": "00-04-13-AA-BB-CC"}}',
            400,
            "Non-normalized MAC",
        ),
        ("POST", "/dev_mgr/devices", b'{"device": {"ip": 12}}', 400, "must be a string"),
        ("POST", "/dev_mgr/devices", b'{"device": {"configured": "yes"}}', 400, "boolean"),
        ("POST", "/dev_mgr/devices", b'{"devices": {}}', 400, "'device' key"),
        ("GET", "/dev_mgr/devices/nope", None, 404, "nope"),
        ("PUT", "/dev_mgr/devices/nope", b'{"device": {}}', 404, "nope"),
        ("DELETE", "/dev_mgr/devices/nope", None, 404, "nope"),
        ("GET", "/cfg_mgr/configs/nope", None, 404, "nope"),
        ("GET", "/cfg_mgr/configs/nope/raw", None, 404, "nope"),
        ("DELETE", "/cfg_mgr/configs/nope", None, 404, "nope"),
        ("DELETE", "/cfg_mgr/configs/autoprov", None, 403, "not deletable"),
        ("GET", "/configure/nope", None, 404, "nope"),
        ("PUT", "/configure/plugin_server", b'{"param": {"value": 3}}', 400, "string"),
        ("PUT", "/configure/plugin_server", b'{"param": {"value": "no-scheme"}}', 400, "scheme"),
        ("PUT", "/configure/http_proxy", b'{"param": {"value": "http://p:3128/x"}}', 400, "path"),
        ("PUT", "/configure/NAT", b'{"param": {"value": 7}}', 400, "NAT"),
        ("PUT", "/configure/plugin_server", b'{"param": {}}', 400, "value"),
        ("POST", "/dev_mgr/dhcpinfo", b'{"dhcp_info": {"op": "boom", "ip": "1.2.3.4"}}', 400, "op"),
        (
            "POST",
            "/dev_mgr/dhcpinfo",
            b'{"dhcp_info": {"op": "commit", "ip": "1.2.3.400", "mac": "00:04:13:00:00:01"}}',
            400,
            "IP",
        ),
        (
            "POST",
            "/dev_mgr/dhcpinfo",
            b'{"dhcp_info": {"op": "commit", "ip": "1.2.3.4", "mac": "zz"}}',
            400,
            "MAC",
        ),
        (
            "POST",
            "/dev_mgr/dhcpinfo",
            DHCP % b'["60x"]',
            400,
            "option",
        ),
        (
            "POST",
            "/dev_mgr/dhcpinfo",
            DHCP % b'["060zz.1"]',
            400,
            "hex",
        ),
        ("POST", "/dev_mgr/reconfigure", b'{"id": 5}', 400, "id"),
        ("POST", "/dev_mgr/reconfigure", b'{"id": "nope"}', 404, "nope"),
        ("POST", "/dev_mgr/synchronize", b'{"id": "nope"}', 404, "nope"),
        ("POST", "/pg_mgr/install/update", b"{}", 400, "plugin_server"),
        ("POST", "/pg_mgr/install/install", b'{"id": "x"}', 400, "plugin_server"),
        ("POST", "/pg_mgr/install/uninstall", b'{"id": "x"}', 400, "not installed"),
        ("POST", "/pg_mgr/reload", b'{"id": "../etc"}', 400, "not installed"),
        ("GET", "/pg_mgr/plugins/nope/info", None, 404, "nope"),
        ("GET", "/pg_mgr/plugins/nope/install/installable", None, 404, "nope"),
        ("GET", "/pg_mgr/install/install/99", None, 404, "operation"),
        ("DELETE", "/pg_mgr/install/install/99", None, 404, "operation"),
        ("GET", "/no/such/thing", None, 404, "no such resource"),
        ("PATCH", "/dev_mgr/devices", b"{}", 405, "not allowed"),
    ],
)
def test_bad_requests_get_a_json_4xx(
    provd: EmbeddedProvd, method: str, path: str, body: bytes | None, status: int, fragment: str
) -> None:

    got, headers, data = raw_call(provd, method, path, body)
    assert (got, data["status"]) == (status, status), data
    assert headers["Content-Type"].startswith("application/json")
    assert fragment.lower() in data["error"].lower()
    assert "Traceback" not in data["error"]


def test_wrong_media_type_and_huge_body(provd: EmbeddedProvd) -> None:
    status, _, data = raw_call(provd, "POST", "/cfg_mgr/configs", b"{}", content_type="text/plain")
    assert status == 415 and "media type" in data["error"]
    huge = b'{"config": {"parent_ids": [], "raw_config": {"X_big": "' + b"a" * 2_000_000 + b'"}}}'
    status, _, data = raw_call(provd, "POST", "/cfg_mgr/configs", huge)
    assert status == 413 and "too large" in data["error"]
    # The server is still fine afterwards.
    assert raw_call(provd, "GET", "/status")[0] == 200


def test_created_resources_have_locations_and_shapes(provd: EmbeddedProvd) -> None:
    body = json.dumps({"config": {"parent_ids": ["base"], "raw_config": {}}}).encode()
    status, headers, data = raw_call(provd, "POST", "/cfg_mgr/configs", body)
    assert status == 201 and headers["Location"] == f"/provd/cfg_mgr/configs/{data['id']}"
    body = json.dumps({"device": {"mac": "00:04:13:00:00:10", "config": data["id"]}}).encode()
    status, headers, data = raw_call(provd, "POST", "/dev_mgr/devices", body)
    assert status == 201 and headers["Location"] == f"/provd/dev_mgr/devices/{data['id']}"
    status, headers, device = raw_call(provd, "GET", f"/dev_mgr/devices/{data['id']}")
    assert headers["Content-Type"].startswith(MEDIA)
    assert (
        device["device"]["configured"] is False and device["device"]["mac"] == "00:04:13:00:00:10"
    )
    status, _, links = raw_call(provd, "GET", "")
    assert {link["rel"] for link in links["links"]} >= {"dev", "cfg", "pg", "srv.configure"}


def test_find_parameters(provd: EmbeddedProvd, provd_client: ProvdClient) -> None:
    for n in range(5):
        provd_client.add_device(
            {"mac": f"00:04:13:00:01:0{n}", "model": "D785" if n % 2 else "D735"}
        )
    assert len(provd_client.devices(model="D785")) == 2
    query = "/dev_mgr/devices?sort=mac&sort_ord=DESC&skip=1&limit=2&fields=mac"
    status, _, data = raw_call(provd, "GET", query)
    assert status == 200
    assert data["devices"] == [{"mac": "00:04:13:00:01:03"}, {"mac": "00:04:13:00:01:02"}]
    assert raw_call(provd, "GET", "/dev_mgr/devices?q=%7Bbad")[0] == 400
    assert raw_call(provd, "GET", "/dev_mgr/devices?limit=x")[0] == 400


def test_operation_in_progress_resource(provd: EmbeddedProvd, tmp_path: Any) -> None:
    (tmp_path / "plugins.db").write_text("{broken")
    client = ProvdClient(provd.rest_url)
    client.set_plugin_server(str(tmp_path))
    status, headers, _ = raw_call(provd, "POST", "/pg_mgr/install/update", b"{}")
    assert status == 201
    location = headers["Location"]
    assert location.startswith("/provd/pg_mgr/install/update/")
    with pytest.raises(ProvdClientError) as info:
        client.wait_operation(location, timeout=5)
    assert info.value.status == 500 and operation_state(info.value.body["status"]) == "fail"
    assert "plugins.db" in info.value.body["error"]
    # wait_operation deleted it
    assert raw_call(provd, "GET", location.removeprefix("/provd"))[0] == 404


def test_operation_state_parsing() -> None:
    assert operation_state("update|success") == "success"
    assert operation_state("install_pkg|progress(download|progress;10/100)(install|waiting)") == (
        "progress"
    )
    assert operation_state("fail") == "fail"


def test_params_round_trip(provd_client: ProvdClient) -> None:
    provd_client.set_param("http_proxy", "http://proxy.example:3128")
    assert provd_client.get_param("http_proxy") == "http://proxy.example:3128"
    assert provd_client.params()["http_proxy"] == "http://proxy.example:3128"
    provd_client.set_param("http_proxy", None)
    assert provd_client.get_param("http_proxy") is None
    provd_client.set_param("NAT", 1)
    assert provd_client.get_param("NAT") == 1


def test_each_test_gets_the_session_provd_reset(pytester: pytest.Pytester) -> None:
    # Two inner tests in this order: the second sees the same server with none of the
    # first's changes (reset, not restarted).
    pytester.makepyfile(
        test_inner="""
        import pathlib

        def test_dirty(provd, provd_client):
            provd_client.add_device({"mac": "00:04:13:99:99:99"})
            provd_client.set_param("locale", "fr_FR")
            assert len(provd_client.devices()) == 1
            assert provd_client.get_param("locale") == "fr_FR"
            pathlib.Path("url").write_text(provd.rest_url)

        def test_clean(provd, provd_client):
            assert provd.rest_url == pathlib.Path("url").read_text()
            assert provd_client.devices() == []
            assert provd_client.get_param("locale") is None
            assert {c["id"] for c in provd_client.configs()} == {
                "base", "defaultconfigdevice", "autoprov", "default"
            }
        """
    )
    result = pytester.runpytest_subprocess("-v")
    result.stdout.fnmatch_lines(["*::test_dirty PASSED*", "*::test_clean PASSED*"])
    result.assert_outcomes(passed=2)
