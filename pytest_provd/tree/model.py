"""The plugin-tree model: families, build targets, builds and plugin-server packaging.

A *family* is a directory holding ``build.py`` (``plugins/wazo_snom/`` today,
``plugins/wazo-snom/`` in the legacy layout).  Its build targets are read the way the plugins
repository's own builder reads them: ``build.py`` is executed with an injected
``target(target_id, plugin_id, std_dirs=True)`` decorator.  A target is selected by its
*plugin id* (``wazo-snom-10.1.215.13``), the name provd and the plugin server know it by.

Builds run in a subprocess (the target functions ``chdir``-dependent and call ``rsync`` and
``sed``), are cached by a content hash of the family directory, and are copied out of the
cache so callers may change their copy freely.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_provd.problems import Problem, SourceError

BUILD_FILENAME = "build.py"
PLUGIN_INFO = "plugin-info"
PLUGINS_DB = "plugins.db"
PACKAGE_SUFFIX = ".tar.bz2"
STD_DIRS = ("var", "var/cache", "var/installed", "var/templates", "var/tftpboot")
_SKIPPED_DIRS = {"_build", "_firmwares", "__pycache__"}
# Bumped whenever the way we build changes, so stale cache entries are not reused.
_BUILDER_VERSION = "1"
_BUILD_TIMEOUT_S = 120.0


class BuildError(SourceError):
    """A target failed to build; the message carries the builder's own output."""


@dataclass
class Target:
    """One ``@target(...)`` of a family's ``build.py``."""

    family: Family
    target_id: str
    plugin_id: str
    std_dirs: bool
    build_py_line: int
    function_name: str
    source_dir: Path | None = None

    @property
    def build_py(self) -> Path:
        """The ``build.py`` that declares this target."""
        return self.family.path / BUILD_FILENAME

    def __repr__(self) -> str:
        return f"Target({self.plugin_id!r}, family={self.family.name!r})"


@dataclass
class Family:
    """A directory with a ``build.py`` and the targets it declares."""

    name: str
    path: Path
    layout: str
    targets: dict[str, Target] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Family({self.name!r}, {len(self.targets)} targets)"


@dataclass
class PluginTree:
    """Everything found under a ``plugins/`` directory."""

    root: Path
    families: dict[str, Family]
    targets: dict[str, Target]
    errors: list[Problem]

    def select(self, patterns: Iterable[str]) -> list[Target]:
        """Targets matching plugin ids, globs (``wazo-snom-*``) or ``all``, in tree order.

        Raises :class:`UnknownTargetError` for a pattern matching nothing.
        """
        import fnmatch

        chosen: dict[str, Target] = {}
        for pattern in patterns:
            if pattern == "all":
                matched = list(self.targets)
            else:
                matched = [pid for pid in self.targets if fnmatch.fnmatchcase(pid, pattern)]
            if not matched:
                raise UnknownTargetError(pattern, self)
            for pid in matched:
                chosen[pid] = self.targets[pid]
        return [self.targets[pid] for pid in self.targets if pid in chosen]


class UnknownTargetError(LookupError):
    """A requested plugin id does not exist; the message suggests the nearest ones."""

    def __init__(self, pattern: str, tree: PluginTree) -> None:
        import difflib

        close = difflib.get_close_matches(pattern, list(tree.targets), n=1, cutoff=0.6)
        message = f"no plugin {pattern} in {tree.root}"
        if close:
            message += f"; did you mean {', '.join(close)}?"
        elif not tree.targets:
            message += " (no build.py families found there)"
        super().__init__(message)
        self.pattern = pattern
        self.suggestions = close


def find_plugins_dir(*starts: Path) -> Path | None:
    """The first ``plugins/`` directory (or the start itself) holding ``*/build.py``."""
    for start in starts:
        for candidate in (start / "plugins", start):
            if candidate.is_dir() and any(candidate.glob(f"*/{BUILD_FILENAME}")):
                return candidate.resolve()
    return None


def discover(plugins_dir: Path) -> PluginTree:
    """Read every family of *plugins_dir*; broken ``build.py`` files become ``errors``."""
    root = Path(plugins_dir).resolve()
    if not root.is_dir():
        raise SourceError(root, "plugins directory does not exist")
    families: dict[str, Family] = {}
    targets: dict[str, Target] = {}
    errors: list[Problem] = []
    for path in sorted(p for p in root.iterdir() if (p / BUILD_FILENAME).is_file()):
        if path.name in _SKIPPED_DIRS or path.name.startswith("."):
            continue
        layout = "legacy" if "-" in path.name else "current"
        family = Family(path.name, path, layout)
        try:
            _load_targets(family)
        except SourceError as exc:
            errors.append(Problem(exc.path, exc.message, exc.line))
            continue
        families[family.name] = family
        for target in family.targets.values():
            if target.plugin_id in targets:
                other = targets[target.plugin_id]
                errors.append(
                    Problem(
                        target.build_py,
                        f"plugin id {target.plugin_id!r} is also built by "
                        f"{other.build_py}:{other.build_py_line}",
                        target.build_py_line,
                        fix="give each target a unique plugin id",
                    )
                )
                continue
            targets[target.plugin_id] = target
    return PluginTree(root, families, targets, errors)


