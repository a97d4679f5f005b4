"""``version-bump``: a target whose built output changed since the base ref has a higher
plugin-info version ("After modifying a plugin, you must increment the version number")."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_provd import tree as tree_mod
from pytest_provd import versions
from pytest_provd.checks._base import CheckContext, find_line
from pytest_provd.checks._templates import source_of
from pytest_provd.problems import Problem
from pytest_provd.tree import gitbase

_MAX_LISTED = 8


def check_version_bump(ctx: CheckContext) -> list[Problem]:
    """Compare the built target with its build at ``ctx.base_ref``."""
    if not ctx.base_ref:
        return []
    info_path = ctx.source_file("plugin-info") or ctx.built_dir() / "plugin-info"
    shown = ctx.rel(info_path)
    base_error: tree_mod.BuildError | None = None
    try:
        repo_root = ctx.repo_root or gitbase.repo_root_of(ctx.plugins_dir)
        rel = ctx.plugins_dir.resolve().relative_to(Path(repo_root).resolve())
        base_dir = gitbase.build_at_ref(
            repo_root, ctx.base_ref, rel, ctx.target.plugin_id, gitbase.default_out_root()
        )
    except gitbase.GitBaseError as exc:
        return [Problem(ctx.rel(ctx.plugins_dir), str(exc), fix="fix --provd-base-ref")]
    except ValueError:
        return [
            Problem(
                ctx.rel(ctx.plugins_dir),
                f"is not inside the git checkout {ctx.repo_root}",
                fix="run pytest from the plugins repository",
            )
        ]
    except tree_mod.BuildError as exc:
        base_dir, base_error = None, exc
    if base_dir is None and base_error is None:
        return []  # a new target: nothing to bump
    head_dir = ctx.built_dir()
    if base_dir is not None:
        if tree_mod.built_digest(base_dir) == tree_mod.built_digest(head_dir):
            return []
        changes = _describe(ctx, gitbase.changed_files(base_dir, head_dir), head_dir)
        base_version = _version(base_dir / "plugin-info")
    else:
        changes = f"the base does not build: {base_error}"
        base_version = None
    head_version = _version(head_dir / "plugin-info")
    if head_version is None:
        return [
            Problem(
                shown,
                "has no readable version; cannot check the bump",
                fix="fix plugin-info (see the plugin-info check)",
            )
        ]
    if base_version is not None:
        try:
            bumped = versions.compare(head_version, base_version) > 0
        except versions.VersionError as exc:
            return [
                Problem(
                    shown,
                    f"cannot compare version {head_version} with base {base_version}: {exc}",
                    fix="use dotted numeric versions",
                )
            ]
    else:
        bumped = False
    if bumped:
        return []
    base_text = base_version if base_version is not None else "unknown"
    return [
        Problem(
            shown,
            f"built output of {ctx.target.plugin_id} differs from {ctx.base_ref} (changed: "
            f"{changes}) but plugin-info version {head_version} was not bumped "
            f"(base {base_text})",
            _version_line(info_path),
            fix=f"bump version in {shown}",
        )
    ]


def _describe(ctx: CheckContext, changed: list[str], head_dir: Path) -> str:
    shown = []
    for entry in changed:
        rel, _, note = entry.partition(" (")
        origin = None if note == "removed)" else source_of(ctx.family.path, head_dir, rel)
        if origin is not None and origin.is_relative_to(ctx.family.path):
            suffix = f" ({note}" if note else ""
            shown.append(origin.relative_to(ctx.family.path).as_posix() + suffix)
        else:
            shown.append(entry)
    text = ", ".join(shown[:_MAX_LISTED])
    if len(shown) > _MAX_LISTED:
        text += f", … {len(shown) - _MAX_LISTED} more"
    return text


def _version(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def _version_line(path: Path) -> int | None:
    try:
        return find_line(path.read_text(encoding="utf-8"), '"version"')
    except OSError:
        return None
