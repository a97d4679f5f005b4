"""Errors raised by plugin code or plugin installs, located in the plugin's files when possible."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from pytest_provd.problems import SourceError

# (filename, line) pairs of a twisted Failure whose traceback twisted dropped: older twisted
# (22.4 among them) clears it (cleanFailure) when a Deferred's chain ends on a failure, keeping
# only the frames.
FAILURE_FRAMES_ATTR = "_pytest_provd_failure_frames"


def _plugin_location(
    tb: TracebackType | None,
    roots: tuple[Path, ...],
    frames: Sequence[tuple[str, int]] = (),
) -> tuple[str | None, int | None]:
    """The innermost traceback frame inside one of *roots* (the plugin's own code)."""
    where: tuple[str | None, int | None] = (None, None)
    resolved = tuple(r.resolve() for r in roots)
    # The frames twisted kept of a dropped traceback are deeper than the re-raise's.
    located = [(f.filename, f.lineno) for f in traceback.extract_tb(tb)] + list(frames)
    for filename, lineno in located:
        try:
            path = Path(filename).resolve()
        except (OSError, ValueError):
            continue
        if any(path.is_relative_to(r) for r in resolved):
            where = (filename, lineno)
    return where


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"SyntaxError: {exc.msg}"
    return f"{type(exc).__name__}: {exc}"


def _missing_template(exc: BaseException) -> str | None:
    # By name: jinja2 is the plugin's business, and its errors may come from its own copy.
    if any(c.__name__ == "TemplateNotFound" for c in type(exc).__mro__):
        name = getattr(exc, "name", None)
        return str(name) if name else None
    return None


class PluginError(Exception):
    """Base of errors raised by plugin code, located in the plugin's files when possible."""

    def __init__(
        self,
        plugin_id: str,
        message: str,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        self.plugin_id = plugin_id
        self.path = path
        self.line = line
        self.message = message
        self.missing_template: str | None = None
        """The template jinja2 did not find, when that is what failed."""
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        super().__init__(f"{where}{plugin_id}: {message}")

    @classmethod
    def from_exception(
        cls, plugin_id: str, plugin_dir: Path, exc: BaseException, action: str
    ) -> PluginError:
        """Wrap *exc* raised by plugin code while doing *action*."""
        path: str | None
        line: int | None
        if isinstance(exc, SyntaxError) and exc.filename:
            path, line = exc.filename, exc.lineno
        else:
            frames = getattr(exc, FAILURE_FRAMES_ATTR, [])
            path, line = _plugin_location(exc.__traceback__, (plugin_dir,), frames)
        error = cls(plugin_id, f"{action}: {_describe(exc)}", path, line)
        error.missing_template = _missing_template(exc)
        return error


class PluginLoadError(PluginError):
    """The plugin could not be loaded (bad entry.py/common.py, plugin-info, no plugin class)."""


class PluginConfigError(PluginError):
    """configure/configure_common/deconfigure/synchronize failed (RawConfigError included)."""

    def __init__(
        self,
        plugin_id_or_message: str,
        message: str | None = None,
        path: str | None = None,
        line: int | None = None,
    ) -> None:
        if message is None:
            super().__init__("", plugin_id_or_message, path, line)
        else:
            super().__init__(plugin_id_or_message, message, path, line)


class PluginInstallError(SourceError):
    """A plugin could not be installed from a plugin server."""


@contextlib.contextmanager
def calling(
    plugin_id: str, plugin_dir: Path, action: str, error: type[PluginError]
) -> Iterator[None]:
    """Turn anything plugin code raises while doing *action* into *error* (PluginError kept)."""
    try:
        yield
    except PluginError:
        raise
    except Exception as e:
        raise error.from_exception(plugin_id, plugin_dir, e, action) from e
