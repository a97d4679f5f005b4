"""Emulated phones against the embedded provd, over real sockets, on our sample families.

The test a maintainer reads first is ``test_two_lines_pushed_over_rest_reach_the_phone``.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from emulators.factory import vendor_oui
from pytest_provd import tree
from pytest_provd.assertions import assert_line, assert_provisioned, assert_wellformed
from pytest_provd.client import ProvdClient
from pytest_provd.fixtures import PhoneFactory
from pytest_provd.provd import EmbeddedProvd
from pytest_provd.provd.plugins.rawconfig import sample_raw_config

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
SAMPLE_TREE = tree.discover(SAMPLES)
VENDOR = {"wazo_snom": "snom", "wazo_cisco_spa": "cisco", "wazo_aastra": "aastra"}


def install(provd: EmbeddedProvd, plugin_id: str, tmp_path: Path) -> Any:
    return provd.install_plugin_dir(tree.build(SAMPLE_TREE.targets[plugin_id], tmp_path))


def push_config(client: ProvdClient, mac: str, **line1: str) -> str:
    raw = sample_raw_config()
    raw["sip_lines"]["1"].update(line1)
    config_id = client.add_config(
        {"parent_ids": ["base"], "raw_config": {"sip_lines": raw["sip_lines"]}}
    )
    client.add_device({"mac": mac, "config": config_id})
    return config_id


def test_two_lines_pushed_over_rest_reach_the_phone(
    provd: EmbeddedProvd, provd_client: ProvdClient, provd_make_phone: PhoneFactory, tmp_path: Path
) -> None:
    install(provd, "wazo-snom-10.1.215.13", tmp_path)
    push_config(provd_client, "00:04:13:00:00:01", username="carol", display_name="Carol <C&C>")
    phone = provd_make_phone("snom", "D785", mac="00:04:13:00:00:01")
    phone.boot()
    assert_provisioned(phone)
    assert_wellformed(phone)
    assert_line(phone, 1, username="carol", display_name="Carol <C&C>", password="secret1001")
    assert_line(phone, 2, username="bob1002", display_name="Bob Éléphant", registrar="127.0.0.1")
    assert phone.state.ip.startswith("127.1.")
    device = provd_client.devices()[0]
    assert (device["model"], device["plugin"], device["ip"]) == (
        "D785",
        "wazo-snom-10.1.215.13",
        phone.state.ip,
    )


MODELS = [
    (target.plugin_id, VENDOR[target.family.name], model)
    for target in SAMPLE_TREE.targets.values()
    for model in __import__("pytest_provd.suite", fromlist=["x"]).target_models(target)
]


@pytest.mark.parametrize(("plugin_id", "vendor", "model"), MODELS)
def test_every_sample_model_boots_to_configured(
    provd: EmbeddedProvd,
    provd_client: ProvdClient,
    provd_make_phone: PhoneFactory,
    tmp_path: Path,
    plugin_id: str,
    vendor: str,
    model: str,
) -> None:
    install(provd, plugin_id, tmp_path)
    mac = vendor_oui(vendor, model) + ":00:01:01"
    push_config(provd_client, mac)
    phone = provd_make_phone(vendor, model, mac=mac)
    phone.boot()
    assert_line(phone, 1, username="alice1001", display_name="Alice Liddell")
    assert_line(phone, 2, username="bob1002")
    assert_wellformed(phone)


@pytest.mark.parametrize(
    ("plugin_id", "vendor", "model"),
    [
        ("wazo-snom-10.1.215.13", "snom", "D785"),
        ("wazo-cisco-spa-7.5.5", "cisco", "SPA504G"),
        ("wazo-aastra-6.4.0-SP2", "aastra", "6867i"),
    ],
)
def test_old_firmware_upgrades_reboots_and_provisions_again(
    provd: EmbeddedProvd,
    provd_client: ProvdClient,
    provd_make_phone: PhoneFactory,
    tmp_path: Path,
    plugin_id: str,
    vendor: str,
    model: str,
) -> None:
    # The sample firmware "blobs" (tests/data/README.md) as a --provd-firmware-dir cache, so
    # archives hold exactly the member names the templates point phones to.
    from tests.test_sample_data import synthetic_file

    cache = tmp_path / "firmware"
    cache.mkdir()
    catalogue = json.loads((SAMPLES.parent / "synthetic-firmware.json").read_text())
    for name, entry in catalogue["files"].items():
        (cache / name).write_bytes(synthetic_file(name, entry))
    provd.set_firmware_dir(cache)
    install(provd, plugin_id, tmp_path)
    installable = provd_client.installable_firmware(plugin_id)
    for pkg_id in installable:
        provd_client.install_firmware(plugin_id, pkg_id)
    mac = vendor_oui(vendor, model) + ":00:02:02"
    push_config(provd_client, mac)
    phone = provd_make_phone(vendor, model, mac=mac, version="0.9.0")
    state = phone.boot()
    target_version = SAMPLE_TREE.targets[plugin_id].target_id.split("-")[0]
    assert state.flashed and state.flashed[-1].startswith(target_version), state.describe()
    assert state.reboots == 1
    assert_line(phone, 1, username="alice1001")
    fetched = [f.path for f in state.fetches]
    assert len(fetched) > len(set(fetched)), "the phone provisioned again after flashing"


def test_unknown_phone_gets_the_autoprov_line(
    provd: EmbeddedProvd, provd_client: ProvdClient, provd_make_phone: PhoneFactory, tmp_path: Path
) -> None:
    # As on a real Wazo: a phone nobody declared is created with the autoprov config.
    install(provd, "wazo-aastra-6.4.0-SP2", tmp_path)
    phone = provd_make_phone("aastra", "6865i")
    phone.boot()
    assert_line(phone, 1, username="anonymous")
    (device,) = provd_client.devices()
    assert device["added"] == "auto" and device["mac"] == phone.mac


def test_hundred_phones_boot_concurrently(
    provd: EmbeddedProvd, provd_client: ProvdClient, provd_make_phone: PhoneFactory, tmp_path: Path
) -> None:
    install(provd, "wazo-snom-10.1.215.13", tmp_path)
    phones = []
    for n in range(100):
        mac = f"00:04:13:10:{n // 256:02x}:{n % 256:02x}"
        push_config(provd_client, mac, username=f"user{n}")
        phones.append(provd_make_phone("snom", "D735", mac=mac))
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        states = list(pool.map(lambda p: p.boot(), phones))
    elapsed = time.perf_counter() - start
    assert all(s.provisioned for s in states)
    assert sorted(s.lines[1].username for s in states) == sorted(f"user{n}" for n in range(100))
    assert len({s.ip for s in states}) == 100
    assert len(provd_client.devices()) == 100
    assert elapsed < 60


def test_provision_fails_when_provd_records_another_model_than_the_phone(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A DHCP extractor that keeps only "SPA" and three digits (the defect of the real
    # wazo-cisco-spa-7.5.5): provd records SPA504 for a SPA504G and never corrects it.
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    plugins = pytester.path / "plugins"
    shutil.copytree(SAMPLES, plugins)
    common = plugins / "wazo_cisco_spa" / "common" / "common.py"
    text = common.read_text()
    assert r"(?P<model>SPA\d{3}\w*)" in text
    common.write_text(text.replace(r"(?P<model>SPA\d{3}\w*)", r"(?P<model>SPA\d{3})\w*"))
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(plugins),
        "--provd-plugin",
        "wazo-cisco-spa-7.5.5",
        "-m",
        "provd_provision",
        "-k",
        "SPA504G and provision and not wellformed",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*SPA504G: provd recorded this phone as model 'SPA504', so the plugin configured it*"]
    )


def test_yealink_sample_family_boots_and_upgrades(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    extra = Path(__file__).parent / "data" / "extra" / "plugins"
    result = pytester.runpytest_subprocess(
        "--provd-plugins-dir",
        str(extra),
        "--provd-plugin",
        "wazo-yealink-v86",
        "-m",
        "provd_provision or provd_firmware",
    )
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        ["wazo-yealink-v86: 5 passed | 2 phones provisioned, 2 firmware upgrades, 2 firmware*"]
    )
