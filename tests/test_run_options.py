"""Golden files and the firmware cache end to end: a pytest run over a plugin tree.

``--provd-golden-dir`` (relative, absolute), the stale-golden report under pytest-xdist (the
checks run on workers, the summary on the controller) and ``--provd-firmware-dir`` with the
real-looking firmware files of a sample target (tests/data/README.md).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.test_sample_data import DATA, synthetic_file
from tests.test_tree import make_family

pytest_plugins = ["pytester"]

PLUGIN = "acme-phone-1.0"
STALE = "stale golden file (not produced by this run)"


@pytest.fixture
def tiny(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    return pytester.path / "plugins"


def golden_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_golden_dir_relative_to_the_rootdir(pytester: pytest.Pytester, tiny: Path) -> None:
    args = ("--provd-plugin", PLUGIN, "-k", "golden", "--provd-golden-dir", "golden/here")
    pytester.runpytest(*args, "--provd-update-golden").assert_outcomes(passed=1)
    root = pytester.path / "golden" / "here"
    # the acme plugin writes <mac>.xml for each device: the MAC is a placeholder in the name
    assert golden_files(root) == [f"{PLUGIN}/M1/{{MAC}}.xml"]
    assert "alice1001" in (root / PLUGIN / "M1" / "{MAC}.xml").read_text()
    assert not (pytester.path / "tests" / "golden").exists()
    pytester.runpytest(*args).assert_outcomes(passed=1)


def test_golden_dir_absolute(
    pytester: pytest.Pytester, tiny: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("elsewhere") / "golden"
    root.mkdir()  # an existing golden dir switches the golden items on
    # "=": pytest takes a separate absolute path argument into account for the rootdir
    args = ("--provd-plugin", PLUGIN, "-k", "golden", f"--provd-golden-dir={root}")
    first = pytester.runpytest(*args)
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines([f"*{root}/{PLUGIN}/M1/{{MAC}}.xml*golden file was missing*"])
    pytester.runpytest(*args).assert_outcomes(passed=1)


def test_a_time_change_passes_a_mac_change_fails(pytester: pytest.Pytester, tiny: Path) -> None:
    btpl = tiny / "acme_phone" / "common" / "templates" / "model.tpl.btpl"
    template = btpl.read_text()

    def extra(line: str) -> None:
        btpl.write_text(template.replace("</settings>", line + "\n</settings>"))

    extra('<peer mac="00:04:13:0a:0b:0c" at="10:00:00"/>')
    args = ("--provd-plugin", PLUGIN, "-k", "golden")
    pytester.runpytest(*args, "--provd-update-golden").assert_outcomes(passed=1)
    golden = pytester.path / "tests" / "golden" / PLUGIN / "M1" / "{MAC}.xml"
    # not the device's MAC: kept as it is, and never read as times
    assert '<peer at="<TIME>" mac="00:04:13:0a:0b:0c"/>' in golden.read_text()
    extra('<peer mac="00:04:13:0a:0b:0c" at="23:59:01"/>')
    pytester.runpytest(*args).assert_outcomes(passed=1)
    extra('<peer mac="00:04:13:0a:0b:0d" at="10:00:00"/>')
    changed = pytester.runpytest(*args)
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        [
            '*-*<peer at="<TIME>" mac="00:04:13:0a:0b:0c"/>',
            '*+*<peer at="<TIME>" mac="00:04:13:0a:0b:0d"/>',
        ]
    )


def test_stale_golden_file_reported_under_xdist(pytester: pytest.Pytester, tiny: Path) -> None:
    update = ("--provd-plugin", PLUGIN, "-k", "golden", "--provd-update-golden")
    pytester.runpytest(*update).assert_outcomes(passed=1)
    root = pytester.path / "tests" / "golden" / PLUGIN
    xdist = ("--provd-plugin", PLUGIN, "-k", "golden or configure", "-n", "2", "-p", "xdist")
    clean = pytester.runpytest_subprocess(*xdist)
    clean.assert_outcomes(passed=2)
    clean.stdout.no_fnmatch_line(f"*{STALE}*")
    (root / "M1" / "old.xml").write_text("<old/>\n")
    (root / "M2").mkdir()
    (root / "M2" / "{MAC}.xml").write_text("<gone/>\n")
    result = pytester.runpytest_subprocess(*xdist)
    result.assert_outcomes(passed=2)
    stale = sorted(line.split(": ", 1)[1] for line in result.stdout.lines if STALE in line)
    assert stale == [str(root / "M1" / "old.xml"), str(root / "M2" / "{MAC}.xml")]


FIRMWARE_TARGET = "wazo-aastra-6.4.0-SP2"


def firmware_cache(where: Path) -> Path:
    """The files a vendor would publish for the sample targets, named as pkgs.db names them."""
    catalogue = json.loads((DATA / "current" / "synthetic-firmware.json").read_text())
    where.mkdir(parents=True)
    for name, entry in catalogue["files"].items():
        (where / name).write_bytes(synthetic_file(name, entry))
    return where


def test_firmware_dir_end_to_end(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    shutil.copytree(DATA / "current" / "plugins", pytester.path / "plugins")
    cache = firmware_cache(pytester.path / "fw")
    args = ("--provd-plugin", FIRMWARE_TARGET, "-m", "provd_firmware")
    # relative: resolved against the directory pytest runs in
    good = pytester.runpytest_subprocess(*args, "--provd-firmware-dir", "fw")
    good.assert_outcomes(passed=1)
    good.stdout.fnmatch_lines([f"{FIRMWARE_TARGET}: 1 passed | 3 firmware packages"])
    # the same size, other bytes: only a store that reads the cache can tell
    bundle = cache / "aastra-68xx-6.4.0.2550.zip"
    data = bundle.read_bytes()
    bundle.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
    bad = pytester.runpytest_subprocess(*args, "--provd-firmware-dir", str(cache))
    bad.assert_outcomes(failed=1)
    bad.stdout.fnmatch_lines(
        # The firmware dir is inside the checkout here: said relative to it.
        [f"*v6_4_0_SP2/pkgs/pkgs.db:*[[]pkg_*-fw[]]*sha1sum * but fw/{bundle.name} has *"]
    )
    # without the cache the firmware is synthetic, and right by construction
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)


def test_firmware_dir_must_exist(pytester: pytest.Pytester, tiny: Path) -> None:
    result = pytester.runpytest_subprocess("--provd-plugin", PLUGIN, "--provd-firmware-dir", "nope")
    result.stderr.fnmatch_lines(["*--provd-firmware-dir: */nope is not a directory*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
