"""jinja2 loader over several directories, refreshed when any file in them changes."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any

from jinja2.exceptions import TemplateNotFound
from jinja2.loaders import BaseLoader, split_template_path


def _snapshot(directories: Sequence[str]) -> dict[str, float]:
    """``{path: mtime}`` of everything under *directories*, as ``os.walk`` and
    ``os.path.getmtime`` give it (symlinked directories listed, not entered), with one
    ``scandir`` stat per entry: it runs at every template load."""
    stamps: dict[str, float] = {}
    for top in directories:
        pending = [top]
        while pending:
            try:
                with os.scandir(pending.pop()) as listing:
                    entries = list(listing)
            except OSError:
                continue
            for entry in entries:
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir and not entry.is_symlink():
                    pending.append(entry.path)
                try:
                    stamps[entry.path] = entry.stat().st_mtime
                except OSError:
                    continue
    return stamps


class ProvdFileSystemLoader(BaseLoader):
    """First match along the search path wins.

    A cached template is stale as soon as any file under the search path is added, removed
    or touched, so a custom template (``var/templates``) takes over from a default one
    without a restart.  The search path is looked at again after each :meth:`refresh` (the
    plugin's template helper calls it at each template the plugin asks for), not at every
    ``{% include %}`` of a render: a template including another in a loop would walk the
    whole search path once per iteration.
    """

    def __init__(self, searchpath: str | Sequence[str], encoding: str = "utf-8") -> None:
        self._searchpath = [searchpath] if isinstance(searchpath, str) else list(searchpath)
        self._encoding = encoding
        self._stamps: dict[str, float] | None = None

    def refresh(self) -> None:
        """Look at the search path again at the next template load or staleness check."""
        self._stamps = None

    def _current(self) -> dict[str, float]:
        stamps = self._stamps
        if stamps is None:
            stamps = self._stamps = _snapshot(self._searchpath)
        return stamps

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        for top in self._searchpath:
            filename = os.path.join(top, *pieces)
            try:
                with open(filename, "rb") as f:
                    contents = f.read().decode(self._encoding)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue
            return contents, filename, functools.partial(self._unchanged, self._current())
        raise TemplateNotFound(template)

    def _unchanged(self, stamps: dict[str, float]) -> bool:
        current = self._current()
        return current is stamps or current == stamps

    def list_templates(self) -> list[str]:
        found: set[str] = set()
        for top in self._searchpath:
            for dirpath, _, filenames in os.walk(top):
                for name in filenames:
                    rel = os.path.relpath(os.path.join(dirpath, name), top)
                    found.add(rel.replace(os.sep, "/"))
        return sorted(found)
