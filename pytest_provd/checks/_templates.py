"""Template helpers: provd's jinja2 environment, per-model template conventions, and mapping a
built file back to the source file it was copied from."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import jinja2

TEMPLATE_SUFFIXES = (".tpl", ".btpl")
DEFAULT_TPL_DIR = "templates"
CUSTOM_TPL_DIR = "var/templates"


def provd_environment(plugin_dir: Path) -> jinja2.Environment:
    """The environment provd's ``TemplatePluginHelper`` builds for *plugin_dir*.

    Custom templates (``var/templates``) first, then the plugin's ``templates``; jinja2
    defaults otherwise (no extensions, default filters, lenient ``Undefined``, no autoescape).
    """
    loader = jinja2.FileSystemLoader(
        [str(plugin_dir / CUSTOM_TPL_DIR), str(plugin_dir / DEFAULT_TPL_DIR)], encoding="utf-8"
    )
    return jinja2.Environment(loader=loader)


@dataclass
class ModelTemplateConvention:
    """``templates/<pattern>`` exists per model, e.g. ``{model}.tpl``."""

    pattern: str
    examples: list[str]

    def path_for(self, model: str) -> str:
        """Relative path (from the plugin dir) of *model*'s template."""
        return f"{DEFAULT_TPL_DIR}/" + self.pattern.replace("{model}", model)


def model_template_conventions(
    plugin_dir: Path, models: list[str]
) -> list[ModelTemplateConvention]:
    """Per-model file patterns under ``templates/`` that most of *models* follow."""
    top = plugin_dir / DEFAULT_TPL_DIR
    if not models or not top.is_dir():
        return []
    names = [
        p.relative_to(top).as_posix()
        for p in sorted(top.rglob("*"))
        if p.is_file() and p.suffix in TEMPLATE_SUFFIXES
    ]
    patterns: dict[str, list[str]] = {}
    by_length = sorted((m for m in models if m), key=len, reverse=True)
    for name in names:
        model = next((m for m in by_length if m in name), None)
        if model is not None:
            found = patterns.setdefault(name.replace(model, "{model}", 1), [])
            if model not in found:
                found.append(model)
    need = max(min(2, len(models)), (len(models) + 1) // 2)
    return [
        ModelTemplateConvention(pattern, found)
        for pattern, found in patterns.items()
        if len(found) >= need
    ]


_FAMILY_INDEX: dict[tuple[str, float], dict[str, list[Path]]] = {}


def source_of(
    family_dir: Path, plugin_dir: Path, rel: str, prefer: Path | None = None
) -> Path | None:
    """The file of *family_dir* a built ``plugin_dir/rel`` was copied from (same bytes).

    Among identical copies, one under *prefer* (the target's version dir) wins, then one
    outside any version dir (``common/``), then one whose path ends with *rel*.
    """
    built = plugin_dir / rel
    if not built.is_file():
        return None
    wanted = hashlib.sha256(built.read_bytes()).hexdigest()
    index = _index(family_dir)
    same = [
        path
        for path in index.get(built.name, [])
        if hashlib.sha256(path.read_bytes()).hexdigest() == wanted
    ]

    def rank(path: Path) -> tuple[bool, bool, bool, str]:
        in_prefer = prefer is not None and path.is_relative_to(prefer)
        top = path.relative_to(family_dir).parts[0]
        in_version_dir = (family_dir / top / "plugin-info").is_file()
        return (not in_prefer, in_version_dir, not path.as_posix().endswith("/" + rel), str(path))

    return min(same, key=rank) if same else None


def _index(family_dir: Path) -> dict[str, list[Path]]:
    key = (str(family_dir), family_dir.stat().st_mtime)
    if key not in _FAMILY_INDEX:
        index: dict[str, list[Path]] = {}
        for dirpath, dirnames, filenames in os.walk(family_dir):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                index.setdefault(name, []).append(Path(dirpath) / name)
        _FAMILY_INDEX[key] = index
    return _FAMILY_INDEX[key]
