"""Synthetic firmware: files generated so that a package's install recipe has work to do.

By default a package's files are not downloaded but generated: a zip when a step unzips the
file, holding members named after the patterns later steps copy or include, recursively.
Synthetic members are named as the plugin expects them: a pattern such as ``*.bin`` takes
the file names the plugin's templates or shipped static files point at
(``firmware/spa51x-7-5-5.bin``) that match it and fit the package (its version and name),
else the names the shipped static files point at that no other package of the pkgs.db fits
(Polycom's ``000000000000.cfg`` says ``APP_FILE_PATH="sip.ld"``: ``*.ld`` gives ``sip.ld``,
not ``bootblock.ld``), else, for a series package, the models of the plugin (``6800-fw`` +
``*.st`` → ``6863i.st``), else the package name without its ``-fw`` suffix (``6863i-fw`` →
``6863i.st``, the name Aastra phones fetch).

Synthetic content starts with ``pytest-provd synthetic firmware: <name> version <version>`` so
an emulated phone can tell which version it "flashed".
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import json
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pytest_provd import pkgsdb
from pytest_provd.capabilities import split_capability_key
from pytest_provd.firmware import image
from pytest_provd.problems import SourceError
from pytest_provd.tree import model_variants

MAX_MEMO = 1024
"""Synthetic files (and claim tables) kept per process; a target has a few dozen files."""

_MEMO_LOCK = threading.Lock()
# Both plugin managers of a target install the same packages from two copies of the plugin:
# what a file is depends on pkgs.db's content and the naming, never on where it is.
_FILES: dict[tuple[object, ...], bytes] = {}
_CLAIMS: dict[tuple[str, frozenset[str]], dict[str, frozenset[str]]] = {}

_K = TypeVar("_K")
_V = TypeVar("_V")

# Commands synthetic files can feed; anything else needs the vendor's real files.
SYNTHETIC_COMMANDS = {"cp", "unzip", "untar", "include", "exclude", "null"}


class SyntheticFirmwareLimit(SourceError):
    """An install step synthetic files cannot feed (unsign, unrar, 7z): a limit of the
    harness, not a defect of the package; *command* is the step's command."""

    def __init__(self, path: Path | str, message: str, line: int | None, command: str) -> None:
        super().__init__(path, message, line)
        self.command = command


def synthetic_payload(pkg: pkgsdb.Package, label: str) -> bytes:
    """The recognisable content of a synthetic firmware file (``...: <name> version <v>``)."""
    return image.payload(label, str(pkg.version))


def substitute(arg: str, files: list[str], args: list[str]) -> str:
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


_STATIC_HINT = re.compile(
    r"""(?:^|[/"'=\s>])([A-Za-z0-9][A-Za-z0-9_.+-]*\.[A-Za-z0-9]{1,5})(?=["'\s<,;]|$)""",
    re.MULTILINE,
)
_MAX_STATIC_FILE = 256 * 1024


def static_hints(paths: Iterable[Path]) -> frozenset[str]:
    """File names static files point at: quoted (``APP_FILE_PATH="sip.ld"``), after ``/``
    or ``=``, or alone on a line; *paths* are the plugin's shipped ``var/tftpboot`` files."""
    found: set[str] = set()
    for path in sorted(paths):
        try:
            if not path.is_file() or path.stat().st_size > _MAX_STATIC_FILE:
                continue
            data = path.read_bytes()
        except OSError:
            continue
        if b"\0" in data:  # a binary file names nothing
            continue
        found.update(_STATIC_HINT.findall(data.decode("utf-8", "replace")))
    return frozenset(found)


def plugin_models(plugin_dir: Path) -> tuple[str, ...]:
    """The models of the plugin's capabilities (``Vendor, Model, Version`` keys)."""
    try:
        info = json.loads((Path(plugin_dir) / "plugin-info").read_text(encoding="utf-8"))
        keys = info.get("capabilities", {}) if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return ()
    names = [key.model for key in map(split_capability_key, map(str, keys)) if key is not None]
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


@dataclass(frozen=True)
class Naming:
    """What names synthetic members: template hints, the plugin's models, static hints, and
    the static hints another package of the same pkgs.db fits (not this package's)."""

    hints: frozenset[str] = frozenset()
    models: tuple[str, ...] = ()
    static: frozenset[str] = frozenset()
    claimed: frozenset[str] = frozenset()


