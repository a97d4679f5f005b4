"""Packaging built targets the way a plugin server serves them: tarballs plus ``plugins.db``."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pytest_provd import versions
from pytest_provd.problems import SourceError
from pytest_provd.tree.build import build
from pytest_provd.tree.model import PLUGIN_INFO, Target, read_plugin_info

PLUGINS_DB = "plugins.db"
PACKAGE_SUFFIX = ".tar.bz2"


def package(plugin_dir: Path, dest_dir: Path) -> Path:
    """``<dest>/<plugin-id>-<version>.tar.bz2`` holding one top directory, reproducibly."""
    plugin_dir = Path(plugin_dir)
    info = read_plugin_info(plugin_dir)
    name = plugin_dir.name
    out = Path(dest_dir) / f"{name.replace('_', '-')}-{info.get('version', '0')}{PACKAGE_SUFFIX}"
    Path(dest_dir).mkdir(parents=True, exist_ok=True)

    def normalise(member: tarfile.TarInfo) -> tarfile.TarInfo:
        member.mtime = 0
        member.uid = member.gid = 0
        member.uname = member.gname = ""
        return member

    with tarfile.open(out, "w:bz2") as tar:
        tar.add(plugin_dir, arcname=name, recursive=False, filter=normalise)
        for dirpath, dirnames, filenames in os.walk(plugin_dir):
            dirnames.sort()
            for entry in [*dirnames, *sorted(filenames)]:
                path = Path(dirpath) / entry
                arcname = f"{name}/{path.relative_to(plugin_dir).as_posix()}"
                tar.add(path, arcname=arcname, recursive=False, filter=normalise)
    return out


def write_plugins_db(dest_dir: Path) -> Path:
    """Write ``plugins.db`` describing the newest package of each plugin in *dest_dir*."""
    manifest: dict[str, dict[str, Any]] = {}
    for pkg in sorted(Path(dest_dir).glob(f"*{PACKAGE_SUFFIX}")):
        name, info = _package_info(pkg)
        current = manifest.get(name)
        if current is None or versions.compare(str(info["version"]), current["version"]) > 0:
            manifest[name] = info
    out = Path(dest_dir) / PLUGINS_DB
    out.write_text(json.dumps(manifest, sort_keys=True, indent=4) + "\n")
    return out


def _package_info(pkg: Path) -> tuple[str, dict[str, Any]]:
    with tarfile.open(pkg) as tar:
        names = tar.getnames()
        if not names:
            raise SourceError(pkg, "empty package")
        top = min(names, key=len).split("/")[0]
        member = tar.extractfile(f"{top}/{PLUGIN_INFO}")
        if member is None:
            raise SourceError(pkg, f"has no {top}/{PLUGIN_INFO}")
        try:
            raw = json.load(member)
        except json.JSONDecodeError as exc:
            raise SourceError(pkg, f"{top}/{PLUGIN_INFO}: invalid JSON: {exc.msg}") from exc
    data = pkg.read_bytes()
    info = {key: raw[key] for key in ("capabilities", "description", "version") if key in raw}
    info.update(filename=pkg.name, dsize=len(data), sha1sum=hashlib.sha1(data).hexdigest())
    return top, info


def make_plugin_server(
    targets: Iterable[Target], dest_dir: Path, *, cache_dir: Path | None = None
) -> Path:
    """Build, package and index *targets* into *dest_dir*: a plugin server directory."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="provd-pkg-") as tmp:
        for target in targets:
            package(build(target, Path(tmp), cache_dir=cache_dir), dest)
    write_plugins_db(dest)
    return dest
