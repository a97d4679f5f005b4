"""Firmware installation from a plugin's pkgs.db, with real or synthetic files, sandboxed.

A package's files come from a cache of real blobs (``--provd-firmware-dir``, or the
``PYTEST_PROVD_FIRMWARE_DIR`` environment variable; size and sha1 are checked against pkgs.db)
or, by default, are *synthetic*: generated so that every step of the package's install recipe
has something to work on -- a zip when a step unzips the file, holding members named after the
patterns later steps copy or include.  The recipe then runs exactly as written (fetchfw's node
graph: ``a`` holds the downloads, each ``x-y`` step reads node x and writes node y, nodes no
step reads are copied into the plugin's ``var/tftpboot``), so a wrong step, a pattern that
matches nothing or a path that leaves the sandbox fails here as it would on a real provd.

Synthetic members are named as the plugin expects them: a pattern such as ``*.bin`` takes the
file names the plugin's templates point at (``firmware/spa51x-7-5-5.bin``) that match it and
fit the package (its version and name), else the package name without its ``-fw`` suffix
(``6863i-fw`` → ``6863i.st``, the name Aastra phones fetch).

Synthetic content starts with ``pytest-provd synthetic firmware: <name> version <version>`` so
an emulated phone can tell which version it "flashed".
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_provd import pkgsdb
from pytest_provd.firmware import image
from pytest_provd.problems import SourceError
from pytest_provd.tree.model import model_variants

FIRMWARE_DIR_ENV = "PYTEST_PROVD_FIRMWARE_DIR"
_MAX_MEMBER = 512 * 1024 * 1024
_SYNTHETIC_COMMANDS = {"cp", "unzip", "untar", "include", "exclude", "null"}


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


def synthetic_payload(pkg: pkgsdb.Package, label: str) -> bytes:
    """The recognisable content of a synthetic firmware file (``...: <name> version <v>``)."""
    return image.payload(label, str(pkg.version))


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


def _substitute(arg: str, files: list[str], args: list[str]) -> str:
    for index in range(len(files), 0, -1):
        arg = arg.replace(f"$FILE{index}", files[index - 1])
    for index in range(len(args), 0, -1):
        arg = arg.replace(f"$ARG{index}", args[index - 1])
    return arg


_HINT = re.compile(r"/([A-Za-z0-9][A-Za-z0-9_.+-]*\.[A-Za-z0-9]{1,5})\b")
_GENERIC_TOKENS = {"fw", "firmware", "pkg", "trans", "files", "file", "sip"}


def name_hints(plugin_dir: Path) -> frozenset[str]:
    """File names the plugin's templates point at (``…/firmware/<name>``, ``…/<name>``)."""
    found: set[str] = set()
    templates = Path(plugin_dir) / "templates"
    if templates.is_dir():
        for path in sorted(templates.rglob("*")):
            if path.is_file() and path.stat().st_size <= 1024 * 1024:
                found.update(_HINT.findall(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(found)


def plugin_models(plugin_dir: Path) -> tuple[str, ...]:
    """The models of the plugin's capabilities (``Vendor, Model, Version`` keys)."""
    try:
        info = json.loads((Path(plugin_dir) / "plugin-info").read_text(encoding="utf-8"))
        keys = info.get("capabilities", {}) if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return ()
    names = [str(k).split(",")[1].strip() for k in keys if str(k).count(",") == 2]
    return tuple(sorted({variant for name in names for variant in model_variants(name)}))


def _series_members(base: str, pkg: pkgsdb.Package, models: tuple[str, ...]) -> list[str]:
    """``6863i.st`` ... for a ``*.st`` pattern of a ``6800-fw`` (series) package."""
    if not base.startswith("*") or "*" in base[1:] or "?" in base:
        return []
    series = [t.rstrip("0") for t in re.split(r"[-_.]", pkg.name) if re.fullmatch(r"\d+00", t)]
    return [m + base[1:] for m in models if any(m.startswith(p) for p in series if p)]


def _fit(hint: str, pkg: pkgsdb.Package) -> int:
    """How well a hinted file name fits a package: its version (2), a name token (1)."""
    score = 0
    # "7.5.5" fits spa51x-7-5-5.bin; "1.3.5p" fits SPA112-SPA122_1.3.5_004p.bin
    wanted = [int(n) for n in re.findall(r"\d+", pkg.version or "")]
    numbers = [int(n) for n in re.findall(r"\d+", hint)]
    if wanted and any(
        numbers[i : i + len(wanted)] == wanted for i in range(len(numbers) - len(wanted) + 1)
    ):
        score += 2
    tokens = {t for t in re.split(r"[-_.]", pkg.name.lower()) if t} - _GENERIC_TOKENS
    score += any(t in hint.lower() for t in tokens)
    return score


def _member_names(
    pattern: str, pkg: pkgsdb.Package, hints: frozenset[str], models: tuple[str, ...] = ()
) -> list[str]:
    """File names matching a glob pattern, for synthetic archive members."""
    pattern = pattern.replace("**/", "").strip("/")
    folder, _, base = pattern.rpartition("/")
    stem = re.sub(r"[-_](fw|firmware)$", "", pkg.name)
    prefix = folder.replace("*", stem).replace("?", "x") + "/" if folder else ""
    scored = [(_fit(h, pkg), h) for h in sorted(hints) if fnmatch.fnmatchcase(h, base)]
    best = max((score for score, _ in scored), default=0)
    if best > 0:
        return [prefix + h for score, h in scored if score == best]
    series = _series_members(base, pkg, models)
    if series:
        return [prefix + name for name in series]
    name = base.replace("*", stem).replace("?", "x")
    return [prefix + name if name else pkg.name]


def _archive(
    kind: str,
    node: str,
    recipe: pkgsdb.InstallRecipe,
    pkg: pkgsdb.Package,
    files: list[str],
    hints: frozenset[str] = frozenset(),
    models: tuple[str, ...] = (),
) -> bytes:
    """A zip or tar.gz holding what the steps reading *node* will look for (recursively)."""
    members: dict[str, bytes] = {}
    for step in recipe.steps:
        if step.src != node:
            continue
        args = [_substitute(a, files, pkg.install_args) for a in step.args]
        if step.command == "cp":
            patterns = args[:-1]
        elif step.command == "include":
            patterns = args
        elif step.command in ("unzip", "untar") and args:
            for name in _member_names(args[0], pkg, frozenset()):
                members[name] = _archive(step.command, step.dst, recipe, pkg, files, hints, models)
            continue
        else:
            continue
        for pattern in patterns:
            for name in _member_names(pattern, pkg, hints, models):
                members[name] = synthetic_payload(pkg, name.rsplit("/", 1)[-1])
    if not members:
        members[f"{pkg.name}.bin"] = synthetic_payload(pkg, pkg.name)
    buf = io.BytesIO()
    if kind == "unzip":
        with zipfile.ZipFile(buf, "w") as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    else:
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _synthetic_file(
    db: pkgsdb.PkgsDb,
    pkg: pkgsdb.Package,
    recipe: pkgsdb.InstallRecipe,
    file_index: int,
    files: list[str],
    hints: frozenset[str] = frozenset(),
    models: tuple[str, ...] = (),
) -> bytes:
    name = files[file_index]
    for step in recipe.steps:
        if step.src != "a":
            continue
        args = [_substitute(a, files, pkg.install_args) for a in step.args]
        if not args or not fnmatch.fnmatchcase(name, args[0]):
            continue
        if step.command in ("unzip", "untar"):
            return _archive(step.command, step.dst, recipe, pkg, files, hints, models)
        if step.command not in _SYNTHETIC_COMMANDS:
            raise SourceError(
                db.path,
                f"[install_{recipe.name}] step {step.label}: synthetic firmware cannot feed "
                f"'{step.command}'; give real files with --provd-firmware-dir",
                step.line,
            )
    return synthetic_payload(pkg, name)


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


class FirmwareStore:
    """The firmware packages of one plugin directory: what provd's install service offers."""

    def __init__(self, plugin_dir: Path, firmware_dir: Path | None = None) -> None:
        self.plugin_dir = Path(plugin_dir)
        env = os.environ.get(FIRMWARE_DIR_ENV)
        self.firmware_dir = firmware_dir or (Path(env) if env else None)
        self.db_path = self.plugin_dir / "pkgs" / "pkgs.db"
        self.tftpboot = self.plugin_dir / "var" / "tftpboot"
        self.state_dir = self.plugin_dir / "var" / "installed"
        self.reports: dict[str, InstallReport] = {}
        self._names: tuple[frozenset[str], tuple[str, ...]] | None = None

    def _naming(self) -> tuple[frozenset[str], tuple[str, ...]]:
        """Template file names and models that name synthetic members (read once)."""
        if self._names is None:
            self._names = (name_hints(self.plugin_dir), plugin_models(self.plugin_dir))
        return self._names

    def db(self) -> pkgsdb.PkgsDb:
        """The plugin's parsed pkgs.db (an empty one when the plugin has none)."""
        if not self.db_path.is_file():
            return pkgsdb.parse("", self.db_path)
        return pkgsdb.load(self.db_path)

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
                args = [_substitute(a, names, pkg.install_args) for a in step.args]
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
                data = _synthetic_file(
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
