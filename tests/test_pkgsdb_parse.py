"""pkgs.db parsing with line numbers, integrity checks and round trips."""

from __future__ import annotations

import pytest

from pytest_provd import pkgsdb
from pytest_provd.problems import SourceError

GOOD = """\
[pkg_m1-fw]
description: Firmware for M1
version: 1.2.3
files: m1-fw m1-extra
install: acme-fw

[install_acme-fw]
a-b: unzip $FILE1
b-c: include *.bin
c-d: cp $FILE2 firmware/

[file_m1-fw]
url: http://firmware.example.invalid/m1-1.2.3.zip
size: 1024
sha1sum: 0123456789abcdef0123456789abcdef01234567

[file_m1-extra]
filename: m1-extra.bin
size: 10
sha1sum: 89abcdef0123456789abcdef0123456789abcdef
"""


def test_good_db_parses_with_lines_and_passes() -> None:
    db = pkgsdb.parse(GOOD, "x/pkgs.db")
    assert pkgsdb.check(db) == []
    pkg = db.packages["m1-fw"]
    assert (pkg.line, pkg.version, pkg.files, pkg.install) == (
        1,
        "1.2.3",
        ["m1-fw", "m1-extra"],
        "acme-fw",
    )
    steps = db.installs["acme-fw"].steps
    assert [(s.src, s.dst, s.command, s.line) for s in steps] == [
        ("a", "b", "unzip", 8),
        ("b", "c", "include", 9),
        ("c", "d", "cp", 10),
    ]
    assert db.files["m1-fw"].local_name == "m1-1.2.3.zip"
    assert db.files["m1-extra"].local_name == "m1-extra.bin"


def test_round_trip() -> None:
    db = pkgsdb.parse(GOOD)
    again = pkgsdb.parse(pkgsdb.dump(db))
    assert pkgsdb.dump(again) == pkgsdb.dump(db)
    assert {k: (p.version, p.files) for k, p in again.packages.items()} == {
        "m1-fw": ("1.2.3", ["m1-fw", "m1-extra"])
    }


CORRUPTIONS = [
    ("version: 1.2.3\n", "", "missing 'version'", 1),
    ("sha1sum: 0123456789abcdef0123456789abcdef01234567", "sha1sum: 0123", "not 40", 15),
    ("size: 1024", "size: big", "not a positive integer", 14),
    ("size: 10\n", "", "missing 'size'", 17),
    ("files: m1-fw m1-extra", "files: m1-fw m1-extr", "has no [file_m1-extr]", 4),
    ("install: acme-fw", "install: acme", "has no [install_acme]", 5),
    ("a-b: unzip $FILE1", "a-b: explode $FILE1", "unknown install command 'explode'", 8),
    ("b-c: include *.bin", "b-c: include", "include takes 1+ argument(s), got 0", 9),
    ("c-d: cp $FILE2 firmware/", "c-d: cp $FILE3 firmware/", "$FILE3", 4),
    ("b-c: include", "x-c: include", "reads node 'x'", 9),
    ("c-d: cp $FILE2 firmware/", "c-d: cp $FILE2 ../../etc/", "leaves the install sandbox", 10),
    ("[file_m1-extra]", "[file_m1-fw]", "duplicate section (first at line 12)", 17),
]


@pytest.mark.parametrize(("old", "new", "message", "line"), CORRUPTIONS)
def test_each_corruption_is_located(old: str, new: str, message: str, line: int) -> None:
    assert old in GOOD
    problems = pkgsdb.check(pkgsdb.parse(GOOD.replace(old, new, 1), "p.db"))
    hits = [p for p in problems if message in p.message]
    assert hits, problems
    assert hits[0].line == line


def test_orphans_reported() -> None:
    text = GOOD + "\n[file_unused]\nurl: http://x.invalid/u\nsize: 1\nsha1sum: " + "a" * 40 + "\n"
    text += "\n[install_unused]\na-b: cp $FILE1 x/\n"
    messages = [p.message for p in pkgsdb.check(pkgsdb.parse(text))]
    assert "orphan file: no package uses it" in messages
    assert "orphan install: no package uses it" in messages


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("[pkg_a]\nversion 1\n", "expected 'key: value'", 2),
        ("version: 1\n", "option outside any section", 1),
        ("[stuff]\n", "bad section header", 1),
        ("[pkg_a]\nversion: 1\nversion: 2\n", "repeated", 3),
    ],
)
def test_syntax_errors_name_the_line(text: str, message: str, line: int) -> None:
    with pytest.raises(SourceError, match=message) as info:
        pkgsdb.parse(text, "p.db")
    assert info.value.line == line
