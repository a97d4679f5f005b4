"""Installing plugins from a plugin server: ``plugins.db``, download, checks, staged swap.

A plugin server is a directory or a loopback HTTP URL holding ``plugins.db`` and the
packages it names.  A package is checked against its ``dsize`` and ``sha1sum``, every tar
member must stay under ``<plugin_id>/``, and the new tree replaces the installed one in one
``os.replace``; a killed install is finished (or undone) by :func:`recover`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_provd.net import is_loopback_url
from pytest_provd.problems import SourceError
from pytest_provd.provd.plugins.errors import PluginInstallError
from pytest_provd.provd.plugins.loader import (
    INFO_KEYS,
    PLUGIN_INFO_FILENAME,
    parse_json,
    read_plugin_info,
)

PLUGINS_DB_FILENAME = "plugins.db"
INSTALLABLE_KEYS = (*INFO_KEYS, "dsize", "filename", "sha1sum")
MAX_PACKAGE_BYTES = 512 * 1024 * 1024
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 20_000
MAX_DB_BYTES = 16 * 1024 * 1024
NET_TIMEOUT = 30.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        # A redirect could lead off loopback; plugin servers have no reason to send one.
        return None


def _fetch(server: str, name: str, max_bytes: int) -> bytes:
    """Bytes of *name* on *server* (directory or loopback http URL), at most *max_bytes*."""
    if server.startswith(("http://", "https://")):
        url = server.rstrip("/") + "/" + urllib.parse.quote(name)
        if not is_loopback_url(url):
            raise PluginInstallError(server, "plugin server must be on loopback (127.0.0.1)")
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(url, timeout=NET_TIMEOUT) as resp:
                data: bytes = resp.read(max_bytes + 1)
        except OSError as e:
            raise PluginInstallError(url, f"download failed: {e}") from None
    else:
        base = Path(server.removeprefix("file://"))
        path = base / name
        if PurePosixPath(name).name != name:
            raise PluginInstallError(server, f"refusing file name {name!r} with a directory")
        try:
            with path.open("rb") as f:
                data = f.read(max_bytes + 1)
        except OSError as e:
            raise PluginInstallError(path, f"cannot read: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise PluginInstallError(f"{server}/{name}", f"larger than {max_bytes} bytes")
    return data


def read_plugins_db(server: str) -> dict[str, dict[str, Any]]:
    """The checked ``plugins.db`` of a plugin server."""
    where = f"{server.rstrip('/')}/{PLUGINS_DB_FILENAME}"
    try:
        text = _fetch(server, PLUGINS_DB_FILENAME, MAX_DB_BYTES).decode("utf-8")
    except UnicodeDecodeError as e:
        raise PluginInstallError(where, f"not UTF-8: {e}") from None
    db = parse_json(text, where, PLUGINS_DB_FILENAME)
    if not isinstance(db, dict):
        raise PluginInstallError(where, "plugins.db must be a JSON object", 1)
    for plugin_id, entry in db.items():
        line = _line_of_key(text, plugin_id)
        if not isinstance(entry, dict):
            raise PluginInstallError(where, f"{plugin_id}: entry is not an object", line)
        missing = [k for k in INSTALLABLE_KEYS if k not in entry]
        if missing:
            raise PluginInstallError(where, f"{plugin_id}: missing {', '.join(missing)}", line)
        filename = entry["filename"]
        if (
            not isinstance(filename, str)
            or PurePosixPath(filename).name != filename
            or (filename in ("", ".", ".."))
        ):
            raise PluginInstallError(where, f"{plugin_id}: bad filename {filename!r}", line)
        if not isinstance(entry["dsize"], int) or entry["dsize"] < 0:
            raise PluginInstallError(where, f"{plugin_id}: dsize must be an integer", line)
        if not isinstance(entry["sha1sum"], str) or len(entry["sha1sum"]) != 40:
            raise PluginInstallError(where, f"{plugin_id}: sha1sum must be 40 hex digits", line)
    return db


def _line_of_key(text: str, key: str) -> int | None:
    needle = json.dumps(key)
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def _check_member(member: tarfile.TarInfo, top: str, origin: str) -> None:
    name = member.name
    parts = PurePosixPath(name).parts
    if name.startswith("/") or PurePosixPath(name).is_absolute():
        raise PluginInstallError(origin, f"absolute path in package: {name!r}")
    if ".." in parts:
        raise PluginInstallError(origin, f"path escaping the plugin directory: {name!r}")
    if not parts or parts[0] != top:
        raise PluginInstallError(origin, f"member {name!r} is outside {top}/")
    if (
        member.isdev()
        or member.isfifo()
        or not (member.isfile() or member.isdir() or member.issym() or member.islnk())
    ):
        raise PluginInstallError(origin, f"special file in package: {name!r}")
    if member.size > MAX_MEMBER_BYTES:
        raise PluginInstallError(origin, f"{name!r} is larger than {MAX_MEMBER_BYTES} bytes")
    if member.issym() or member.islnk():
        target = member.linkname
        if member.issym():
            resolved = PurePosixPath(*parts[:-1]) / target
        else:
            resolved = PurePosixPath(target)
        if target.startswith("/") or not _stays_inside(resolved, top):
            raise PluginInstallError(origin, f"link {name!r} -> {target!r} leaves {top}/")


def _stays_inside(path: PurePosixPath, top: str) -> bool:
    depth_parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not depth_parts:
                return False
            depth_parts.pop()
        elif part != ".":
            depth_parts.append(part)
    return bool(depth_parts) and depth_parts[0] == top


def safe_extract(tar_path: Path, dest: Path, top: str, origin: str) -> None:
    """Extract *tar_path* into *dest* after checking every member stays under ``top/``."""
    try:
        with tarfile.open(tar_path) as tar:
            members: list[tarfile.TarInfo] = []
            total = 0
            for member in tar:
                if len(members) >= MAX_MEMBERS:
                    raise PluginInstallError(origin, f"more than {MAX_MEMBERS} members")
                _check_member(member, top, origin)
                total += member.size
                if total > MAX_PACKAGE_BYTES * 4:
                    raise PluginInstallError(origin, "package expands to too many bytes")
                members.append(member)
            tar.extractall(dest, members=members, filter="data")
    except tarfile.TarError as e:
        raise PluginInstallError(origin, f"not a valid tar archive: {e}") from None


# --- installing ---------------------------------------------------------------------------


def install_from_server(plugins_dir: Path, server: str, plugin_id: str) -> None:
    """Download, verify and extract *plugin_id*; a failed install leaves the old one."""
    db = read_plugins_db(server)
    if plugin_id not in db:
        raise PluginInstallError(server, f"no plugin {plugin_id} in plugins.db")
    entry = db[plugin_id]
    origin = f"{server.rstrip('/')}/{entry['filename']}"
    if entry["dsize"] > MAX_PACKAGE_BYTES:
        raise PluginInstallError(origin, f"dsize {entry['dsize']} exceeds the limit")
    data = _fetch(server, entry["filename"], MAX_PACKAGE_BYTES)
    if len(data) != entry["dsize"]:
        raise PluginInstallError(
            origin, f"size {len(data)} differs from plugins.db dsize {entry['dsize']}"
        )
    digest = hashlib.sha1(data).hexdigest()
    if digest != entry["sha1sum"].lower():
        raise PluginInstallError(
            origin, f"sha1 {digest} differs from plugins.db sha1sum {entry['sha1sum']}"
        )
    staging = Path(tempfile.mkdtemp(prefix=".install-", dir=plugins_dir))
    try:
        # Written first so that recovery after a kill knows which plugin this was.
        (staging / "plugin-id").write_text(plugin_id)
        package = staging / "package.tar.bz2"
        package.write_bytes(data)
        tree = staging / "tree"
        tree.mkdir()
        safe_extract(package, tree, plugin_id, origin)
        new_dir = tree / plugin_id
        try:
            read_plugin_info(new_dir)
        except SourceError as e:
            raise PluginInstallError(origin, f"package has no valid plugin-info: {e}") from e
        _swap_in(plugins_dir, plugin_id, new_dir, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_in(plugins_dir: Path, plugin_id: str, new_dir: Path, staging: Path) -> None:
    target = plugins_dir / plugin_id
    backup = staging / "previous"
    had_previous = target.exists()
    if had_previous:
        os.replace(target, backup)
    try:
        os.replace(new_dir, target)
    except OSError:
        if had_previous:
            os.replace(backup, target)
        raise


def recover(plugins_dir: Path) -> None:
    """Finish what a killed install left: restore a swapped-out plugin, drop staging dirs."""
    for staging in sorted(plugins_dir.glob(".install-*")):
        previous = staging / "previous"
        if previous.is_dir():
            info = previous / PLUGIN_INFO_FILENAME
            plugin_id = _previous_id(staging)
            if plugin_id and info.is_file() and not (plugins_dir / plugin_id).exists():
                os.replace(previous, plugins_dir / plugin_id)
        shutil.rmtree(staging, ignore_errors=True)


def _previous_id(staging: Path) -> str | None:
    # The extracted tree names the plugin being replaced (tree/<plugin_id>).
    tree = staging / "tree"
    names = [p.name for p in tree.iterdir()] if tree.is_dir() else []
    marker = staging / "plugin-id"
    if marker.is_file():
        return marker.read_text().strip() or None
    return names[0] if len(names) == 1 else None
