"""Gaps between the embedded provd and real provd that emulating vendors found, closed.

- a plugin's synchronize thread calling ``reactor.callFromThread(app.dev_update, ...)``;
- a provisioning request whose User-Agent holds a control byte (Avaya 1200 series);
- synthetic firmware named after what the plugin's files point at (Polycom ``sip.ld``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pytest_provd.provd.server import EmbeddedProvd

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
