"""Firmware installation from a plugin's pkgs.db, with real or synthetic files, sandboxed.

A package's files come from a cache of real blobs (``--provd-firmware-dir``: the plugin
manager's ``gen_cfg[FIRMWARE_DIR_CFG]``; size and sha1 are checked against pkgs.db) or, by
default, are *synthetic* (:mod:`pytest_provd.firmware.synthetic`).  The recipe then runs
exactly as written (fetchfw's node graph: ``a`` holds the downloads, each ``x-y`` step reads
node x and writes node y, nodes no step reads are copied into the plugin's ``var/tftpboot``),
so a wrong step, a pattern that matches nothing or a path that leaves the sandbox fails here
as it would on a real provd.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import shutil
import tarfile
import tempfile
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_provd import pkgsdb
from pytest_provd.firmware import FIRMWARE_DIR_CFG
from pytest_provd.firmware.synthetic import (
    name_hints,
    plugin_models,
    static_hints,
    substitute,
    synthetic_file,
    synthetic_payload,
)
from pytest_provd.problems import SourceError

__all__ = [
    "FIRMWARE_DIR_CFG",
    "FileSource",
    "FirmwareStore",
    "InstallReport",
    "synthetic_payload",
]

_MAX_MEMBER = 512 * 1024 * 1024


@dataclass
class FileSource:
    """Where one downloaded file of a package came from."""

    file_id: str
    name: str
    mode: str  # "cache" or "synthetic"
    source: str


@dataclass
class InstallReport:
    """What installing a package did."""

    package: str
    version: str | None
    files: list[FileSource] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)


class _Sandbox:
    """Paths of one installation, all checked to stay inside the work directory."""

    def __init__(self, root: Path, db: pkgsdb.PkgsDb, section: str, line: int) -> None:
        self.root = root.resolve()
        self.db = db
        self.section = section
        self.line = line

    def error(self, message: str, line: int | None = None) -> SourceError:
        return SourceError(self.db.path, f"[{self.section}] {message}", line or self.line)

    def inside(self, base: Path, rel: str, line: int) -> Path:
        """``base/rel``, refused when it resolves outside *base* (``..``, absolute, links)."""
        path = (base / rel).resolve()
        if not path.is_relative_to(base.resolve()):
            raise self.error(f"path {rel!r} leaves the install sandbox", line)
        return path


def _copy_tree_filtered(src: Path, dst: Path, keep: Any) -> list[Path]:
    copied = []
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if path.is_symlink():
            continue
        if path.is_file() and keep(rel):
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            copied.append(target)
    return copied


def _safe_unzip(archive: Path, dst: Path, box: _Sandbox, line: int) -> None:
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            target = box.inside(dst, info.filename, line)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if info.file_size > _MAX_MEMBER:
                raise box.error(f"archive member {info.filename!r} is too large", line)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)


def _safe_untar(archive: Path, dst: Path, box: _Sandbox, line: int) -> None:
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            target = box.inside(dst, member.name, line)
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                raise box.error(f"archive member {member.name!r} is a link or device", line)
            if member.size > _MAX_MEMBER:
                raise box.error(f"archive member {member.name!r} is too large", line)
            target.parent.mkdir(parents=True, exist_ok=True)
            extracted = tf.extractfile(member)
            assert extracted is not None
            with extracted, target.open("wb") as out:
                shutil.copyfileobj(extracted, out)


def _run_step(
    step: pkgsdb.InstallStep, args: list[str], src: Path, dst: Path, box: _Sandbox
) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    if step.command == "cp":
        *sources, dest = args
        matched: list[Path] = []
        for pattern in sources:
            box.inside(src, pattern, step.line)
            found = sorted(p for p in src.glob(pattern) if p.is_file())
            if not found:
                raise box.error(f"step {step.label}: cp {pattern!r} matches no file", step.line)
            matched += found
        target = box.inside(dst, dest, step.line)
        if dest.endswith("/") or len(matched) > 1 or dest in ("", "."):
            target.mkdir(parents=True, exist_ok=True)
            for path in matched:
                shutil.copyfile(path, target / path.name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(matched[0], target)
    elif step.command in ("unzip", "untar"):
        box.inside(src, args[0], step.line)
        archives = sorted(p for p in src.glob(args[0]) if p.is_file())
        if not archives:
            raise box.error(f"step {step.label}: {args[0]!r} is not in node {step.src}", step.line)
        for archive in archives:
            try:
                if step.command == "unzip":
                    _safe_unzip(archive, dst, box, step.line)
                else:
                    _safe_untar(archive, dst, box, step.line)
            except (zipfile.BadZipFile, tarfile.TarError) as exc:
                raise box.error(
                    f"step {step.label}: {archive.name} is not a valid archive: {exc}", step.line
                ) from exc
    elif step.command in ("include", "exclude"):

        def keep(rel: str) -> bool:
            hit = any(
                fnmatch.fnmatchcase(rel, p) or fnmatch.fnmatchcase(PurePosixPath(rel).name, p)
                for p in args
            )
            return hit if step.command == "include" else not hit

        copied = _copy_tree_filtered(src, dst, keep)
        if step.command == "include" and not copied:
            raise box.error(f"step {step.label}: include {args} matches no file", step.line)
    elif step.command == "null":
        return
    else:
        raise box.error(
            f"step {step.label}: '{step.command}' cannot run here (needs its vendor tool); "
            "use --provd-firmware-dir with pre-extracted files",
            step.line,
        )


MAX_DBS = 64
"""Parsed pkgs.db files kept per process (one per plugin copy)."""

_DBS_LOCK = threading.Lock()
_DBS: dict[tuple[str, bytes], pkgsdb.PkgsDb] = {}


class FirmwareStore:
    """The firmware packages of one plugin directory: what provd's install service offers."""

    def __init__(self, plugin_dir: Path, firmware_dir: Path | None = None) -> None:
        self.plugin_dir = Path(plugin_dir)
        self.firmware_dir = firmware_dir
        """The cache of real files (None: every file is synthetic)."""
        self.db_path = self.plugin_dir / "pkgs" / "pkgs.db"
        self.tftpboot = self.plugin_dir / "var" / "tftpboot"
        self.state_dir = self.plugin_dir / "var" / "installed"
        self.reports: dict[str, InstallReport] = {}
        self._names: tuple[frozenset[str], tuple[str, ...], frozenset[str]] | None = None
        # Shipped static files only: what configure writes later must not name firmware.
        self._static_files = sorted(p for p in self.tftpboot.glob("*") if p.is_file())

    @classmethod
    def for_plugin(cls, plugin_dir: Path, gen_cfg: Mapping[str, Any]) -> FirmwareStore:
        """The store of a plugin loaded with *gen_cfg* (provd's general configuration)."""
        cache = gen_cfg.get(FIRMWARE_DIR_CFG)
        return cls(plugin_dir, Path(cache) if cache else None)

    def _naming(self) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
        """Template file names, models and static-file names that name synthetic members
        (read once)."""
        if self._names is None:
            self._names = (
                name_hints(self.plugin_dir),
                plugin_models(self.plugin_dir),
                static_hints(self._static_files),
            )
        return self._names

    def db(self) -> pkgsdb.PkgsDb:
        """The plugin's parsed pkgs.db (an empty one when the plugin has none)."""
        if not self.db_path.is_file():
            return pkgsdb.parse("", self.db_path)
        # Parsed once per content: every install and listing reads it again.  Callers only
        # read the result.
        try:
            key = (str(self.db_path), self.db_path.read_bytes())
        except OSError:
            return pkgsdb.load(self.db_path)  # says why it cannot be read
        with _DBS_LOCK:
            found = _DBS.get(key)
        if found is None:
            found = pkgsdb.load(self.db_path)
            with _DBS_LOCK:
                if len(_DBS) >= MAX_DBS:
                    del _DBS[next(iter(_DBS))]
                _DBS[key] = found
        return found

    def installable(self) -> dict[str, dict[str, Any]]:
        """Every package of pkgs.db: version, description and download size."""
        db = self.db()
        out = {}
        for name, pkg in db.packages.items():
            size = sum(db.files[f].size_int or 0 for f in pkg.files if f in db.files)
            out[name] = {"version": pkg.version, "description": pkg.description, "dsize": size}
        return out

    def installed(self) -> dict[str, dict[str, Any]]:
        """Installed packages, from the records kept under ``var/installed``."""
        out = {}
        if self.state_dir.is_dir():
            for record in sorted(self.state_dir.glob("*.json")):
                data = json.loads(record.read_text())
                out[data["package"]] = {"version": data["version"], "files": data["installed"]}
        return out

    def install(self, pkg_id: str) -> InstallReport:
        """Install one package into ``var/tftpboot``; SourceError names pkgs.db section/line."""
        db = self.db()
        pkg = db.packages.get(pkg_id)
        if pkg is None:
            raise SourceError(self.db_path, f"no package [pkg_{pkg_id}]")
        if pkg.install is None or pkg.install not in db.installs:
            raise SourceError(self.db_path, f"[pkg_{pkg_id}] has no usable install", pkg.line)
        recipe = db.installs[pkg.install]
        report = InstallReport(pkg_id, pkg.version)
        self.plugin_dir.joinpath("var", "cache").mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.plugin_dir / "var" / "cache") as tmp:
            work = Path(tmp)
            box = _Sandbox(work, db, f"install_{recipe.name}", recipe.line)
            nodes: dict[str, Path] = {"a": work / "node_a"}
            nodes["a"].mkdir()
            names = self._fetch_files(db, pkg, recipe, nodes["a"], report)
            for step in recipe.steps:
                if step.src not in nodes:
                    raise box.error(f"step {step.label} reads unknown node {step.src}", step.line)
                nodes.setdefault(step.dst, work / f"node_{step.dst}")
                args = [substitute(a, names, pkg.install_args) for a in step.args]
                _run_step(step, args, nodes[step.src], nodes[step.dst], box)
            sources = {s.src for s in recipe.steps}
            results = [path for node, path in nodes.items() if node not in sources]
            self.tftpboot.mkdir(parents=True, exist_ok=True)
            for result in results:
                for path in sorted(result.rglob("*")):
                    if path.is_file() and not path.is_symlink():
                        rel = path.relative_to(result).as_posix()
                        target = box.inside(self.tftpboot, rel, recipe.line)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(path, target)
                        report.installed.append(rel)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        record = {
            "package": pkg_id,
            "version": pkg.version,
            "installed": sorted(set(report.installed)),
            "files": [asdict(f) for f in report.files],
        }
        (self.state_dir / f"{pkg_id}.json").write_text(json.dumps(record, indent=1))
        self.reports[pkg_id] = report
        return report

    def _fetch_files(
        self,
        db: pkgsdb.PkgsDb,
        pkg: pkgsdb.Package,
        recipe: pkgsdb.InstallRecipe,
        node_a: Path,
        report: InstallReport,
    ) -> list[str]:
        names = []
        for file_id in pkg.files:
            entry = db.files.get(file_id)
            if entry is None or not entry.local_name:
                raise SourceError(
                    db.path, f"[pkg_{pkg.name}] file {file_id!r} is undefined", pkg.line
                )
            names.append(entry.local_name)
        for index, file_id in enumerate(pkg.files):
            entry = db.files[file_id]
            name = names[index]
            if "/" in name or name in ("", ".", ".."):
                raise SourceError(db.path, f"[file_{file_id}] bad file name {name!r}", entry.line)
            cached = self.firmware_dir / name if self.firmware_dir else None
            if cached is not None and cached.is_file():
                data = cached.read_bytes()
                if entry.size_int is not None and len(data) != entry.size_int:
                    raise SourceError(
                        db.path,
                        f"[file_{file_id}] size {entry.size} but {cached} has {len(data)} bytes",
                        entry.section.line_of("size"),
                    )
                sha1 = hashlib.sha1(data).hexdigest()
                if entry.sha1sum and sha1 != entry.sha1sum:
                    raise SourceError(
                        db.path,
                        f"[file_{file_id}] sha1sum {entry.sha1sum} but {cached} has {sha1}",
                        entry.section.line_of("sha1sum"),
                    )
                report.files.append(FileSource(file_id, name, "cache", str(cached)))
            else:
                data = synthetic_file(
                    db,
                    pkg,
                    recipe,
                    index,
                    names,
                    *self._naming(),
                )
                report.files.append(FileSource(file_id, name, "synthetic", "generated"))
            (node_a / name).write_bytes(data)
        return names

    def uninstall(self, pkg_id: str) -> None:
        """Remove the files a package installed."""
        record_path = self.state_dir / f"{pkg_id}.json"
        if not record_path.is_file():
            raise SourceError(self.db_path, f"package {pkg_id!r} is not installed")
        record = json.loads(record_path.read_text())
        for rel in record["installed"]:
            path = (self.tftpboot / rel).resolve()
            if path.is_relative_to(self.tftpboot.resolve()) and path.is_file():
                path.unlink()
        record_path.unlink()

    def install_all(self) -> list[InstallReport]:
        """Install every package not installed yet (managing-plugins.md's mass install)."""
        installed = self.installed()
        return [self.install(p) for p in sorted(self.installable()) if p not in installed]
