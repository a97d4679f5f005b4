"""The build cache keeps to ``$PYTEST_PROVD_CACHE``: the rsync shim lives inside it, one per
interpreter, and a build or a plugin server writes nowhere else."""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_provd import tree

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"


def snapshot(top: Path) -> dict[str, tuple[int, int]]:
    """``{relative path: (size, mtime_ns)}`` of every file and directory under *top*."""
    out = {}
    for path in sorted(top.rglob("*")):
        st = path.lstat()
        out[path.relative_to(top).as_posix()] = (
            st.st_size if path.is_file() else 0,
            st.st_mtime_ns,
        )
    return out


def test_rsync_shim_written_by_parallel_threads_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Families are built by parallel threads of one process, each asking for the shim.
    monkeypatch.setenv("PYTEST_PROVD_RSYNC_SHIM", "1")
    for attempt in range(5):
        monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path / f"cache{attempt}"))
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            dirs = list(pool.map(lambda _: tree.tool_path_prefix(), range(16)))
        assert len({tuple(d) for d in dirs}) == 1
        assert os.access(Path(dirs[0][0]) / "rsync", os.X_OK)


def test_rsync_shim_is_inside_the_cache_one_per_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("PYTEST_PROVD_RSYNC_SHIM", "1")
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(cache))
    (ours,) = tree.tool_path_prefix()
    monkeypatch.setattr(sys, "executable", str(tmp_path / "other-venv" / "bin" / "python"))
    (theirs,) = tree.tool_path_prefix()
    monkeypatch.undo()

    assert ours != theirs
    for shim_dir, python in ((ours, sys.executable), (theirs, tmp_path / "other-venv/bin/python")):
        shim = Path(shim_dir) / "rsync"
        assert shim.parent.parent == cache / "bin"
        assert shim.read_text().splitlines()[0] == f"#!{python}"
        assert os.access(shim, os.X_OK)
    # The other interpreter's shim did not replace ours, and nothing left the cache.
    assert (Path(ours) / "rsync").read_text().startswith(f"#!{sys.executable}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]
    assert sorted(p.name for p in (cache / "bin").iterdir()) == sorted(
        [Path(ours).name, Path(theirs).name]
    )


def test_build_and_package_write_only_into_the_cache_and_the_output(tmp_path: Path) -> None:
    """``provd-harness build`` and ``package`` with the shim, in a box whose HOME, TMPDIR and
    working directory are empty directories that must stay empty."""
    box = tmp_path / "box"
    plugins = box / "plugins"
    shutil.copytree(SAMPLES, plugins, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("home", "tmp", "cwd"):
        (box / name).mkdir()
    before = snapshot(plugins)
    env = {
        **os.environ,
        "HOME": str(box / "home"),
        "TMPDIR": str(box / "tmp"),
        "PYTEST_PROVD_CACHE": str(box / "cache"),
        "PYTEST_PROVD_RSYNC_SHIM": "1",
        # Our own modules' bytecode is not the build's doing.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    script = "import sys; from pytest_provd.cli import main; sys.exit(main(sys.argv[1:]))"
    for command in ("build", "package"):
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                script,
                command,
                f"--plugins-dir={plugins}",
                "--plugin=wazo-snom-10.1.215.13",
                f"--out={box / 'out' / command}",
            ],
            cwd=box / "cwd",
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in box.iterdir()) == [
        "cache",
        "cwd",
        "home",
        "out",
        "plugins",
        "tmp",
    ]
    for name in ("home", "tmp", "cwd"):
        assert list((box / name).iterdir()) == [], f"{name} was written to"
    assert snapshot(plugins) == before
    shims = list((box / "cache" / "bin").glob("*/rsync"))
    assert len(shims) == 1 and shims[0].read_text().startswith(f"#!{sys.executable}\n")
    assert (box / "out" / "build" / "wazo-snom-10.1.215.13" / "plugin-info").is_file()
    assert (box / "out" / "package" / "plugins.db").is_file()
