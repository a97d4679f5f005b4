"""Golden files: canonical form (MACs, times), creation, mismatch diff, update, stale detection.

End to end through pytest (xdist, --provd-golden-dir): tests/test_run_options.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_provd.report.golden import GoldenStore, canonicalize, normalise_macs


def test_xml_canonical_form_ignores_layout_and_attribute_order() -> None:
    a = b'<?xml version="1.0"?>\n<s><a x="1" y="2">v</a>  <b/></s>'
    b = b'<s>\r\n  <a y="2"  x="1">v</a>\n<b></b>\n</s>\n'
    assert canonicalize(a) == canonicalize(b)
    assert canonicalize(a) != canonicalize(b'<s><a x="1" y="3">v</a><b/></s>')


def test_volatile_values_normalised() -> None:
    text = b"server: http://127.0.0.1:43817/x\nip 127.1.4.9\nat 2026-11-25 10:01:02 \r\n"
    assert (
        canonicalize(text) == "server: http://127.0.0.1:<PORT>/x\nip <PHONE-IP>\nat <DATE> <TIME>\n"
    )


def test_missing_then_match_then_mismatch(tmp_path: Path) -> None:
    store = GoldenStore(tmp_path)
    (problem,) = store.check("p-1", "M1", "a.cfg", b"k: v\n")
    assert "was missing" in problem.message
    assert store.path("p-1", "M1", "a.cfg").read_text() == "k: v\n"
    assert store.check("p-1", "M1", "a.cfg", b"k: v\r\n") == []
    (diff,) = store.check("p-1", "M1", "a.cfg", b"k: w\n")
    assert "-k: v" in diff.message and "+k: w" in diff.message
    assert diff.line == 1 and "--provd-update-golden" in (diff.fix or "")
    assert store.path("p-1", "M1", "a.cfg.obtained").read_text() == "k: w\n"


def test_update_rewrites_and_removes_obtained(tmp_path: Path) -> None:
    GoldenStore(tmp_path).check("p", "M", "f", b"old\n")
    GoldenStore(tmp_path).check("p", "M", "f", b"new\n")
    assert GoldenStore(tmp_path, update=True).check("p", "M", "f", b"new\n") == []
    assert not (tmp_path / "p" / "M" / "f.obtained").exists()
    assert (tmp_path / "p" / "M" / "f").read_text() == "new\n"


def test_names_cannot_escape_the_golden_dir(tmp_path: Path) -> None:
    path = GoldenStore(tmp_path / "g").path("p", "M", "../../../etc/passwd")
    assert (tmp_path / "g") in path.parents


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("00:04:13:00:00:01", "<MAC>"),
        ("00-04-13-00-00-01", "<MAC>"),
        ("00_04_13_00_00_01", "<MAC>"),
        ("000413000001", "<MAC>"),
        ("mac=00:0B:82:1a:00:01;", "mac=<MAC>;"),
        ("SEP000413AABBCC.cnf.xml", "SEP<MAC>.cnf.xml"),
        ("snomD785-000413000001.htm", "snomD785-<MAC>.htm"),
        ("http://127.0.0.1:4000/000b82100001.cfg", "http://127.0.0.1:<PORT>/<MAC>.cfg"),
        ("at 12:30:00", "at <TIME>"),
        ("00:04:13:00:00:01 12:30:00", "<MAC> <TIME>"),
        # not MACs: longer hex runs (digests, fingerprints), the last group of a UUID
        ("sha1 0123456789abcdef0123456789abcdef01234567", None),
        ("id 00000000-0000-4000-8000-000000000001", None),
        ("0a:1b:2c:3d:4e:5f:60", None),
        ("0004130000012", None),
    ],
)
def test_macs_normalised_before_times(text: str, canonical: str | None) -> None:
    assert canonicalize(text.encode()) == (canonical or text) + "\n"


def test_only_the_device_macs_when_named() -> None:
    device = ["00:04:13:00:00:01"]
    text = b"own 000413000001 00-04-13-00-00-01 other 00:04:13:00:00:02 at 12:30:00"
    assert canonicalize(text, device) == "own <MAC> <MAC> other 00:04:13:00:00:02 at <TIME>\n"
    assert normalise_macs("y000000000028.cfg", device) == "y000000000028.cfg"
    assert normalise_macs("y000000000028.cfg") == "y<MAC>.cfg"


def test_a_mac_change_fails_a_time_change_does_not(tmp_path: Path) -> None:
    store = GoldenStore(tmp_path)
    device = ["00:04:13:00:00:01"]
    original = b"<cfg mac='00:04:13:00:00:01' at='2026-11-25 12:30:00'/>"
    (written,) = store.check("p", "M", "000413000001.xml", original, macs=device)
    assert "was missing" in written.message
    golden = tmp_path / "p" / "M" / "{MAC}.xml"
    assert golden.read_text() == '<cfg at="<DATE> <TIME>" mac="<MAC>"/>\n'
    later = original.replace(b"12:30:00", b"17:05:59").replace(b"2026-11-25", b"2027-01-02")
    assert store.check("p", "M", "000413000001.xml", later, macs=device) == []
    # another device's MAC: same name, same form, different value
    wrong = original.replace(b"00:00:01", b"00:00:02")
    (changed,) = store.check("p", "M", "000413000001.xml", wrong, macs=device)
    assert '-<cfg at="<DATE> <TIME>" mac="<MAC>"/>' in changed.message
    assert '+<cfg at="<DATE> <TIME>" mac="00:04:13:00:00:02"/>' in changed.message
    # without the device's MACs every MAC is <MAC>: the MAC is still never read as times
    GoldenStore(tmp_path / "any").check("p", "M", "f", b"mac 00:04:13:00:00:01\n")
    assert (tmp_path / "any" / "p" / "M" / "f").read_text() == "mac <MAC>\n"
    (gone,) = GoldenStore(tmp_path / "any").check("p", "M", "f", b"mac 12:30:00\n")
    assert "-mac <MAC>" in gone.message and "+mac <TIME>" in gone.message


def test_macs_in_file_names_become_placeholders(tmp_path: Path) -> None:
    store = GoldenStore(tmp_path)
    assert store.path("p", "M", "SEP000413000001.cnf.xml").name == "SEP{MAC}.cnf.xml"
    assert store.path("p", "M", "cfg00085D00AB01.xml").name == "cfg{MAC}.xml"
    assert store.path("p", "M", "Grandstream/cfg000b82100001.xml") == (
        tmp_path / "p" / "M" / "Grandstream" / "cfg{MAC}.xml"
    )
    # the name of another device's file does not collide with this device's
    first = store.path("p", "M", "000413000001.xml", ["00:04:13:00:00:01"])
    other = store.path("p", "M", "000413000002.xml", ["00:04:13:00:00:01"])
    assert first.name == "{MAC}.xml" and other.name == "000413000002.xml"


def test_update_writes_a_missing_file_without_failing(tmp_path: Path) -> None:
    assert GoldenStore(tmp_path, update=True).check("p", "M", "f", b"x\n") == []
    assert (tmp_path / "p" / "M" / "f").read_text() == "x\n"


def test_stale_files_reported(tmp_path: Path) -> None:
    store = GoldenStore(tmp_path)
    store.check("p", "M", "used", b"x")
    store.check("p", "M", "SEP000413000001.cnf.xml", b"x")
    (tmp_path / "p" / "M" / "old").write_text("x")
    (tmp_path / "p" / "M" / "used.obtained").write_text("x")
    (tmp_path / "q" / "M").mkdir(parents=True)
    (tmp_path / "q" / "M" / "untouched-target").write_text("x")
    used = store.take_used()
    assert used == ["p/M/SEP{MAC}.cnf.xml", "p/M/used"]
    assert store.take_used() == []
    assert store.stale(used) == [tmp_path / "p" / "M" / "old"]
    assert store.stale([]) == []


def test_stale_from_the_paths_of_several_processes(tmp_path: Path) -> None:
    # Under xdist each worker has its own store; the controller has only the reported paths.
    one, two = GoldenStore(tmp_path), GoldenStore(tmp_path)
    one.check("p", "M1", "a", b"x")
    two.check("p", "M2", "b", b"x")
    (tmp_path / "p" / "M2" / "old").write_text("x")
    used = one.take_used() + two.take_used()
    assert GoldenStore(tmp_path).stale(used) == [tmp_path / "p" / "M2" / "old"]
    # with one worker's paths only, what the other produced would look stale
    assert GoldenStore(tmp_path).stale(["p/M1/a"]) == [
        tmp_path / "p" / "M2" / "b",
        tmp_path / "p" / "M2" / "old",
    ]


def test_report_sits_below_the_suite_and_the_tiers() -> None:
    from tests.test_architecture import MODULES, imports_of

    above = ("pytest_provd.suite", "pytest_provd.tiers", "pytest_provd.plugin")
    report = [m for m in MODULES if m.startswith("pytest_provd.report")]
    # The package is there (a rename would otherwise make this test pass vacuously).
    assert "pytest_provd.report.reporter" in report and "pytest_provd.report.golden" in report
    wrong = {m: sorted(t for t in imports_of(m) if t.startswith(above)) for m in report}
    assert not {m: t for m, t in wrong.items() if t}
