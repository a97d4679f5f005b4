"""Building targets: a subprocess runs the family's own target function, results are cached.

Builds run in a subprocess (the target functions are ``chdir``-dependent and call ``rsync`` and
``sed``), are cached by a content hash of the family directory, and are copied out of the
cache so callers may change their copy freely.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from pytest_provd.problems import SourceError
from pytest_provd.tree.model import Family, Target

STD_DIRS = ("var", "var/cache", "var/installed", "var/templates", "var/tftpboot")
# Bumped whenever the way we build changes, so stale cache entries are not reused.
_BUILDER_VERSION = "1"
_BUILD_TIMEOUT_S = 120.0


class BuildError(SourceError):
    """A target failed to build; the message carries the builder's own output."""


def default_cache_dir() -> Path:
    """Where built targets are cached (``$PYTEST_PROVD_CACHE`` or a per-user temp dir)."""
    env = os.environ.get("PYTEST_PROVD_CACHE")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / f"pytest-provd-{os.getuid()}" / "builds"


def family_digest(family: Family) -> str:
    """Content hash of a family directory (names, modes, bytes; hidden files ignored)."""
    digest = hashlib.sha256(_BUILDER_VERSION.encode())
    for rel, path, is_link in _scan_inputs(str(family.path), ""):
        digest.update(rel.encode() + b"\0")
        if is_link:
            digest.update(b"L" + os.readlink(path).encode())
        else:
            info = os.stat(path)
            digest.update(b"F%o" % (info.st_mode & 0o111))
            digest.update(_file_sha256(path, info))
    return digest.hexdigest()


def _scan_inputs(top: str, prefix: str) -> Iterator[tuple[str, str, bool]]:
    """``(relative path, path, is a symlink)`` of a family's inputs in :func:`_walk_files`'s
    order (hidden files skipped), on strings: it runs for every target of a run."""
    files: list[tuple[str, str, bool]] = []
    dirs: list[tuple[str, str]] = []
    try:
        entries = list(os.scandir(top))
    except OSError:  # as os.walk: an unreadable directory lists nothing
        return
    for entry in entries:
        name = entry.name
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if not name.startswith(".") and name != "__pycache__" and not entry.is_symlink():
                dirs.append((name, entry.path))
        elif not name.startswith(".") and not name.endswith(".pyc"):
            files.append((prefix + name, entry.path, entry.is_symlink()))
    yield from sorted(files)
    for name, path in sorted(dirs):
        yield from _scan_inputs(path, f"{prefix}{name}/")


# {path: (stat signature, when read, sha256)}: a family's targets share its files, and a
# warm cache lookup per target should not read the whole family again.
_HASHED: dict[str, tuple[tuple[int, int, int, int], int, bytes]] = {}
_RACY_NS = 1_000_000_000


def _file_sha256(path: str, info: os.stat_result) -> bytes:
    """sha256 of *path*'s bytes, read again only when its stat signature changed (or it
    changed within a second of being read: timestamps are coarse, as git knows)."""
    key = (info.st_mtime_ns, info.st_size, info.st_ino, info.st_ctime_ns)
    found = _HASHED.get(path)
    if found is not None and found[0] == key and found[1] - key[0] >= _RACY_NS:
        return found[2]
    now = time.time_ns()
    with open(path, "rb") as handle:
        sha = hashlib.sha256(handle.read()).digest()
    _HASHED[path] = (key, now, sha)
    return sha


def family_files(family_dir: Path) -> dict[str, str]:
    """``{relative path: digest}`` of a family directory's inputs, as :func:`family_digest`
    hashes them (names, modes, bytes; hidden files ignored)."""
    out = {}
    for rel, path in _walk_files(family_dir, skip_hidden=True):
        if path.is_symlink():
            out[rel] = "L" + os.readlink(path)
        else:
            data = path.read_bytes()
            out[rel] = "F%o:" % (path.stat().st_mode & 0o111) + hashlib.sha256(data).hexdigest()
    return out