def _member_names(pattern: str, pkg: pkgsdb.Package, naming: Naming = Naming()) -> list[str]:
    """File names matching a glob pattern, for synthetic archive members."""
    hints, models = naming.hints, naming.models
    pattern = pattern.replace("**/", "").strip("/")
    folder, _, base = pattern.rpartition("/")
    stem = re.sub(r"[-_](fw|firmware)$", "", pkg.name)
    prefix = folder.replace("*", stem).replace("?", "x") + "/" if folder else ""
    candidates = sorted(hints | naming.static)
    scored = [(_fit(h, pkg), h) for h in candidates if fnmatch.fnmatchcase(h, base)]
    best = max((score for score, _ in scored), default=0)
    if best > 0:
        return [prefix + h for score, h in scored if score == best]
    pointed = [h for h in sorted(naming.static - naming.claimed) if fnmatch.fnmatchcase(h, base)]
    if pointed:
        return [prefix + h for h in pointed]
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
    naming: Naming,
) -> bytes:
    """A zip or tar.gz holding what the steps reading *node* will look for (recursively)."""
    members: dict[str, bytes] = {}
    for step in recipe.steps:
        if step.src != node:
            continue
        args = [substitute(a, files, pkg.install_args) for a in step.args]
        if step.command == "cp":
            patterns = args[:-1]
        elif step.command == "include":
            patterns = args
        elif step.command in ("unzip", "untar") and args:
            for name in _member_names(args[0], pkg):
                members[name] = _archive(step.command, step.dst, recipe, pkg, files, naming)
            continue
        else:
            continue
        for pattern in patterns:
            for name in _member_names(pattern, pkg, naming):
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


def _remember(memo: dict[_K, _V], key: _K, value: _V) -> _V:
    with _MEMO_LOCK:
        if len(memo) >= MAX_MEMO:
            del memo[next(iter(memo))]
        memo[key] = value
    return value


def _fits(db: pkgsdb.PkgsDb, fingerprint: str, static: frozenset[str]) -> dict[str, frozenset[str]]:
    """For each static hint, the packages it fits."""
    key = (fingerprint, static)
    with _MEMO_LOCK:
        found = _CLAIMS.get(key)
    if found is not None:
        return found
    table = {h: frozenset(p.name for p in db.packages.values() if _fit(h, p) > 0) for h in static}
    return _remember(_CLAIMS, key, table)


def synthetic_file(
    db: pkgsdb.PkgsDb,
    pkg: pkgsdb.Package,
    recipe: pkgsdb.InstallRecipe,
    file_index: int,
    files: list[str],
    hints: frozenset[str] = frozenset(),
    models: tuple[str, ...] = (),
    static: frozenset[str] = frozenset(),
) -> bytes:
    """The synthetic content of *pkg*'s file number *file_index* (named *files*); made once
    per process for the same pkgs.db content, package, file and naming."""
    fingerprint = hashlib.sha256(pkgsdb.dump(db).encode("utf-8", "surrogatepass")).hexdigest()
    key = (
        fingerprint,
        pkg.name,
        pkg.version,
        tuple(pkg.install_args),
        recipe.name,
        repr(recipe.steps),
        file_index,
        tuple(files),
        hints,
        models,
        static,
    )
    with _MEMO_LOCK:
        found = _FILES.get(key)
    if found is not None:
        return found
    fits = _fits(db, fingerprint, static)
    claimed = frozenset(h for h in static if fits[h] - {pkg.name})
    data = _synthetic_file(
        db, pkg, recipe, file_index, files, Naming(hints, models, static, claimed)
    )
    return _remember(_FILES, key, data)


def _synthetic_file(
    db: pkgsdb.PkgsDb,
    pkg: pkgsdb.Package,
    recipe: pkgsdb.InstallRecipe,
    file_index: int,
    files: list[str],
    naming: Naming,
) -> bytes:
    name = files[file_index]
    for step in recipe.steps:
        if step.src != "a":
            continue
        args = [substitute(a, files, pkg.install_args) for a in step.args]
        if not args or not fnmatch.fnmatchcase(name, args[0]):
            continue
        if step.command in ("unzip", "untar"):
            return _archive(step.command, step.dst, recipe, pkg, files, naming)
        if step.command not in SYNTHETIC_COMMANDS:
            raise SyntheticFirmwareLimit(
                db.path,
                f"[install_{recipe.name}] step {step.label}: synthetic firmware cannot feed "
                f"'{step.command}'; give real files with --provd-firmware-dir",
                step.line,
                step.command,
            )
    return synthetic_payload(pkg, name)
