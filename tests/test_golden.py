"""Golden files: canonical form, creation, mismatch diff, update, stale detection."""

from __future__ import annotations

from pathlib import Path

from pytest_provd.report.golden import GoldenStore, canonicalize


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


def test_stale_files_reported(tmp_path: Path) -> None:
    store = GoldenStore(tmp_path)
    store.check("p", "M", "used", b"x")
    (tmp_path / "p" / "M" / "old").write_text("x")
    assert store.stale({"p"}) == [tmp_path / "p" / "M" / "old"]
