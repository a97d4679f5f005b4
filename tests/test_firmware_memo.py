"""Synthetic firmware and pkgs.db are made once per process, whatever copy asks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_provd import pkgsdb
from pytest_provd.firmware import synthetic
from pytest_provd.firmware.store import FirmwareStore
from tests.test_firmware_install import make_plugin


def test_a_second_copy_of_the_plugin_reuses_files_and_pkgs_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_plugin(tmp_path / "one")
    second = tmp_path / "two" / "plugin"
    shutil.copytree(first, second)
    made: list[str] = []
    loaded: list[Path] = []
    original_make, original_load = synthetic._synthetic_file, pkgsdb.load

    def make(*args: object) -> bytes:
        made.append(str(args[4]))
        return original_make(*args)  # type: ignore[arg-type]

    def load(path: Path | str) -> pkgsdb.PkgsDb:
        loaded.append(Path(path))
        return original_load(path)

    # The memo is per process: files another test made for the same pkgs.db do not count.
    monkeypatch.setattr(synthetic, "_FILES", {})
    monkeypatch.setattr(synthetic, "_CLAIMS", {})
    monkeypatch.setattr(synthetic, "_synthetic_file", make)
    monkeypatch.setattr(pkgsdb, "load", load)
    installed = []
    for plugin in (first, second):
        store = FirmwareStore(plugin)
        store.install("m1-fw")
        store.uninstall("m1-fw")
        store.install("m1-fw")
        installed.append(
            {
                p.name: p.read_bytes()
                for p in (plugin / "var" / "tftpboot").rglob("*")
                if p.is_file()
            }
        )
    assert installed[0] == installed[1] and len(installed[0]) == 2
    assert len(made) == 2  # two files, made for the first copy only
    assert loaded == [first / "pkgs" / "pkgs.db", second / "pkgs" / "pkgs.db"]


def test_a_changed_pkgs_db_is_read_again(tmp_path: Path) -> None:
    plugin = make_plugin(tmp_path)
    store = FirmwareStore(plugin)
    assert store.installable()["m1-fw"]["version"] == "2.0"
    db = plugin / "pkgs" / "pkgs.db"
    db.write_text(db.read_text().replace("version: 2.0", "version: 2.1"))
    assert store.installable()["m1-fw"]["version"] == "2.1"
    assert store.install("m1-fw").version == "2.1"
