"""Faults and hygiene: killed installs recover, servers leave no threads, sockets or dirs."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from pytest_provd import tree
from pytest_provd.provd.plugins.manager import PluginManager
from tests.test_tree import make_family


def installed_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))
    make_family(tmp_path / "src")
    server = tree.make_plugin_server(
        tree.discover(tmp_path / "src").select(["all"]), tmp_path / "s"
    )
    plugins = tmp_path / "plugins"
    PluginManager(plugins, gen_cfg={}).install_from_server(str(server), "acme-phone-1.0")
    return server, plugins


@pytest.mark.parametrize("killed_at", ["after-download", "after-extract", "after-swap-out"])
def test_install_killed_midway_leaves_a_consistent_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed_at: str
) -> None:
    _server, plugins = installed_server(tmp_path, monkeypatch)
    # Reproduce on disk what a kill at each point of install_from_server leaves behind.
    staging = plugins / ".install-killed"
    (staging / "tree" / "acme-phone-1.0").mkdir(parents=True)
    (staging / "plugin-id").write_text("acme-phone-1.0")
    (staging / "package.tar.bz2").write_bytes(b"partial")
    if killed_at != "after-download":
        (staging / "tree" / "acme-phone-1.0" / "entry.py").write_text("half")
    if killed_at == "after-swap-out":
        os.replace(plugins / "acme-phone-1.0", staging / "previous")
    manager = PluginManager(plugins, gen_cfg={})
    assert list(manager.installed()) == ["acme-phone-1.0"]
    assert json.loads((plugins / "acme-phone-1.0" / "plugin-info").read_text())["version"] == "1.0"
    assert not list(plugins.glob(".install-*"))
    manager.load("acme-phone-1.0")
    manager.close()


def test_servers_leave_no_threads_sockets_or_dirs(provd_factory: object, tmp_path: Path) -> None:
    from emulators.dhcp import DhcpServer
    from emulators.snom import SnomPhone

    threads_before = threading.active_count()
    fds_before = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").is_dir() else None
    for _ in range(3):
        provd = provd_factory()  # type: ignore[operator]
        with DhcpServer(http_url=provd.http_url, provd_url=provd.rest_url) as dhcp:
            SnomPhone("D785", "00:04:13:00:00:09", dhcp_server=dhcp.address).boot()
        state_dir = provd.state_dir
        provd.close()
        assert not any(state_dir.glob("tftp-empty-root/*"))
    assert threading.active_count() <= threads_before + 1  # aiohttp's shared resolver thread
    if fds_before is not None:
        assert len(os.listdir("/proc/self/fd")) <= fds_before + 2
    own = provd_factory()  # type: ignore[operator]
    from pytest_provd.provd import EmbeddedProvd

    temp = EmbeddedProvd().start()
    temp_dir = temp.state_dir
    temp.close()
    assert not temp_dir.exists()
    own.close()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_hung_configure_fails_with_a_time_limit_and_others_keep_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from pytest_provd.provd.plugins.manager import PluginConfigError
    from tests.test_tree import ENTRY_PY

    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / "cache"))
    fam = make_family(tmp_path / "src")
    hung = ENTRY_PY.replace("{version}", "1.0").replace(
        "        tpl = self._tpl_helper.get_dev_template(None, device)",
        "        import threading\n        threading.Event().wait()  # never returns\n"
        "        tpl = self._tpl_helper.get_dev_template(None, device)",
    )
    (fam / "v1_0" / "entry.py").write_text(hung)
    found = tree.discover(tmp_path / "src")
    plugins = tmp_path / "plugins"
    for target in found.select(["all"]):
        tree.build(target, plugins)
    manager = PluginManager(plugins, gen_cfg={}, timeout=0.5)
    device = {"id": "d", "mac": "00:0b:82:00:00:01", "model": "M1", "vendor": "Acme"}
    raw = {"sip_lines": {"1": {"username": "alice", "display_name": "A", "password": "p"}}}
    start = time.monotonic()
    with pytest.raises(PluginConfigError, match=r"acme-phone-1.0.*did not return within 0.5 s"):
        manager.load("acme-phone-1.0").configure(device, raw)
    assert time.monotonic() - start < 5
    # Another plugin in the same manager still works.
    manager.load("acme-phone-2.0").configure(device, raw)
    assert (plugins / "acme-phone-2.0" / "var" / "tftpboot" / "000b82000001.xml").is_file()
    manager.close()
