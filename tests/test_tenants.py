"""Multi-tenant REST (``Wazo-Tenant``, ``recurse``), provisioning keys (``url_key``) and the
plugins' ``configure`` service resources, over the wire against the embedded provd."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_provd import tree
from pytest_provd.client import ProvdClient, ProvdClientError
from pytest_provd.provd import EmbeddedProvd
from pytest_provd.provd.domain.tenants import MASTER_TENANT
from pytest_provd.provd.plugins.rawconfig import sample_raw_config
from tests.test_embedded_server import http_get

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
SPA = "wazo-cisco-spa-7.5.5"
RESELLER, CUSTOMER, OTHER = "reseller-1", "customer-1", "other-1"


@pytest.fixture
def tenants(provd: EmbeddedProvd) -> EmbeddedProvd:
    """master → reseller → customer, and master → other."""
    provd.add_tenant(RESELLER)
    provd.add_tenant(CUSTOMER, parent=RESELLER)
    provd.add_tenant(OTHER)
    return provd


def status_of(call: object) -> int:
    with pytest.raises(ProvdClientError) as info:
        call()  # type: ignore[operator]
    return info.value.status


def test_devices_live_in_the_tenant_that_created_them(
    tenants: EmbeddedProvd, provd_client: ProvdClient
) -> None:
    customer = provd_client.with_tenant(CUSTOMER)
    reseller = provd_client.with_tenant(RESELLER)
    other = provd_client.with_tenant(OTHER)
    mine = customer.add_device({"mac": "00:0e:08:00:00:01"})
    unowned = provd_client.add_device({"mac": "00:0e:08:00:00:02"})
    assert customer.get_device(mine)["tenant_uuid"] == CUSTOMER
    assert customer.get_device(mine)["is_new"] is False
    assert provd_client.get_device(unowned)["tenant_uuid"] == MASTER_TENANT
    assert provd_client.get_device(unowned)["is_new"] is True
    # listings are per tenant; recurse adds the tenants below
    assert [d["id"] for d in customer.devices()] == [mine]
    assert reseller.devices() == []
    assert [d["id"] for d in reseller.devices(recurse=True)] == [mine]
    assert {d["id"] for d in provd_client.devices(recurse=True)} == {mine, unowned}
    assert other.devices(recurse=True) == []
    # by id: own and below only
    assert reseller.get_device(mine)["id"] == mine
    assert status_of(lambda: other.get_device(mine)) == 404
    assert status_of(lambda: customer.get_device(unowned)) == 404


def test_unknown_tenant_is_unauthorized(tenants: EmbeddedProvd, provd_client: ProvdClient) -> None:
    stranger = provd_client.with_tenant("no-such-tenant")
    with pytest.raises(ProvdClientError) as info:
        stranger.devices()
    assert info.value.status == 401 and "no-such-tenant" in str(info.value.body)
    assert tenants.devices.all() == []


def test_a_tenant_takes_a_new_device_but_not_another_tenants(
    tenants: EmbeddedProvd, provd_client: ProvdClient
) -> None:
    customer = provd_client.with_tenant(CUSTOMER)
    other = provd_client.with_tenant(OTHER)
    found = provd_client.add_device({"mac": "00:0e:08:00:00:03"})  # as auto-created
    customer.update_device(found, {"mac": "00:0e:08:00:00:03", "description": "desk 1"})
    taken = customer.get_device(found)
    assert (taken["tenant_uuid"], taken["is_new"]) == (CUSTOMER, False)
    assert status_of(lambda: other.update_device(found, {"mac": "00:0e:08:00:00:03"})) == 404
    assert status_of(lambda: other.delete_device(found)) == 404
    assert status_of(lambda: other.reconfigure(found)) == 404
    assert customer.get_device(found)["description"] == "desk 1"
    provd_client.with_tenant(RESELLER).delete_device(found)  # a parent may
    assert provd_client.devices(recurse=True) == []


def test_provisioning_keys_are_per_tenant_checked_and_unique(
    tenants: EmbeddedProvd, provd_client: ProvdClient
) -> None:
    customer = provd_client.with_tenant(CUSTOMER)
    other = provd_client.with_tenant(OTHER)
    assert customer.get_param("provisioning_key") is None
    customer.set_param("provisioning_key", "cust-key-0001")
    assert customer.get_param("provisioning_key") == "cust-key-0001"
    assert other.get_param("provisioning_key") is None
    assert provd_client.params()["provisioning_key"] is None
    for bad in ("short", "x" * 257, "has space!", "slash/inside", 42):
        assert status_of(lambda bad=bad: other.set_param("provisioning_key", bad)) == 400
    assert status_of(lambda: other.set_param("provisioning_key", "cust-key-0001")) == 400
    customer.set_param("provisioning_key", "cust-key-0001")  # its own again: fine
    customer.set_param("provisioning_key", None)
    other.set_param("provisioning_key", "cust-key-0001")  # free now


@pytest.fixture
def keyed() -> Iterator[EmbeddedProvd]:
    provd = EmbeddedProvd(http_auth_strategy="url_key").start()
    try:
        provd.add_tenant(CUSTOMER)
        provd.install_plugin_from_tree(tree.discover(SAMPLES).targets[SPA])
        yield provd
    finally:
        provd.close()


def phone_get(provd: EmbeddedProvd, path: str) -> tuple[int, bytes]:
    agent = "Cisco/SPA504G-7.5.5 (000E08AABB01)(CBT1414001A)"  # the phone identifies itself
    return http_get(provd.http_url.rstrip("/") + path, {"User-Agent": agent})


def test_url_key_strategy_serves_only_under_the_tenants_key(keyed: EmbeddedProvd) -> None:
    client = ProvdClient(keyed.rest_url, tenant=CUSTOMER)
    lines = sample_raw_config()["sip_lines"]
    config = client.add_config({"parent_ids": ["base"], "raw_config": {"sip_lines": lines}})
    device = client.add_device({"mac": "00:0e:08:aa:bb:01", "config": config, "plugin": SPA})
    # no key yet: the device cannot be configured, and the reason says so
    assert client.get_device(device)["configured"] is False
    assert "has no provisioning_key" in keyed.app.config_errors[device]
    client.set_param("provisioning_key", "cust-key-0001")
    client.reconfigure(device)
    assert client.get_device(device)["configured"] is True
    status, body = phone_get(keyed, "/cust-key-0001/000e08aabb01.xml")
    assert status == 200
    # the generated URLs carry the key, so the phone's next fetches come back through it
    assert b"/cust-key-0001/" in body
    assert phone_get(keyed, "/000e08aabb01.xml")[0] == 404
    assert phone_get(keyed, "/wrong-key-0001/000e08aabb01.xml")[0] == 404


def test_url_key_strategy_is_checked() -> None:
    with pytest.raises(ValueError, match="url_key"):
        EmbeddedProvd(http_auth_strategy="basic")


# --- plugin configure services -------------------------------------------------------------

ENTRY = """
from wazo_provd.plugins import Plugin
from wazo_provd.services import InvalidParameterError


