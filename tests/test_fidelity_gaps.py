"""Gaps between the embedded provd and real provd that emulating vendors found, closed.

- a plugin's synchronize thread calling ``reactor.callFromThread(app.dev_update, ...)``;
- a provisioning request whose User-Agent holds a control byte (Avaya 1200 series);
- synthetic firmware named after what the plugin's files point at (Polycom ``sip.ld``).
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from pytest_provd.provd.server import EmbeddedProvd

# Twisted's reactor warns on import where service_identity is not installed (an interpreter
# with the real wazo_provd's pins): the environment's, not what these tests pin.
pytestmark = pytest.mark.filterwarnings(
    "ignore:You do not have a working installation of the service_identity module:UserWarning"
)

SYNC_ENTRY = """
from twisted.internet import threads
from wazo_provd.plugins import Plugin


class SyncPlugin(Plugin):
    IS_PLUGIN = True

    def __init__(self, app, plugin_dir, gen_cfg, spec_cfg):
        super().__init__(app, plugin_dir, gen_cfg, spec_cfg)
        self._app = app

    def configure(self, device, raw_config):
        pass

    def _do_synchronize(self, device):
        # As wazo-gigaset's C470/C590: read the phone's info, hand it to the app.
        device['version'] = 'synced-2.0'
        from twisted.internet import reactor

        reactor.callFromThread(self._app.dev_update, device)

    def synchronize(self, device, raw_config):
        return threads.deferToThread(self._do_synchronize, device)
"""


def _sync_plugin(root: Path) -> Path:
    path = root / "acme-sync-1.0"
    path.mkdir(parents=True)
    (path / "entry.py").write_text(SYNC_ENTRY)
    info = {"version": "1.0", "description": "d", "capabilities": {"Acme, S1, 1.0": {}}}
    (path / "plugin-info").write_text(json.dumps(info))
    return path


def test_synchronize_thread_updating_the_device_does_not_deadlock(tmp_path: Path) -> None:
    with EmbeddedProvd(tmp_path / "state", default_configs=True) as provd:
        provd.install_plugin_dir(_sync_plugin(tmp_path))
        config_id = provd.create_config({"sip_lines": {}}, parent_ids=["base"])
        device_id = provd.create_device(
            mac="00:11:22:33:44:99",
            ip="127.0.0.9",
            vendor="Acme",
            model="S1",
            plugin="acme-sync-1.0",
            config=config_id,
        )
        assert provd.device(device_id)["configured"]
        started = time.monotonic()
        provd.app.dev_synchronize(device_id)
        elapsed = time.monotonic() - started
        # Before the fix the update waited on the app lock until the 10 s timeout.
        assert elapsed < 5.0, f"synchronize took {elapsed:.1f} s"
        assert provd.device(device_id)["version"] == "synced-2.0"


UA_ENTRY = """
from wazo_provd.plugins import Plugin


class UaExtractor:
    def extract(self, request, request_type):
        ua = request.getHeader('User-Agent')
        return {'vendor': 'Acme', 'version': ua} if ua else None


class UaPlugin(Plugin):
    IS_PLUGIN = True
    http_dev_info_extractor = UaExtractor()
"""


def _raw_get(port: int, user_agent: bytes) -> bytes:
    request = (
        b"GET /provision/file.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: "
        + user_agent
        + b"\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_provisioning_http_accepts_control_bytes_in_headers(tmp_path: Path) -> None:
    """Twisted (real provd) takes an Avaya 1200's ``AVAYA/SIP12x0\\x14/...`` User-Agent."""
    plugin = tmp_path / "acme-ua-1.0"
    plugin.mkdir()
    (plugin / "entry.py").write_text(UA_ENTRY)
    (plugin / "plugin-info").write_text(
        json.dumps({"version": "1.0", "description": "d", "capabilities": {}})
    )
    with EmbeddedProvd(tmp_path / "state") as provd:
        provd.install_plugin_dir(plugin)
        port = int(provd.http_url.rstrip("/").rsplit(":", 1)[1])
        answer = _raw_get(port, b"AVAYA/SIP12x0\x14/4.4.0")
        assert answer.startswith(b"HTTP/1.1 404"), answer[:200]
        seen = [r for r in provd.pipeline.log if r["proto"] == "http"]
        assert seen and seen[-1]["dev_info"].get("version") == "AVAYA/SIP12x0\x14/4.4.0"
        # A known difference (compat/QUIRKS.md): twisted takes a NUL byte too, aiohttp does not.
        assert _raw_get(port, b"AVAYA\x00x").split(b"\r\n", 1)[0].endswith(b" 400 Bad Request")
        # The REST API keeps aiohttp's strict parser.
        rest_port = int(provd.rest_url.split(":")[2].split("/")[0])
        rest_answer = _raw_get(rest_port, b"AVAYA/SIP12x0\x14/4.4.0")
        assert rest_answer.split(b"\r\n", 1)[0].endswith(b" 400 Bad Request")


POLYCOM_LIKE_DB = """\
[pkg_software]
description: UC software
version: 5.4.3
files: software
install: acme-software

[pkg_bootblock]
description: BootBlock
version: 3.0.4
files: bootblock
install: acme-bootblock

[install_acme-software]
a-b: unzip $FILE1
b-c: cp *.ld Localization ./

[install_acme-bootblock]
a-b: unzip $FILE1
b-c: cp *.ld ./

[file_software]
url: http://firmware.example.invalid/software.zip
size: 10
sha1sum: 0000000000000000000000000000000000000000

[file_bootblock]
url: http://firmware.example.invalid/bootblock.zip
size: 10
sha1sum: 0000000000000000000000000000000000000000
"""


def test_synthetic_firmware_takes_the_names_static_files_point_at(tmp_path: Path) -> None:
    """Polycom's master file says ``APP_FILE_PATH="sip.ld"``: the image is ``sip.ld``."""
    from pytest_provd.firmware.store import FirmwareStore

    plugin = tmp_path / "plugin"
    (plugin / "pkgs").mkdir(parents=True)
    (plugin / "pkgs" / "pkgs.db").write_text(POLYCOM_LIKE_DB)
    tftpboot = plugin / "var" / "tftpboot"
    tftpboot.mkdir(parents=True)
    (tftpboot / "000000000000.cfg").write_text(
        '<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="common.cfg">\n'
        '   <APPLICATION_VVX1500 BOOTBLOCK_FILE_PATH_VVX1500="bootblock.ld" />\n'
        "</APPLICATION>\n"
    )
    store = FirmwareStore(plugin)
    # Written after the store was made (as configure does): names no firmware.
    (tftpboot / "001122334455.cfg").write_text('APP_FILE_PATH="other.ld"\n')
    assert sorted(store.install("software").installed) == ["Localization", "sip.ld"]
    # bootblock.ld fits the bootblock package by name: only that package gets it.
    assert sorted(store.install("bootblock").installed) == ["bootblock.ld"]
