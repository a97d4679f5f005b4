"""The rsync shim follows rsync's filter and trailing-slash rules, and refuses the rest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_provd.tree.rsync_shim import RsyncShimError, run


def populate(src: Path) -> None:
    for rel in [
        "templates/base.tpl",
        "templates/D785.tpl",
        "templates/D120.tpl",
        "templates/common/a.tpl",
        "templates/x.btpl",
        "var/tftpboot/f.bin",
        ".git/HEAD",
        "common.py",
    ]:
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


def listing(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


CASES = [
    ["-rlp", "--exclude", ".*", "SRC/", "DEST"],
    ["-rlp", "--exclude", ".*", "SRC", "DEST"],
    [
        "-rlp",
        "--exclude",
        ".*",
        "--include",
        "/templates/base.tpl",
        "--include",
        "/templates/D7*.tpl",
        "--exclude",
        "/templates/*.tpl",
        "--exclude",
        "*.btpl",
        "SRC/",
        "DEST",
    ],
    ["-rlp", "--exclude", "/templates/*", "--exclude", "var/", "SRC/", "DEST"],
    [
        "-r",
        "--exclude=common/",
        "--include",
        "**/a.tpl",
        "--exclude",
        "templates/*",
        "SRC/",
        "DEST",
    ],
]


def subst(arg: str, src: Path, dest: Path) -> str:
    if arg in ("DEST", "D"):
        return str(dest)
    return arg.replace("SRC", str(src))


@pytest.mark.parametrize("argv", CASES, ids=range(len(CASES)))
def test_shim_matches_expectations(tmp_path: Path, argv: list[str]) -> None:
    src = tmp_path / "SRC"
    populate(src)
    args = [subst(a, src, tmp_path / "shim") for a in argv]
    run(args)
    got = listing(tmp_path / "shim")
    assert (".git/HEAD" in got) == (".*" not in argv)
    if shutil.which("rsync"):
        real = [subst(a, src, tmp_path / "real") for a in argv]
        subprocess.run(["rsync", *real], check=True)
        assert got == listing(tmp_path / "real")


def test_contents_vs_directory(tmp_path: Path) -> None:
    populate(tmp_path / "SRC")
    run(["-r", str(tmp_path / "SRC") + "/", str(tmp_path / "a")])
    run(["-r", str(tmp_path / "SRC"), str(tmp_path / "b")])
    assert "common.py" in listing(tmp_path / "a")
    assert "SRC/common.py" in listing(tmp_path / "b")


def test_anchored_include_then_exclude(tmp_path: Path) -> None:
    populate(tmp_path / "SRC")
    run(
        [
            "-rlp",
            "--include",
            "/templates/base.tpl",
            "--exclude",
            "/templates/*.tpl",
            str(tmp_path / "SRC") + "/",
            str(tmp_path / "d"),
        ]
    )
    got = listing(tmp_path / "d")
    assert "templates/base.tpl" in got
    assert "templates/D785.tpl" not in got
    assert "templates/common/a.tpl" in got


@pytest.mark.parametrize("flag", ["-a", "--delete", "-rlpz", "--checksum"])
def test_unknown_flags_refused(tmp_path: Path, flag: str) -> None:
    with pytest.raises(RsyncShimError, match="not implemented"):
        run([flag, str(tmp_path), str(tmp_path / "d")])


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(RsyncShimError, match="does not exist"):
        run(["-r", str(tmp_path / "nope"), str(tmp_path / "d")])
