"""Plugins loaded by the installed ``wazo_provd``'s own plugin manager (the ``real`` backend).

Under ``--provd-backend real`` the generated suite's load, configure, wellformed,
hostile-values and firmware tiers drive plugin objects that real provd created: its
``PluginManager.load`` executes ``entry.py`` (its ``execfile_``), picks the plugin class and
instantiates it with the general and specific configuration, exactly as in production.
Only call this where ``compat.activate("real")`` succeeded.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import threading
import types
import urllib.parse
import zipfile
from pathlib import Path
from typing import Any

from twisted.internet import defer

from pytest_provd import pkgsdb
from pytest_provd.firmware import FIRMWARE_DIR_CFG
from pytest_provd.firmware.synthetic import (
    SyntheticFirmwareLimit,
    name_hints,
    plugin_models,
    static_hints,
    synthetic_file,
)


def load(
    plugins_dir: Path, plugin_id: str, app: Any, gen_cfg: dict[str, Any], spec_cfg: dict[str, Any]
) -> Any:
    """The plugin object real provd's plugin manager makes for ``plugins_dir/plugin_id``.

    Raises what real provd raises (bare ``Exception`` for a missing class or a compat
    mismatch, the plugin's own exceptions otherwise).
    """
    from wazo_provd import plugins  # lazy: only the real backend has it

    if app is None:
        # Real provd's manager downloads plugin packages through its app's proxies; this one
        # installs nothing, and a plugin's own downloads use gen_cfg["proxies"].
        app = types.SimpleNamespace(proxies=gen_cfg.get("proxies", {}))
    limits: dict[str, SyntheticFirmwareLimit] = {}
    if gen_cfg.get(STAGE_DIR_CFG):
        cache = gen_cfg.get(FIRMWARE_DIR_CFG)
        limits = stage_firmware(
            plugins_dir / plugin_id, Path(cache) if cache else None, Path(gen_cfg[STAGE_DIR_CFG])
        )
    manager = plugins.PluginManager(
        app, str(plugins_dir), str(plugins_dir / ".real-provd-cache"), cache_plugin=False
    )
    manager.load(plugin_id, gen_cfg, spec_cfg)
    plugin = manager[plugin_id]
    _install_on_reactor(plugin, limits)
    return plugin


def _install_on_reactor(plugin: Any, limits: dict[str, SyntheticFirmwareLimit]) -> None:
    """The plugin's firmware installs run on the real backend's reactor; packages synthetic
    files cannot feed raise their limit instead of a download error (the harness's limit,
    said as one, not the plugin's failure)."""
    try:
        service = dict(plugin.services or {}).get("install")
    except Exception:  # broken services fail where provd uses them, not here
        return
    if service is None:
        return
    install = service.install

    def install_unless_limited(pkg_id: str) -> Any:
        if pkg_id in limits:
            raise limits[pkg_id]
        # fetchfw installs in the reactor's thread pool and reports back through the
        # reactor: it completes only where a reactor runs, so on the real backend's.
        call(lambda: install(pkg_id)[0])
        return defer.succeed(None)

    service.install = install_unless_limited


CALL_TIMEOUT_S = 60.0
_reactor_lock = threading.Lock()
_reactor_thread: threading.Thread | None = None


def running_reactor() -> Any:
    """The global twisted reactor, running in a daemon thread."""
    global _reactor_thread
    # Lazy: importing the reactor installs it, which only the real backend wants.
    from twisted.internet import reactor as twisted_reactor

    # Typed as the union of its interfaces; the calls below are the documented ones.
    reactor: Any = twisted_reactor
    with _reactor_lock:
        if _reactor_thread is None:
            _reactor_thread = threading.Thread(
                target=reactor.run,
                kwargs={"installSignalHandlers": False},
                name="provd-real-reactor",
                daemon=True,
            )
            _reactor_thread.start()
    return reactor


def call(fun: Any, *args: Any, **kwargs: Any) -> Any:
    """Run *fun* on the reactor thread; its (Deferred's) result, or its exception."""
    reactor = running_reactor()
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def run() -> None:
        try:
            d = defer.maybeDeferred(fun, *args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread
            future.set_exception(exc)
            return
        d.addCallbacks(future.set_result, lambda f: future.set_exception(f.value))

    reactor.callFromThread(run)
    return future.result(CALL_TIMEOUT_S)


STAGE_DIR_CFG = "pytest_provd_firmware_stage"
"""The ``gen_cfg`` key naming the directory the loopback firmware proxy serves (real backend)."""


def stage_firmware(
    plugin_dir: Path, firmware_dir: Path | None, stage_dir: Path
) -> dict[str, SyntheticFirmwareLimit]:
    """Make real fetchfw's downloads of *plugin_dir*'s packages succeed on loopback.

    Real fetchfw downloads each ``[file_*]`` URL through provd's proxy (ours, serving
    *stage_dir* by file name) and checks its size and sha1 against pkgs.db.  Each file is put
    in *stage_dir*: the vendor's file from *firmware_dir* when it is there, else a synthetic
    one; for a synthetic file, this plugin copy's pkgs.db is given its size and sha1.  A
    synthetic archive several packages share holds the members of each.  URLs become
    ``http``: the proxy serves plain requests and refuses ``CONNECT`` tunnels.  A file
    without URL (Cisco's, put in the plugin's cache by hand) goes to ``var/cache``.

    Returns the packages synthetic files cannot feed (``unsign``, ``7z``... steps), by id.
    """
    db_path = plugin_dir / "pkgs" / "pkgs.db"
    if not db_path.is_file():
        return {}
    db = pkgsdb.load(db_path)
    tftpboot = plugin_dir / "var" / "tftpboot"
    static = sorted(p for p in tftpboot.glob("*") if p.is_file()) if tftpboot.is_dir() else []
    naming = (name_hints(plugin_dir), plugin_models(plugin_dir), static_hints(static))
    limits: dict[str, SyntheticFirmwareLimit] = {}
    # served path -> (file entry, whether synthetic, {package: content})
    wanted: dict[Path, tuple[pkgsdb.FileEntry, bool, dict[str, bytes]]] = {}
    for pkg in db.packages.values():
        recipe = db.installs.get(pkg.install or "")
        entries = [db.files.get(file_id) for file_id in pkg.files]
        names = [str(entry.local_name) if entry and entry.local_name else "" for entry in entries]
        if recipe is None or "" in names:
            continue  # real provd says what is wrong with this package when installing it
        mine: list[tuple[Path, pkgsdb.FileEntry, bool, bytes]] = []
        for index, entry in enumerate(entries):
            assert entry is not None
            path = urllib.parse.urlsplit(entry.url or "").path
            served = (
                stage_dir / Path(path).name
                if path.rstrip("/")
                else plugin_dir / "var" / "cache" / names[index]
            )
            real = firmware_dir / names[index] if firmware_dir is not None else None
            if real is not None and real.is_file():
                mine.append((served, entry, False, real.read_bytes()))
                continue
            try:
                data = synthetic_file(db, pkg, recipe, index, names, *naming)
            except SyntheticFirmwareLimit as exc:
                limits[pkg.name] = exc
                break
            mine.append((served, entry, True, data))
        else:
            for served, entry, synthetic, data in mine:
                wanted.setdefault(served, (entry, synthetic, {}))[2][pkg.name] = data
    lines = db_path.read_text(encoding="utf-8").splitlines(keepends=True)
    for served, (entry, synthetic, contents) in wanted.items():
        one = _one_content(list(contents.values()))
        if one is None or (served.exists() and served.read_bytes() != one):
            for pkg_name in contents:
                limits[pkg_name] = SyntheticFirmwareLimit(
                    db_path,
                    f"[file_{entry.name}] synthetic firmware cannot give {served.name} the "
                    "content each package (or target) using it needs; give real files with "
                    "--provd-firmware-dir",
                    entry.line,
                    "download",
                )
            continue
        served.parent.mkdir(parents=True, exist_ok=True)
        served.write_bytes(one)
        if synthetic:
            _set_option(lines, entry.section, "size", str(len(one)))
            _set_option(lines, entry.section, "sha1sum", hashlib.sha1(one).hexdigest())
        if entry.url:
            url = urllib.parse.urlsplit(entry.url)
            _set_option(lines, entry.section, "url", url._replace(scheme="http").geturl())
    db_path.write_text("".join(lines), encoding="utf-8")
    return limits


def _one_content(contents: list[bytes]) -> bytes | None:
    """One file for every package sharing it: the same bytes, or zips merged (members of
    one name agreeing); None when they cannot be one."""
    if len(set(contents)) == 1:
        return contents[0]
    members: dict[str, bytes] = {}
    try:
        for data in contents:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    member = archive.read(name)
                    if members.setdefault(name, member) != member:
                        return None
    except zipfile.BadZipFile:
        return None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as merged:
        for name, member in sorted(members.items()):
            merged.writestr(name, member)
    return buf.getvalue()


def _set_option(lines: list[str], section: pkgsdb.Section, key: str, value: str) -> None:
    """Rewrite option *key* of *section* in place (its line), if the section has it."""
    if key in section.options:
        index = section.line_of(key) - 1
        lines[index] = f"{key}: {value}\n"


def prepare_raw_config(raw_config: dict[str, Any]) -> dict[str, Any]:
    """*raw_config* as real provd hands it to ``configure``: its defaults filled in by the
    installed library, then validated by its raw config schema (``RawConfigError`` when the
    schema rejects it: production would have refused the config before any plugin saw it)."""
    # Private helpers of wazo_provd.app: the very steps its configure path takes.
    from wazo_provd import app as provd_app

    provd_app._set_defaults_raw_config(raw_config)
    provd_app._check_raw_config_validity(raw_config)
    return raw_config