def _load_targets(family: Family) -> None:
    build_py = family.path / BUILD_FILENAME
    source = build_py.read_text(encoding="utf-8")
    try:
        code = compile(source, str(build_py), "exec")
    except SyntaxError as exc:
        raise SourceError(build_py, f"does not compile: {exc.msg}", exc.lineno) from exc
    declared: list[tuple[str, str, bool, int]] = []

    def target(
        target_id: str, plugin_id: str, std_dirs: bool = True
    ) -> Callable[[Callable[[str], None]], Callable[[str], None]]:
        line = sys._getframe(1).f_lineno

        def register(fun: Callable[[str], None]) -> Callable[[str], None]:
            declared.append((target_id, plugin_id, std_dirs, line))
            names.append(fun.__name__)
            return fun

        return register

    names: list[str] = []
    try:
        exec(code, {"target": target, "__file__": str(build_py), "__name__": "build"})
    except Exception as exc:
        line = _user_line(exc, str(build_py))
        raise SourceError(build_py, f"raised {type(exc).__name__}: {exc}", line) from exc
    sources = _function_sources(source)
    for (target_id, plugin_id, std_dirs, line), name in zip(declared, names, strict=True):
        if target_id in family.targets:
            first = family.targets[target_id]
            raise SourceError(
                build_py,
                f"target {target_id!r} redefined (first at line {first.build_py_line})",
                line,
            )
        tgt = Target(family, target_id, plugin_id, std_dirs, line, name)
        tgt.source_dir = _find_source_dir(family.path, sources.get(name, []))
        family.targets[target_id] = tgt


def _user_line(exc: BaseException, filename: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _function_sources(source: str) -> dict[str, list[str]]:
    """String constants used by each top-level function (rsync sources among them)."""
    found: dict[str, list[str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            found[node.name] = [
                sub.value
                for sub in ast.walk(node)
                if isinstance(sub, ast.Constant) and isinstance(sub.value, str)
            ]
    return found


def _find_source_dir(family_dir: Path, strings: list[str]) -> Path | None:
    """The version directory a target copies: a referenced subdir holding plugin-info."""
    candidates = []
    for text in strings:
        name = text.rstrip("/")
        if not name or "/" in name or name.startswith((".", "-")):
            continue
        path = family_dir / name
        if path.is_dir() and (path / PLUGIN_INFO).is_file():
            candidates.append(path)
    return candidates[-1] if candidates else None


# --- builds -------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where built targets are cached (``$PYTEST_PROVD_CACHE`` or a per-user temp dir)."""
    env = os.environ.get("PYTEST_PROVD_CACHE")
    if env:
        return Path(env)
    return Path(tempfile.gettempdir()) / f"pytest-provd-{os.getuid()}" / "builds"


def family_digest(family: Family) -> str:
    """Content hash of a family directory (names, modes, bytes; hidden files ignored)."""
    digest = hashlib.sha256(_BUILDER_VERSION.encode())
    for rel, path in _walk_files(family.path, skip_hidden=True):
        digest.update(rel.encode() + b"\0")
        if path.is_symlink():
            digest.update(b"L" + os.readlink(path).encode())
        else:
            digest.update(b"F%o" % (path.stat().st_mode & 0o111))
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


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
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    key = family_digest(target.family)
    entry = cache / key[:32] / _safe_name(target.target_id)
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

    ``PYTEST_PROVD_RSYNC_SHIM=1`` forces the shim even where rsync exists.
    """
    if shutil.which("rsync") and not os.environ.get("PYTEST_PROVD_RSYNC_SHIM"):
        return []
    shim_dir = default_cache_dir().parent / "bin"
    shim = shim_dir / "rsync"
    pkg_parent = str(Path(__file__).resolve().parent.parent)
    script = (
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {pkg_parent!r})\n"
        "from pytest_provd.tree.rsync_shim import main\nmain()\n"
    )
    if not shim.is_file() or shim.read_text() != script:
        shim_dir.mkdir(parents=True, exist_ok=True)
        tmp = shim_dir / f".rsync.{os.getpid()}"
        tmp.write_text(script)
        tmp.chmod(0o755)
        os.replace(tmp, shim)
    return [str(shim_dir)]


# --- packaging ----------------------------------------------------------------------------


def model_variants(model: str) -> list[str]:
    """The models a capability name covers: ``T31(P)(G)`` → ``T31``, ``T31P``, ``T31G``."""
    base = re.sub(r"\([^)]*\)", "", model)
    return [base] + [base + suffix for suffix in re.findall(r"\(([^)]*)\)", model)]


def read_plugin_info(plugin_dir: Path) -> dict[str, Any]:
    """The parsed ``plugin-info`` of a built plugin (SourceError with line on bad JSON)."""
    path = plugin_dir / PLUGIN_INFO
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(path, "missing") from exc
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    if not isinstance(data, dict):
        raise SourceError(path, "must be a JSON object")
    return data


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
    from pytest_provd import versions

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
