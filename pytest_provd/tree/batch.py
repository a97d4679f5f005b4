"""Filling the build cache for many targets at once: a family's missing targets in one
subprocess, families side by side.

A build is mostly the start of a Python process (and of the rsync shim's): one process per
family, as the repository's ``pgbuild.py`` builds every target of a family in one process,
pays that once per family instead of once per target, and families build in parallel.  Only
successes are kept: a target that fails here is left out of the cache, so its ``build`` item
builds it alone (:func:`~pytest_provd.tree.build.build_cached`) and says the builder's own
error exactly as it always does.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterable
from pathlib import Path

from pytest_provd.tree.build import (
    STD_DIRS,
    cache_entry,
    default_cache_dir,
    family_digest,
    tool_path_prefix,
)
from pytest_provd.tree.model import Target

_TIMEOUT_S = 600.0

_BATCH_RUNNER = textwrap.dedent(
    """
    import json, os, subprocess, sys
    family, jobs, status, shim_from = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
    if shim_from:
        # Our rsync shim called in this process, not started as a program per copy.
        sys.path.insert(0, shim_from)
        from pytest_provd.tree.rsync_shim import RsyncShimError, run as rsync
        program = subprocess.check_call
        def check_call(args, *more, **options):
            plain = not more and not options and isinstance(args, (list, tuple))
            if plain and list(args[:1]) == ["rsync"]:
                try:
                    rsync([str(a) for a in args[1:]])
                    return 0
                except (RsyncShimError, OSError):
                    pass  # the shim program says why, as in a build alone
            return program(args, *more, **options)
        subprocess.check_call = check_call
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
    for target_id, dest in jobs:
        try:
            fun, pid, std_dirs = found[target_id]
            path = os.path.join(dest, pid)
            os.mkdir(path)
            os.chdir(family)
            fun(os.path.abspath(path))
            if std_dirs:
                for d in %r:
                    os.makedirs(os.path.join(path, d), exist_ok=True)
            ok = True
        except BaseException:
            ok = False
        with open(status, "a") as out:
            out.write(json.dumps([target_id, ok]) + "\\n")
    """  # noqa: UP031 - braces in the script make str.format the worse choice
    % (STD_DIRS,)
)


def build_all(
    targets: Iterable[Target], *, cache_dir: Path | None = None, jobs: int | None = None
) -> dict[str, Path]:
    """Put every target of *targets* that builds into the build cache (see the module);
    the targets already there cost a lookup.  The cached build of each target that is
    there now, by plugin id (what :func:`~pytest_provd.tree.build.build_cached` returns)."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    digests: dict[Path, str] = {}  # a family's targets share one scan of it
    entries: list[tuple[Target, Path]] = []
    by_family: dict[Path, list[tuple[Target, Path]]] = {}
    for target in targets:
        if target.family.path not in digests:
            digests[target.family.path] = family_digest(target.family)
        entry = cache_entry(target, cache, digests[target.family.path])
        entries.append((target, entry))
        if not (entry / ".complete").is_file():
            by_family.setdefault(target.family.path, []).append((target, entry))
    if by_family:
        workers = max(1, min(jobs or os.cpu_count() or 1, len(by_family)))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            # Largest families first: they set the wall time.
            families = sorted(by_family, key=lambda f: -len(by_family[f]))
            for done in [pool.submit(_build_family, f, by_family[f]) for f in families]:
                done.result()  # the harness's own errors surface; build errors stay silent
    return {
        target.plugin_id: entry / target.plugin_id
        for target, entry in entries
        if (entry / ".complete").is_file()
    }


def _build_family(family: Path, wanted: list[tuple[Target, Path]]) -> None:
    stagings: dict[str, tuple[Path, Path]] = {}
    try:
        for target, entry in wanted:
            entry.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=entry.parent))
            stagings[target.target_id] = (staging, entry)
        jobs = json.dumps([[tid, str(staging)] for tid, (staging, _) in stagings.items()])
        env = dict(os.environ)
        tools = tool_path_prefix()
        env["PATH"] = os.pathsep.join([*tools, env.get("PATH", "")])
        # Where tool_path_prefix puts our shim, the runner calls it in-process instead.
        shim_from = str(Path(__file__).resolve().parents[2]) if tools else ""
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        fd, name = tempfile.mkstemp(prefix=".status-", dir=wanted[0][1].parent)
        os.close(fd)
        status = Path(name)
        try:
            subprocess.run(
                [sys.executable, "-c", _BATCH_RUNNER, str(family), jobs, str(status), shim_from],
                capture_output=True,
                text=True,
                env=env,
                timeout=_TIMEOUT_S,
                check=False,
            )
            lines = status.read_text().splitlines()
        except (OSError, subprocess.SubprocessError):
            return  # each target is built alone when asked for
        finally:
            status.unlink(missing_ok=True)
        for line in lines:
            target_id, ok = json.loads(line)
            if ok and target_id in stagings:
                staging, entry = stagings[target_id]
                plugin_id = next(t.plugin_id for t, _ in wanted if t.target_id == target_id)
                (staging / ".complete").write_text(plugin_id)
                try:
                    os.rename(staging, entry)
                except OSError:
                    pass  # another process finished it first: theirs is identical
    finally:
        for staging, _ in stagings.values():
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
