"""The embedded provd running REAL, unmodified plugins of the wazo-provd-plugins tree."""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest

from pytest_provd import tree
from pytest_provd.client import ProvdClient
from pytest_provd.provd import EmbeddedProvd
from pytest_provd.provd.plugins.rawconfig import sample_raw_config

# The fixtures under test (until pytest_provd.plugin registers them).

REAL = Path(os.environ.get("PYTEST_PROVD_REAL_TREE", "/tmp/real/plugins-repo")) / "plugins"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not REAL.is_dir(), reason=f"real plugins tree not found at {REAL}"),
]
SNOM = "wazo-snom-10.1.215.13"


def test_real_snom_plugin_provisions_a_phone(
    provd: EmbeddedProvd, provd_client: ProvdClient, tmp_path: Path
) -> None:
    target = tree.discover(REAL).targets[SNOM]
    provd.install_plugin_from_tree(tree.build(target, tmp_path, cache_dir=tmp_path / "cache"))
    lines = sample_raw_config()["sip_lines"]
    config_id = provd_client.add_config(
        {"parent_ids": ["base", "defaultconfigdevice"], "raw_config": {"sip_lines": lines}}
    )
    device_id = provd_client.add_device({"mac": "00:04:13:ab:cd:ef", "config": config_id})
    ua = "Mozilla/4.0 (compatible; snomD785-SIP 10.1.215.13 1.1.5-IFX-05.01.12 000413ABCDEF)"
    request = urllib.request.Request(
        provd.http_url + "000413ABCDEF.xml", headers={"User-Agent": ua}
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        body = resp.read()
    assert b"alice1001" in body and b"bob1002" in body
    device = provd_client.get_device(device_id)
    assert device["plugin"] == SNOM and device["configured"] is True