class Params:
    description = [('server', 'Where to send events'), ('level', 'Log level')]

    def __init__(self):
        self._values = {'server': None, 'level': 'info'}

    def get(self, name, *args, **kwargs):
        return self._values[name]

    def set(self, name, value, *args, **kwargs):
        if name not in self._values:
            raise KeyError(name)
        if name == 'level' and value not in ('info', 'debug'):
            raise InvalidParameterError(value)
        if value == 'boom':
            raise RuntimeError('plugin bug')
        self._values[name] = value


class P(Plugin):
    IS_PLUGIN = True

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self.services = {'configure': Params()}
"""


def write_plugin(root: Path, plugin_id: str, entry: str) -> Path:
    path = root / plugin_id
    path.mkdir(parents=True)
    (path / "entry.py").write_text(entry)
    info = {"version": "1.0", "description": "d", "capabilities": {}}
    (path / "plugin-info").write_text(json.dumps(info))
    return path


def test_plugin_configure_service_resources(
    provd: EmbeddedProvd, provd_client: ProvdClient, tmp_path: Path
) -> None:
    provd.install_plugin_dir(write_plugin(tmp_path, "acme-params-1.0", ENTRY))
    links = provd_client.request("GET", "/pg_mgr/plugins/acme-params-1.0")[2]["links"]
    assert {"rel": "srv.configure", "href": "/provd/pg_mgr/plugins/acme-params-1.0/configure"} in (
        links
    )
    assert provd_client.plugin_params("acme-params-1.0") == {"server": None, "level": "info"}
    provd_client.set_plugin_param("acme-params-1.0", "level", "debug")
    assert provd_client.plugin_params("acme-params-1.0")["level"] == "debug"
    path = "/pg_mgr/plugins/acme-params-1.0/configure"
    assert provd_client.request("GET", path + "/level")[2] == {"param": {"value": "debug"}}
    set_ = provd_client.set_plugin_param
    assert status_of(lambda: set_("acme-params-1.0", "level", "loud")) == 400
    assert status_of(lambda: set_("acme-params-1.0", "nope", 1)) == 404
    assert status_of(lambda: provd_client.request("GET", path + "/nope")) == 404
    with pytest.raises(ProvdClientError) as info:
        set_("acme-params-1.0", "server", "boom")
    assert info.value.status == 400 and "acme-params-1.0" in str(info.value.body)
    bad_body = provd_client.request
    assert status_of(lambda: bad_body("PUT", path + "/level", {"value": 1})) == 400
    # a plugin without the service, and an unknown plugin
    provd.install_plugin_from_tree(tree.discover(SAMPLES).targets[SPA])
    assert status_of(lambda: provd_client.plugin_params(SPA)) == 404
    assert status_of(lambda: provd_client.plugin_params("no-such-plugin")) == 404
