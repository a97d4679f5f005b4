"""Staging firmware for real fetchfw (``compat.realplugins.stage_firmware``): no wazo_provd
needed, only a plugin's pkgs.db."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from pytest_provd import pkgsdb
from pytest_provd.compat.realplugins import stage_firmware

PLUGIN = Path(__file__).parent / "data" / "current" / "plugins" / "wazo_snom" / "v10_1_215_13"


def test_staged_files_match_the_rewritten_pkgs_db(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    shutil.copytree(PLUGIN, plugin)
    before = pkgsdb.load(plugin / "pkgs" / "pkgs.db")
    limits = stage_firmware(plugin, None, tmp_path / "stage")
    after = pkgsdb.load(plugin / "pkgs" / "pkgs.db")
    assert set(after.files) == set(before.files)
    staged = 0
    for file_id, entry in after.files.items():
        assert entry.url is not None and entry.url.startswith("http://")
        name = Path(before.files[file_id].url or "").name
        assert Path(entry.url).name == name  # same name: fetchfw stores it as before
        served = tmp_path / "stage" / name
        if not served.is_file():
            continue
        data = served.read_bytes()
        assert entry.size_int == len(data)
        assert entry.sha1sum == hashlib.sha1(data).hexdigest()
        assert entry.sha1sum != before.files[file_id].sha1sum
        staged += 1
    assert staged == len(after.files) - sum(len(after.packages[p].files) for p in limits) > 0


def test_a_real_file_is_staged_as_it_is_and_pkgs_db_keeps_its_checksum(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    shutil.copytree(PLUGIN, plugin)
    db = pkgsdb.load(plugin / "pkgs" / "pkgs.db")
    file_id, entry = sorted(db.files.items())[0]
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / str(entry.local_name)).write_bytes(b"the vendor's file")
    stage_firmware(plugin, cache, tmp_path / "stage")
    kept = pkgsdb.load(plugin / "pkgs" / "pkgs.db").files[file_id]
    assert kept.sha1sum == entry.sha1sum and kept.size == entry.size
    served = tmp_path / "stage" / Path(entry.url or "").name
    assert served.read_bytes() == b"the vendor's file"
