"""Hypothesis fuzzing of every REST route of the embedded provd: never a 5xx, state consistent."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = [
    ("GET", "/"),
    ("GET", "/status"),
    ("GET", "/configure"),
    ("GET", "/configure/{id}"),
    ("PUT", "/configure/{id}"),
    ("GET", "/dev_mgr/devices"),
    ("POST", "/dev_mgr/devices"),
    ("GET", "/dev_mgr/devices/{id}"),
    ("PUT", "/dev_mgr/devices/{id}"),
    ("DELETE", "/dev_mgr/devices/{id}"),
    ("POST", "/dev_mgr/dhcpinfo"),
    ("POST", "/dev_mgr/reconfigure"),
    ("POST", "/dev_mgr/synchronize"),
    ("GET", "/cfg_mgr/configs"),
    ("POST", "/cfg_mgr/configs"),
    ("GET", "/cfg_mgr/configs/{id}"),
    ("PUT", "/cfg_mgr/configs/{id}"),
    ("DELETE", "/cfg_mgr/configs/{id}"),
    ("GET", "/cfg_mgr/configs/{id}/raw"),
    ("POST", "/cfg_mgr/autocreate"),
    ("GET", "/pg_mgr/plugins"),
    ("GET", "/pg_mgr/plugins/{id}/info"),
    ("POST", "/pg_mgr/install/update"),
    ("GET", "/pg_mgr/install/installable"),
    ("GET", "/pg_mgr/install/installed"),
    ("POST", "/pg_mgr/install/install"),
    ("POST", "/pg_mgr/install/uninstall"),
    ("POST", "/pg_mgr/reload"),
    ("GET", "/pg_mgr/plugins/{id}/install/installable"),
    ("POST", "/pg_mgr/plugins/{id}/install/install"),
    ("GET", "/pg_mgr/plugins/{id}/configure"),
    ("GET", "/pg_mgr/plugins/{id}/configure/{id}"),
    ("PUT", "/pg_mgr/plugins/{id}/configure/{id}"),
    ("GET", "/configure/provisioning_key"),
    ("PUT", "/configure/provisioning_key"),
    ("GET", "/operation/{id}"),
    ("DELETE", "/operation/{id}"),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(["config", "device", "param", "id", "dhcp_info", "x"])
bodies = (
    st.builds(lambda k, v: json.dumps({k: v}).encode(), keys, json_values)
    | st.binary(max_size=64)
    | st.just(b"")
)
ids = st.sampled_from(["base", "nope", "plugin_server", "1", "..", "%2e%2e", "a" * 300]) | st.text(
    alphabet="abcdef0123456789_-", min_size=1, max_size=12
)


tenants = st.sampled_from([None, "7f8e1a3c-0d2b-4c55-9f61-2e4d8b6a0001", "nope", ""]) | st.text(
    alphabet="abcdef-0123", max_size=40
)


def call(
    base: str, method: str, path: str, body: bytes | None, tenant: str | None = None
) -> tuple[int, bytes]:
    req = urllib.request.Request(base + path, data=body, method=method)
    if tenant is not None:
        req.add_header("Wazo-Tenant", tenant)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


FUZZ_RUNS = {"count": 0}


def test_fuzz_every_route(provd: Any) -> None:
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(route=st.sampled_from(ROUTES), ident=ids, body=bodies, tenant=tenants)
    def probe(route: tuple[str, str], ident: str, body: bytes, tenant: str | None) -> None:
        FUZZ_RUNS["count"] += 1
        method, template = route
        path = template.replace("{id}", urllib.request.quote(ident, safe=""))
        data = body if method != "GET" else None
        status, payload = call(provd.rest_url, method, path, data, tenant)
        assert status < 500, (method, path, body, payload)
        assert b"Traceback" not in payload

    probe()
    # Still consistent afterwards: the base config survived and every config's raw config
    # can be computed, every device answers.
    status, payload = call(provd.rest_url, "GET", "/cfg_mgr/configs", None)
    configs = json.loads(payload)["configs"]
    assert status == 200 and any(c["id"] == "base" for c in configs)
    for config in configs:
        assert call(provd.rest_url, "GET", f"/cfg_mgr/configs/{config['id']}/raw", None)[0] == 200
    for device in json.loads(call(provd.rest_url, "GET", "/dev_mgr/devices", None)[1])["devices"]:
        assert call(provd.rest_url, "GET", f"/dev_mgr/devices/{device['id']}", None)[0] == 200
    assert FUZZ_RUNS["count"] >= 300
