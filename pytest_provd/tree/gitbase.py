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
from pytest_provd.problems import ProvdHarnessError

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


def changed_targets(
    repo_root: Path,
    ref: str,
    plugins_dir: Path,
    tree: tree_mod.PluginTree,
    out_root: Path | None = None,
) -> set[str]:
    """Plugin ids of *tree* whose built output differs from *ref* (new targets included).

    Families whose content is identical at the base are skipped without building.
    """
    root = Path(out_root) if out_root is not None else default_out_root()
    rel = Path(plugins_dir).resolve().relative_to(Path(repo_root).resolve())
    base = export_plugins(repo_root, ref, rel, root)
    changed: set[str] = set()
    for family in tree.families.values():
        base_family = base.tree.families.get(family.name) if base.tree is not None else None
        if base_family is not None and tree_mod.family_digest(
            base_family
        ) == tree_mod.family_digest(family):
            continue
        for target in family.targets.values():
            base_target = base.tree.targets.get(target.plugin_id) if base.tree else None
            if base_target is None:
                changed.add(target.plugin_id)
                continue
            try:
                before = tree_mod.build_cached(base_target)
            except tree_mod.BuildError:
                changed.add(target.plugin_id)
                continue
            try:
                after = tree_mod.build_cached(target)
            except tree_mod.BuildError:
                changed.add(target.plugin_id)
                continue
            if tree_mod.built_digest(before) != tree_mod.built_digest(after):
                changed.add(target.plugin_id)
    return changed
