"""Firmware installation from pkgs.db: synthetic and cached files, sandboxing, uninstall."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from pytest_provd.firmware.image import MARKER
from pytest_provd.firmware.store import FirmwareStore
from pytest_provd.problems import SourceError

DB = """\
[pkg_m1-fw]
description: M1 firmware
version: 2.0
files: m1-zip m1-boot
install: acme-fw

[install_acme-fw]
a-b: unzip $FILE1
b-c: include *.st
a-d: cp $FILE2 boot/

[file_m1-zip]
url: http://firmware.example.invalid/m1-2.0.zip
size: {zip_size}
sha1sum: {zip_sha1}

[file_m1-boot]
filename: boot.bin
size: 5
sha1sum: {boot_sha1}
"""


def make_plugin(tmp_path: Path, zip_bytes: bytes = b"PK", boot: bytes = b"boot!") -> Path:
    plugin = tmp_path / "plugin"
    (plugin / "pkgs").mkdir(parents=True)
    (plugin / "var" / "tftpboot").mkdir(parents=True)
    (plugin / "pkgs" / "pkgs.db").write_text(
        DB.format(
            zip_size=len(zip_bytes),
            zip_sha1=hashlib.sha1(zip_bytes).hexdigest(),
            boot_sha1=hashlib.sha1(boot).hexdigest(),
        )
    )
    return plugin


def test_synthetic_install_runs_the_recipe(tmp_path: Path) -> None:
    store = FirmwareStore(make_plugin(tmp_path))
    assert store.installable()["m1-fw"]["version"] == "2.0"
    report = store.install("m1-fw")
    assert {f.mode for f in report.files} == {"synthetic"}
    # no template names a .st file: the package name without "-fw", as Aastra phones fetch
    assert sorted(report.installed) == ["boot/boot.bin", "m1.st"]
    tftpboot = tmp_path / "plugin" / "var" / "tftpboot"
    assert (tftpboot / "m1.st").read_bytes().startswith(MARKER + b": m1.st version 2.0")
    assert store.installed()["m1-fw"]["version"] == "2.0"
    store.uninstall("m1-fw")
    assert not (tftpboot / "m1.st").exists() and store.installed() == {}


def test_synthetic_members_take_the_names_templates_point_at(tmp_path: Path) -> None:
    plugin = make_plugin(tmp_path)
    (plugin / "templates").mkdir()
    # several .st names match "*.st": the one with the package's version and name wins
    (plugin / "templates" / "M1.tpl").write_text(
        "upgrade: {{ XX_server_url }}/firmware/m1-2-0.st\n"
        "old: {{ XX_server_url }}/firmware/m1-1-9.st\n"
        "other: {{ XX_server_url }}/firmware/m2-2-0.st\n"
    )
    report = FirmwareStore(plugin).install("m1-fw")
    assert sorted(report.installed) == ["boot/boot.bin", "m1-2-0.st"]
    assert (
        (plugin / "var" / "tftpboot" / "m1-2-0.st")
        .read_bytes()
        .startswith(MARKER + b": m1-2-0.st version 2.0")
    )


def test_cached_real_files_are_verified(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("real.st", b"real firmware")
    plugin = make_plugin(tmp_path, buf.getvalue())
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "m1-2.0.zip").write_bytes(buf.getvalue())
    (cache / "boot.bin").write_bytes(b"boot!")
    report = FirmwareStore(plugin, cache).install("m1-fw")
    assert {f.mode for f in report.files} == {"cache"}
    assert (plugin / "var" / "tftpboot" / "real.st").read_bytes() == b"real firmware"
    (cache / "boot.bin").write_bytes(b"boot?")
    with pytest.raises(SourceError, match=r"sha1sum .* but .*boot.bin has") as info:
        FirmwareStore(plugin, cache).install("m1-fw")
    assert info.value.line == 20


def test_traversal_member_is_refused_and_nothing_escapes(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("../../escape.st", b"x")
    plugin = make_plugin(tmp_path, buf.getvalue())
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "m1-2.0.zip").write_bytes(buf.getvalue())
    (cache / "boot.bin").write_bytes(b"boot!")
    with pytest.raises(SourceError, match="leaves the install sandbox") as info:
        FirmwareStore(plugin, cache).install("m1-fw")
    assert info.value.line == 8
    assert not list(tmp_path.rglob("escape.st"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("a-d: cp $FILE2 boot/", "a-d: cp $FILE2 ../../boot/", "leaves the install sandbox"),
        ("a-b: unzip $FILE1", "a-b: unrar $FILE1", "synthetic firmware cannot feed 'unrar'"),
    ],
)
def test_bad_steps_fail_with_section_and_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    plugin = make_plugin(tmp_path)
    db = plugin / "pkgs" / "pkgs.db"
    db.write_text(db.read_text().replace(old, new))
    with pytest.raises(SourceError, match=message) as info:
        FirmwareStore(plugin).install("m1-fw")
    assert info.value.line is not None and "pkgs.db" in str(info.value.path)
    assert not list((plugin / "var" / "tftpboot").rglob("*"))


def test_unknown_package(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no package \[pkg_nope\]"):
        FirmwareStore(make_plugin(tmp_path)).install("nope")


SERIES_DB = """\
[pkg_6800-fw]
description: Firmware for the 6800 series
version: 4.2.0
files: series-zip
install: acme-fw

[install_acme-fw]
a-b: unzip $FILE1
b-c: include *.st

[file_series-zip]
url: http://firmware.example.invalid/6800series.zip
size: 2
sha1sum: 0
"""


def test_a_series_package_holds_one_member_per_model_of_the_series(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    (plugin / "pkgs").mkdir(parents=True)
    (plugin / "pkgs" / "pkgs.db").write_text(SERIES_DB)
    caps = {f"Acme, {m}, 4.2.0": {} for m in ("6863i", "6865i", "6920(w)", "6731i")}
    (plugin / "plugin-info").write_text(json.dumps({"version": "1", "capabilities": caps}))
    report = FirmwareStore(plugin).install("6800-fw")
    # 68xx models only: the 6731i and 6920 are not of the 6800 series
    assert sorted(report.installed) == ["6863i.st", "6865i.st"]
