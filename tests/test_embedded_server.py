"""The embedded provd end to end over real sockets: the Managing Plugins flow and the pipeline."""

from __future__ import annotations

import io
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import tftpy

from pytest_provd import tree
from pytest_provd.client import ProvdClient, ProvdClientError
from pytest_provd.provd import EmbeddedProvd
from pytest_provd.provd.plugins.rawconfig import sample_raw_config

# The fixtures under test (until pytest_provd.plugin registers them).

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
SNOM = "wazo-snom-10.1.215.13"
SPA = "wazo-cisco-spa-7.5.5"
SNOM_UA = "Mozilla/4.0 (compatible; snomD785-SIP 10.1.215.13 1.1.5-IFX-05.01.12 {mac})"


@pytest.fixture(scope="session")
def sample_tree() -> tree.PluginTree:
    return tree.discover(SAMPLES)


@pytest.fixture(scope="session")
def plugin_server(sample_tree: tree.PluginTree, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugin server directory (plugins.db + packages) of two sample plugins."""
    base = tmp_path_factory.mktemp("plugin-server")
    targets = [sample_tree.targets[SNOM], sample_tree.targets[SPA]]
    return tree.make_plugin_server(targets, base / "server", cache_dir=base / "cache")


@pytest.fixture
def http_plugin_server(plugin_server: Path) -> Iterator[str]:
    """The same plugin server over HTTP, from a tiny aiohttp static server on loopback."""
    import asyncio

    from aiohttp import web

    ready: list[str] = []
    started = threading.Event()
    stop: list[asyncio.Event] = []
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        app = web.Application()
        app.router.add_static("/plugins/", plugin_server, show_index=False)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        ready.append(f"http://127.0.0.1:{runner.addresses[0][1]}/plugins/")
        stop.append(asyncio.Event())
        started.set()
        await stop[0].wait()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert started.wait(5)
    yield ready[0]
    loop.call_soon_threadsafe(stop[0].set)
    thread.join(5)
    loop.close()


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def tftp_get(address: tuple[str, int], name: str, **options: int) -> bytes:
    out = io.BytesIO()
    tftpy.TftpClient(address[0], address[1], options=options).download(name, out, timeout=2)
    return out.getvalue()


def two_lines(**line1: str) -> dict[str, object]:
    lines = sample_raw_config()["sip_lines"]
    lines["1"].update(line1)
    return {"sip_lines": lines}


@pytest.mark.parametrize("over_http", [False, True], ids=["dir", "http"])
def test_managing_plugins_flow(
    provd: EmbeddedProvd,
    provd_client: ProvdClient,
    plugin_server: Path,
    http_plugin_server: str,
    over_http: bool,
) -> None:
    provd_client.set_plugin_server(http_plugin_server if over_http else str(plugin_server))
    assert provd_client.update_plugins() == "update|success"
    installable = provd_client.installable_plugins()
    assert set(installable) == {SNOM, SPA}
    assert "filename" not in installable[SPA]
    assert {"version", "description", "capabilities", "dsize", "sha1sum"} <= set(installable[SPA])
    provd_client.install_plugin(SPA)
    assert SPA in provd_client.installed_plugins()
    assert provd_client.loaded_plugins() == [SPA]
    installed_fw = provd_client.install_all_firmware(SPA)
    assert installed_fw and set(installed_fw) <= set(provd_client.installed_firmware(SPA))
    config_id = provd_client.add_config(
        {"parent_ids": ["base", "defaultconfigdevice"], "raw_config": two_lines()}
    )
    device_id = provd_client.add_device(
        {"mac": "00:0e:08:aa:bb:cc", "ip": "127.0.0.1", "config": config_id, "plugin": SPA}
    )
    device = provd_client.get_device(device_id)
    assert device["configured"] is True, provd.app.config_errors
    status, body = http_get(provd.http_url + "000e08aabbcc.xml")
    assert status == 200
    assert b"alice1001" in body and b"bob1002" in body
    assert tftp_get(provd.tftp_address, "000e08aabbcc.xml", blksize=1024, tsize=0) == body
    # A config change reconfigures the device: both servers follow.
    provd_client.update_config(
        config_id,
        {"parent_ids": ["base", "defaultconfigdevice"], "raw_config": two_lines(username="carol")},
    )
    assert b"carol" in http_get(provd.http_url + "000e08aabbcc.xml")[1]
    assert b"carol" in tftp_get(provd.tftp_address, "000e08aabbcc.xml")
    # Installing again is refused as provd refuses it; uninstalling unconfigures the device.
    with pytest.raises(ProvdClientError) as info:
        provd_client.install_plugin(SPA)
    assert info.value.status == 400 and "already installed" in info.value.body["error"]
    provd_client.uninstall_plugin(SPA)
    assert provd_client.get_device(device_id)["configured"] is False


def test_phone_request_identifies_associates_and_configures(
    provd: EmbeddedProvd, provd_client: ProvdClient, sample_tree: tree.PluginTree
) -> None:
    provd.install_plugin_from_tree(sample_tree.targets[SNOM])
    provd.install_plugin_from_tree(sample_tree.targets["wazo-snom-10.1.200.1"])
    config_id = provd.create_config(two_lines(username="dave"))
    # No plugin, no model: only what provd's users know.
    device_id = provd_client.add_device({"mac": "00:04:13:aa:bb:cc", "config": config_id})
    assert provd_client.get_device(device_id)["configured"] is False
    ua = {"User-Agent": SNOM_UA.format(mac="000413AABBCC")}
    status, body = http_get(provd.http_url + "snomD785-000413AABBCC.htm", ua)
    assert status == 200 and b"000413AABBCC.xml" in body
    device = provd_client.get_device(device_id)
    # Extracted facts are added, and the exact-version plugin wins the association.
    assert (device["vendor"], device["model"], device["version"]) == ("Snom", "D785", "10.1.215.13")
    assert device["plugin"] == SNOM and device["configured"] is True and device["ip"] == "127.0.0.1"
    status, body = http_get(provd.http_url + "000413AABBCC.xml", ua)
    assert status == 200 and b"dave" in body
    last = provd.pipeline.log[-1]
    assert (last["proto"], last["plugin"], last["device_id"]) == ("http", SNOM, device_id)


def test_unknown_phone_gets_an_autoprov_device(
    provd: EmbeddedProvd, provd_client: ProvdClient, sample_tree: tree.PluginTree
) -> None:
    provd.install_plugin_from_tree(sample_tree.targets[SNOM])
    ua = {"User-Agent": SNOM_UA.format(mac="000413000001")}
    assert http_get(provd.http_url + "snomD785-000413000001.htm", ua)[0] == 200
    device = provd_client.find_device(mac="00:04:13:00:00:01")
    assert device is not None and device["added"] == "auto" and device["configured"] is True
    config = provd_client.get_config(device["config"])
    assert config["transient"] is True and config["parent_ids"] == ["autoprov"]
    assert provd_client.raw_config(device["config"])["sip_lines"]["1"]["username"] == "anonymous"
    # The transient config goes with its last device.
    provd_client.delete_device(device["id"])
    with pytest.raises(ProvdClientError) as info:
        provd_client.get_config(device["config"])
    assert info.value.status == 404


def test_dhcpinfo_feeds_the_pipeline(
    provd: EmbeddedProvd, provd_client: ProvdClient, sample_tree: tree.PluginTree
) -> None:
    provd.install_plugin_from_tree(sample_tree.targets[SNOM])
    vci = ".".join(f"{b:x}" for b in b"snomD785")  # Wazo's hook: unpadded dotted hex
    provd_client.dhcpinfo("10.0.0.7", "00:04:13:00:00:02", [f"060{vci}", "0121.2"])
    device = provd_client.find_device(mac="00:04:13:00:00:02")
    assert device is not None
    assert (device["ip"], device["vendor"], device["model"]) == ("10.0.0.7", "Snom", "D785")
    assert device["plugin"] == SNOM
    # The same phone under a new address: updated, not duplicated; NAT off clears old owners.
    provd_client.dhcpinfo("10.0.0.8", "00:04:13:00:00:02", [f"060{vci}"])
    assert [d["ip"] for d in provd_client.devices(mac="00:04:13:00:00:02")] == ["10.0.0.8"]
    assert provd.pipeline.log[-1]["proto"] == "dhcp"


def test_raw_config_merge_order_and_roles(provd_client: ProvdClient) -> None:
    line = {"username": "a", "number": "1"}
    a = provd_client.add_config(
        {"parent_ids": [], "raw_config": {"locale": "fr_FR", "X_a": 1, "sip_lines": {"1": line}}}
    )
    b = provd_client.add_config(
        {"parent_ids": [], "raw_config": {"locale": "de_DE", "sip_lines": {"1": {"username": "b"}}}}
    )
    child = provd_client.add_config(
        {"id": "child", "parent_ids": [a, b, "missing"], "raw_config": {"X_a": 2}}
    )
    raw = provd_client.raw_config(child)
    # Base raw config first, then parents in order (later wins), then the config itself.
    assert raw["locale"] == "de_DE" and raw["X_a"] == 2
    assert raw["sip_lines"]["1"] == {"username": "b", "number": "1"}
    assert {"ip", "http_port", "tftp_port", "http_base_url"} <= set(raw)
    with pytest.raises(ProvdClientError) as info:
        provd_client.delete_config("base")
    assert info.value.status == 403
    autocreated = provd_client.autocreate()
    assert provd_client.get_config(autocreated)["parent_ids"] == ["autoprov"]


def test_plugin_configure_error_is_surfaced(
    provd: EmbeddedProvd, provd_client: ProvdClient, sample_tree: tree.PluginTree
) -> None:

    provd.install_plugin_from_tree(sample_tree.targets[SNOM])
    config_id = provd.create_config(two_lines())
    # Snom needs a model to name its files: provd leaves the device unconfigured.
    device_id = provd.create_device(mac="00:04:13:00:00:03", config=config_id, plugin=SNOM)
    assert provd_client.get_device(device_id)["configured"] is False
    assert "model needed" in provd.app.config_errors[device_id]


def test_factory_instances_are_independent_and_closed(provd_factory: object) -> None:
    first = provd_factory(token="secret")  # type: ignore[operator]
    second = provd_factory()  # type: ignore[operator]
    assert first.rest_url != second.rest_url
    with pytest.raises(ProvdClientError) as info:
        ProvdClient(first.rest_url).devices()
    assert info.value.status == 401
    assert ProvdClient(first.rest_url, token="secret").devices() == []
    first.close()
    first.close()  # idempotent
    with pytest.raises(ProvdClientError) as info:
        ProvdClient(first.rest_url, timeout=1).status()
    assert info.value.status == 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(first.tftp_address)  # the TFTP port is free again


def test_start_and_close_are_fast_and_leave_no_thread() -> None:
    before = {t.ident for t in threading.enumerate()}
    began = time.perf_counter()
    with EmbeddedProvd() as server:
        assert server.ready_seconds is not None and server.ready_seconds < 2
        state_dir = server.state_dir
        assert ProvdClient(server.rest_url).status()["rest_api"] == "ok"
    assert time.perf_counter() - began < 5
    assert not state_dir.exists()
    leftover = [t for t in threading.enumerate() if t.ident not in before and t.is_alive()]
    assert leftover == []