def built_digest(plugin_dir: Path) -> str:
    """Content hash of a built plugin, ignoring ``var/`` (runtime state)."""
    digest = hashlib.sha256()
    for rel, path in _walk_files(plugin_dir, skip_hidden=False):
        if rel == "var" or rel.startswith("var/"):
            continue
        digest.update(rel.encode() + b"\0")
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def built_files(plugin_dir: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of a built plugin, for saying *what* changed."""
    out = {}
    for rel, path in _walk_files(plugin_dir, skip_hidden=False):
        if rel.startswith("var/"):
            continue
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
        out[rel] = hashlib.sha256(data).hexdigest()
    return out


def _walk_files(top: Path, *, skip_hidden: bool) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not (skip_hidden and d.startswith("."))
            and d not in ("__pycache__",)
            and not (Path(dirpath) / d).is_symlink()
        )
        base = Path(dirpath)
        for name in sorted(filenames):
            if skip_hidden and name.startswith("."):
                continue
            if name.endswith(".pyc"):
                continue
            path = base / name
            yield path.relative_to(top).as_posix(), path


def build(target: Target, out_root: Path, *, cache_dir: Path | None = None) -> Path:
    """Build *target* into ``out_root/<plugin_id>`` (replacing it) and return that path."""
    cached = build_cached(target, cache_dir=cache_dir)
    dest = Path(out_root) / target.plugin_id
    if dest.exists() or dest.is_symlink():
        shutil.rmtree(dest)
    Path(out_root).mkdir(parents=True, exist_ok=True)
    shutil.copytree(cached, dest, symlinks=True)
    return dest


def build_cached(target: Target, *, cache_dir: Path | None = None) -> Path:
    """The cached build of *target*; treat it as read-only (use :func:`build` to get a copy)."""
    entry = cache_entry(target, Path(cache_dir) if cache_dir else default_cache_dir())
    built = entry / target.plugin_id
    if (entry / ".complete").is_file():
        return built
    entry.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=entry.parent))
    try:
        _run_build(target, staging)
        (staging / ".complete").write_text(target.plugin_id)
        try:
            os.rename(staging, entry)
        except OSError:
            # Another worker finished the same build first: theirs is identical, keep it.
            if not (entry / ".complete").is_file():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return built


def cache_entry(target: Target, cache: Path, digest: str | None = None) -> Path:
    """The directory of *cache* holding *target*'s build (complete once it holds a
    ``.complete`` file): one per family content and target (*digest*: the family's
    :func:`family_digest`, when the caller has it)."""
    digest = family_digest(target.family) if digest is None else digest
    return cache / digest[:32] / _safe_name(target.target_id)


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text) or "_"


_RUNNER = textwrap.dedent(
    """
    import os, sys
    family, target_id, dest = sys.argv[1], sys.argv[2], sys.argv[3]
    found = {}
    def target(tid, pid, std_dirs=True):
        def register(fun):
            found[tid] = (fun, pid, std_dirs)
            return fun
        return register
    build_py = os.path.join(family, "build.py")
    with open(build_py, "rb") as f:
        code = compile(f.read(), build_py, "exec")
    exec(code, {"target": target, "__file__": build_py, "__name__": "build"})
    fun, pid, std_dirs = found[target_id]
    path = os.path.join(dest, pid)
    os.mkdir(path)
    os.chdir(family)
    fun(os.path.abspath(path))
    if std_dirs:
        for d in %r:
            os.makedirs(os.path.join(path, d), exist_ok=True)
    """  # noqa: UP031 - braces in the script make str.format the worse choice
    % (STD_DIRS,)
)


def _run_build(target: Target, dest: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([*tool_path_prefix(), env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _RUNNER, str(target.family.path), target.target_id, str(dest)],
            capture_output=True,
            text=True,
            env=env,
            timeout=_BUILD_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BuildError(
            target.build_py,
            f"building target {target.target_id!r} took over {_BUILD_TIMEOUT_S:.0f} s",
            target.build_py_line,
        ) from exc
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).strip().splitlines()
        # Drop the runner's own frame: the user's build.py frames are what matter.
        output = [line for line in output if not line.lstrip().startswith('File "<string>"')]
        tail = "\n".join(output[-12:])
        raise BuildError(
            target.build_py,
            f"building target {target.target_id!r} ({target.function_name}) failed:\n{tail}",
            target.build_py_line,
        )


def tool_path_prefix() -> list[str]:
    """Directories to put before PATH for builds: our rsync shim where rsync is missing.

    The shim lives inside the build cache, one per interpreter and installed package
    (``<cache>/bin/<hash>/rsync``), so nothing is written outside ``$PYTEST_PROVD_CACHE`` and
    two venvs sharing a cache never rewrite each other's ``#!`` line.
    ``PYTEST_PROVD_RSYNC_SHIM=1`` forces the shim even where rsync exists.
    """
    if shutil.which("rsync") and not os.environ.get("PYTEST_PROVD_RSYNC_SHIM"):
        return []
    # The directory holding the pytest_provd package (this file is pytest_provd/tree/build.py).
    pkg_parent = str(Path(__file__).resolve().parents[2])
    script = (
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {pkg_parent!r})\n"
        "from pytest_provd.tree.rsync_shim import main\nmain()\n"
    )
    tag = hashlib.sha256(f"{sys.executable}\0{pkg_parent}".encode()).hexdigest()[:16]
    shim_dir = default_cache_dir() / "bin" / tag
    shim = shim_dir / "rsync"
    if not shim.is_file() or shim.read_text() != script:
        shim_dir.mkdir(parents=True, exist_ok=True)
        # Per thread too: families are built by parallel threads of one process.
        tmp = shim_dir / f".rsync.{os.getpid()}.{threading.get_ident()}"
        tmp.write_text(script)
        tmp.chmod(0o755)
        os.replace(tmp, shim)
    return [str(shim_dir)]
