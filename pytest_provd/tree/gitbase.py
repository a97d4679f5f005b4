"""Builds of plugin targets as they were at a git ref, without touching the user's checkout.

The ref's ``plugins/`` directory is exported with ``git archive`` into a private directory
(never a checkout, stash or worktree of the user's repository), discovered with
:func:`pytest_provd.tree.model.discover` and built like the working tree.  Exports are cached per
resolved commit; builds are cached by :mod:`pytest_provd.tree.build` per family content, so a family
unchanged since the base costs nothing to "rebuild".
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pytest_provd import tree as tree_mod
from pytest_provd.problems import Problem, ProvdHarnessError, SourceError
from pytest_provd.tree.selection import Removal

_GIT_TIMEOUT_S = 120.0


class GitBaseError(ProvdHarnessError):
    """The base ref cannot be used: not a git checkout, unknown ref, git failed."""


@dataclass
class BaseTree:
    """The plugins directory of one commit, exported and discovered."""

    sha: str
    plugins_dir: Path
    tree: tree_mod.PluginTree | None


_EXPORTS: dict[tuple[str, str, str], BaseTree] = {}
_SCRATCH: list[Path] = []


def _git(repo_root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-C", str(repo_root), *args],
            capture_output=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitBaseError("git is not installed; it is needed for --provd-base-ref") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitBaseError(f"git {' '.join(args)} took over {_GIT_TIMEOUT_S:.0f} s") from exc


def repo_root_of(path: Path) -> Path:
    """The top of the git checkout holding *path* (GitBaseError when it is not in one)."""
    proc = _git(Path(path), "rev-parse", "--show-toplevel")
    if proc.returncode != 0:
        raise GitBaseError(
            f"{path} is not inside a git checkout; --provd-base-ref needs the plugins "
            "repository's git history"
        )
    return Path(proc.stdout.decode().strip())


def resolve_ref(repo_root: Path, ref: str) -> str:
    """The commit sha *ref* names in *repo_root*; GitBaseError with advice when unknown."""
    proc = _git(
        repo_root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
    )
    if proc.returncode != 0:
        hint = " (run git fetch first?)" if "/" in ref else ""
        raise GitBaseError(
            f"git ref {ref!r} is not known in {repo_root}{hint}; pass an existing branch, tag "
            "or commit to --provd-base-ref"
        )
    return proc.stdout.decode().strip()


def export_plugins(repo_root: Path, ref: str, plugins_dir_rel: Path, out_root: Path) -> BaseTree:
    """``git archive`` the plugins dir of *ref* under *out_root* and discover it (cached)."""
    sha = resolve_ref(repo_root, ref)
    rel = Path(plugins_dir_rel).as_posix().strip("/") or "."
    key = (str(Path(repo_root).resolve()), sha, rel)
    hit = _EXPORTS.get(key)
    if hit is not None and hit.plugins_dir.is_dir():
        return hit
    dest = Path(out_root) / f"base-{sha[:12]}"
    plugins_dir = dest / rel
    if not plugins_dir.is_dir():
        staging = Path(tempfile.mkdtemp(prefix=".export-", dir=_mkdir(Path(out_root))))
        try:
            _archive(repo_root, sha, rel, staging)
            if dest.exists():
                shutil.rmtree(dest)
            staging.rename(dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    found: tree_mod.PluginTree | None = None
    if plugins_dir.is_dir():
        found = tree_mod.discover(plugins_dir)
    base = BaseTree(sha, plugins_dir, found)
    _EXPORTS[key] = base
    return base


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _archive(repo_root: Path, sha: str, rel: str, dest: Path) -> None:
    tree_check = _git(repo_root, "cat-file", "-e", f"{sha}:{rel}" if rel != "." else sha)
    if tree_check.returncode != 0:
        return  # the plugins dir did not exist at that commit: everything is new
    with tempfile.TemporaryFile() as tar_file:
        try:
            proc = subprocess.run(
                ["git", "-C", str(repo_root), "archive", "--format=tar", sha, "--", rel],
                stdout=tar_file,
                stderr=subprocess.PIPE,
                timeout=_GIT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GitBaseError(f"git archive {sha[:12]} took over {_GIT_TIMEOUT_S:.0f} s") from exc
        if proc.returncode != 0:
            raise GitBaseError(f"git archive {sha[:12]} failed: {proc.stderr.decode().strip()}")
        tar_file.seek(0)
        with tarfile.open(fileobj=tar_file, mode="r:") as tar:
            tar.extractall(dest, filter="data")


def plugin_ids_at(repo_root: Path, ref: str, build_py: Path) -> list[str]:
    """The plugin ids *build_py* (a path in the checkout) declared at *ref*; [] when it did
    not exist there or could not be executed either."""
    try:
        rel = Path(build_py).resolve().relative_to(Path(repo_root).resolve()).as_posix()
    except ValueError:
        return []
    proc = _git(repo_root, "show", f"{ref}:{rel}")
    if proc.returncode != 0:
        return []
    try:
        declared = tree_mod.declared_targets(proc.stdout.decode("utf-8"), f"{ref}:{rel}")
    except (SourceError, UnicodeDecodeError):
        return []
    return [plugin_id for _, plugin_id, *_ in declared]


def default_out_root() -> Path:
    """A private scratch dir for base exports and builds, removed at interpreter exit."""
    if not _SCRATCH:
        path = Path(tempfile.mkdtemp(prefix="pytest-provd-base-"))
        _SCRATCH.append(path)
        atexit.register(shutil.rmtree, path, True)
    return _SCRATCH[0]


def build_at_ref(
    repo_root: Path, ref: str, plugins_dir_rel: Path, plugin_id: str, out_root: Path
) -> Path | None:
    """The built plugin dir of *plugin_id* as of *ref*; None when it did not exist there.

    Raises GitBaseError for an unusable ref and :class:`tree.BuildError` when the base does
    not build.
    """
    base = export_plugins(repo_root, ref, plugins_dir_rel, out_root)
    if base.tree is None or plugin_id not in base.tree.targets:
        return None
    target = base.tree.targets[plugin_id]
    return tree_mod.build(target, Path(out_root) / f"base-{base.sha[:12]}-built")


def changed_files(base_dir: Path, head_dir: Path) -> list[str]:
    """Built files (outside ``var/``) that differ, marked ``(added)`` or ``(removed)`` if so."""
    before, after = tree_mod.built_files(base_dir), tree_mod.built_files(head_dir)
    out = []
    for rel in sorted(set(before) | set(after)):
        if rel not in before:
            out.append(f"{rel} (added)")
        elif rel not in after:
            out.append(f"{rel} (removed)")
        elif before[rel] != after[rel]:
            out.append(rel)
    return out


@dataclass
class Comparison:
    """The tree against its base ref: what changed, what went away."""

    base: BaseTree
    changed: set[str]
    """Plugin ids whose inputs differ from the base (new targets included)."""
    families: set[str]
    """Families whose files differ from the base, new ones and broken ones included."""
    removed: list[Removal]


def compare(
    repo_root: Path,
    ref: str,
    plugins_dir: Path,
    tree: tree_mod.PluginTree,
    out_root: Path | None = None,
) -> Comparison:
    """Compare *tree* with its state at *ref*, from the families' files before any build.

    A family whose ``build.py`` cannot be executed now is changed by definition.  In a family
    whose files differ, a change outside its version directories (``build.py``, ``common/``)
    changes every target; a change inside one changes the targets naming that directory.
    Only a change no target can be told to depend on is settled by building both sides and
    comparing the output.
    """
    root = Path(out_root) if out_root is not None else default_out_root()
    rel = Path(plugins_dir).resolve().relative_to(Path(repo_root).resolve())
    base = export_plugins(repo_root, ref, rel, root)
    changed: set[str] = set()
    families = set(tree.broken)
    for family in tree.families.values():
        base_family = base.tree.families.get(family.name) if base.tree is not None else None
        if base_family is None:
            families.add(family.name)
            changed.update(t.plugin_id for t in family.targets.values())
            continue
        before = tree_mod.family_files(base_family.path)
        after = tree_mod.family_files(family.path)
        if before == after:
            continue
        families.add(family.name)
        differing = {r for r in set(before) | set(after) if before.get(r) != after.get(r)}
        changed |= _changed_in_family(family, base_family, differing)
    removed = removals(base.tree, tree, ref) if base.tree is not None else []
    return Comparison(base, changed, families, removed)


def changed_targets(
    repo_root: Path,
    ref: str,
    plugins_dir: Path,
    tree: tree_mod.PluginTree,
    out_root: Path | None = None,
) -> set[str]:
    """Plugin ids of *tree* whose inputs differ from *ref* (see :func:`compare`)."""
    return compare(repo_root, ref, plugins_dir, tree, out_root).changed


def _changed_in_family(
    family: tree_mod.Family, base_family: tree_mod.Family, differing: set[str]
) -> set[str]:
    version_dirs = {d.name for d in (*family.version_dirs(), *base_family.version_dirs())}
    dirs: set[str] = set()
    for rel in differing:
        top, sep, _ = rel.partition("/")
        if not (sep and top in version_dirs):
            # build.py, common/ or another shared input: every target may use it.
            return {t.plugin_id for t in family.targets.values()}
        dirs.add(top)
    base_targets = {t.plugin_id: t for t in base_family.targets.values()}
    refs: dict[str, set[str]] = {}
    for target in family.targets.values():
        named = {d.name for d in target.source_dirs}
        if target.plugin_id in base_targets:
            named |= {d.name for d in base_targets[target.plugin_id].source_dirs}
        refs[target.plugin_id] = named
    unattributed = dirs - {d for named in refs.values() for d in named}
    changed: set[str] = set()
    for target in family.targets.values():
        pid = target.plugin_id
        if pid not in base_targets or refs[pid] & dirs:
            changed.add(pid)
        elif (unattributed or not refs[pid]) and _builds_differ(base_targets[pid], target):
            changed.add(pid)
    return changed


def _builds_differ(before: tree_mod.Target, after: tree_mod.Target) -> bool:
    try:
        base_dir = tree_mod.build_cached(before)
        head_dir = tree_mod.build_cached(after)
    except tree_mod.BuildError:
        return True
    return tree_mod.built_digest(base_dir) != tree_mod.built_digest(head_dir)


def removals(base: tree_mod.PluginTree, tree: tree_mod.PluginTree, ref: str) -> list[Removal]:
    """Plugin ids built at the base and by no target now, deliberate or not.

    Accepted as deliberate: the family directory is gone, every version directory the
    target named is gone, or every one still here is built by another target now (a
    renamed plugin id).  A target whose version directory stays behind unbuilt, or whose
    version directory cannot be told from build.py, is an error.  A family whose build.py
    cannot be executed now is left to its ``build.py`` item.
    """
    found: list[Removal] = []
    for pid, old in base.targets.items():
        name = old.family.name
        if pid in tree.targets or name in tree.broken:
            continue
        family_dir = tree.root / name
        was = f"built at {ref} by {name}/build.py:{old.build_py_line} (@target {old.target_id!r})"
        dirs = [family_dir / d.name for d in old.source_dirs]
        kept = [d for d in dirs if d.is_dir()]
        builders = sorted(
            {t.plugin_id for t in tree.targets.values() for d in kept if d in t.source_dirs}
        )
        if not family_dir.is_dir():
            found.append(Removal(pid, name, True, f"{pid} ({was}): family {name} was deleted"))
        elif dirs and not kept:
            gone = ", ".join(_rel(d, tree.root) for d in dirs)
            found.append(Removal(pid, name, True, f"{pid} ({was}): {gone} deleted with it"))
        elif kept and all(any(d in t.source_dirs for t in tree.targets.values()) for d in kept):
            reason = f"{pid} ({was}): renamed; its version dir is built by {', '.join(builders)}"
            found.append(Removal(pid, name, True, reason))
        else:
            if kept:
                shown = ", ".join(_rel(d, tree.root) for d in kept)
                what = f"its version dir {shown} is still here"
                fix = "restore the @target, or delete the version dir too if the plugin is retired"
            else:
                what = "build.py named no version dir for it, so its removal cannot be told apart"
                fix = "restore the @target, or list the plugin id in the --provd-baseline file"
            message = f"plugin {pid} was {was}; no target builds it now, but {what}"
            problem = Problem(_rel(family_dir / "build.py", tree.root), message, fix=fix)
            found.append(Removal(pid, name, False, message, problem))
    return found


def _rel(path: Path, plugins_dir: Path) -> str:
    try:
        return path.relative_to(plugins_dir.parent).as_posix()
    except ValueError:
        return str(path)
