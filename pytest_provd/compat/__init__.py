"""Stand-ins for the parts of provd that real plugin code imports.

Plugins from wazo-provd-plugins import ``wazo_provd`` (current) or ``provd`` (before 24.02).
:func:`activate` makes both names resolve to our own implementation under ``_shim/``, whether
or not a real ``wazo_provd`` is installed: the backend decides, not the environment.  Only
``activate("real")`` (the ``real`` backend) imports the installed library instead.  One
process uses one of the two: a plugin's classes cannot come from both.

Nothing is cached here: the mode is read from ``sys.modules`` each time, and the ``sys.path`` /
``sys.meta_path`` entries are put back whenever they are missing. pytester's in-process runs
restore ``sys.path``, ``sys.meta_path`` and ``sys.modules`` independently of each other, so any
combination of the three can be what :func:`activate` finds.
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import warnings
from pathlib import Path
from types import ModuleType

SHIM_DIR = Path(__file__).resolve().parent / "_shim"
_LOCK = threading.Lock()
_NAMES = ("wazo_provd", "provd")


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, module: ModuleType) -> None:
        self._module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self._module

    def exec_module(self, module: ModuleType) -> None:
        # Already executed under its real name.
        return None


class _LegacyNameFinder(importlib.abc.MetaPathFinder):
    """Resolves ``provd`` and ``provd.x.y`` to the very module objects of ``wazo_provd``.

    A plain ``sys.modules['provd'] = wazo_provd`` would let ``import provd.plugins`` execute
    ``plugins.py`` a second time under a new name, giving plugins a second ``Plugin`` class.
    """

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "provd" and not fullname.startswith("provd."):
            return None
        real_name = "wazo_provd" + fullname[len("provd") :]
        try:
            module = importlib.import_module(real_name)
        except ImportError:
            return None
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(module), is_package=hasattr(module, "__path__")
        )


_FINDER = _LegacyNameFinder()


@functools.lru_cache(maxsize=64)
def _is_ours(module_file: str | None) -> bool:
    # Cached: mode() is asked at every configure, and resolving the path costs syscalls.
    return module_file is not None and Path(module_file).resolve().is_relative_to(SHIM_DIR)


def _real_spec() -> importlib.machinery.ModuleSpec | None:
    """Where an installed ``wazo_provd`` (not ours) would be imported from, if there is one."""
    path = [p for p in sys.path if Path(p or ".").resolve() != SHIM_DIR]
    spec = importlib.machinery.PathFinder.find_spec("wazo_provd", path)
    return spec if spec is not None and not _is_ours(spec.origin) else None


def _install_shim(ahead: bool) -> None:
    shim = str(SHIM_DIR)
    if shim not in sys.path:
        if ahead:
            # An installed wazo_provd must not win: ours comes first on the path.
            sys.path.insert(0, shim)
        else:
            # Appended, not prepended: nothing else is named wazo_provd.
            sys.path.append(shim)
    if _FINDER not in sys.meta_path and not _foreign_provd_imported():
        # Ahead of PathFinder, which would re-execute wazo_provd files as provd.*, or
        # import an installed provd (wazo-provd's alias of its own wazo_provd).
        sys.meta_path.insert(0, _FINDER)


def _foreign_provd_imported() -> bool:
    """True when this process imported a ``provd`` that is not ours (it keeps its name)."""
    module = sys.modules.get("provd")
    return module is not None and not _is_ours(getattr(module, "__file__", None))


def _import_real() -> None:
    """Import the installed ``wazo_provd`` and what its plugin manager imports.

    Its legacy ``provd`` alias warns with a filter of its own put first in the process's
    filters (so ``-W`` and pytest's filters cannot silence it), and twisted's TLS module warns
    where ``service_identity`` is missing: library noise, recorded and dropped here, and the
    filters put back as they were.
    """
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("ignore")  # not raised under -W error either
        importlib.import_module("wazo_provd")
        for name in ("wazo_provd.plugins", "twisted.internet.ssl"):
            try:
                importlib.import_module(name)
            except ImportError:  # not there (no pyOpenSSL): nothing of it to warn about
                pass


class CompatConflict(RuntimeError):
    """This process already imported the other ``wazo_provd`` (ours or the installed one)."""


def activate(backend: str | None = None) -> str:
    """Make ``wazo_provd`` and ``provd`` importable for *backend*; idempotent.

    ``"real"`` imports the installed ``wazo_provd`` and returns ``"real"``
    (:class:`ModuleNotFoundError` when there is none).  Any other backend (``embedded``,
    ``url``) gets our stand-in, even where a real one is installed, and ``"compat"``.
    ``None`` keeps what this process imported already, else our stand-in.  Asking for the
    one the process did not import raises :class:`CompatConflict`.
    """
    with _LOCK:
        current = mode()
        if backend == "real":
            if current == "compat":
                raise CompatConflict(
                    "this process imported pytest-provd's own wazo_provd already; the real "
                    "backend needs a process of its own"
                )
            if current is None:
                if _real_spec() is None:
                    raise ModuleNotFoundError("no installed wazo_provd", name="wazo_provd")
                while str(SHIM_DIR) in sys.path:  # left by an earlier activation
                    sys.path.remove(str(SHIM_DIR))
                _import_real()
            return "real"
        if current == "real":
            if backend is None:
                return "real"
            raise CompatConflict(
                f"this process imported the installed wazo_provd already; the {backend} "
                "backend loads plugins against pytest-provd's own, in a process of its own"
            )
        # Our stand-in, imported already or not: (re)install its path and finder, which a
        # restore of sys.path / sys.meta_path may have taken away.
        _install_shim(ahead=current is None and _real_spec() is not None)
        importlib.import_module("wazo_provd")
        if mode() != "compat":  # a wazo_provd was put ahead of ours on the path meanwhile
            raise CompatConflict(f"import wazo_provd did not give {SHIM_DIR}")
        return "compat"


def deactivate() -> None:
    """Undo :func:`activate` for our stand-in (for tests): path, finder and modules go.

    Objects created from the removed modules keep working but are no longer what a new
    ``import wazo_provd`` gives. A real ``wazo_provd`` is left imported.
    """
    with _LOCK:
        while str(SHIM_DIR) in sys.path:
            sys.path.remove(str(SHIM_DIR))
        while _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] in _NAMES and _is_ours(getattr(module, "__file__", None)):
                del sys.modules[name]


def mode() -> str | None:
    """What ``import wazo_provd`` gives now: ``"compat"`` (our stand-in), ``"real"``, or
    ``None`` while nothing has imported it (before :func:`activate`)."""
    module = sys.modules.get("wazo_provd")
    if module is None:
        return None
    return "compat" if _is_ours(getattr(module, "__file__", None)) else "real"


def using_compat() -> bool:
    """True when plugin imports of ``wazo_provd`` resolve to this package."""
    return mode() == "compat"


REAL_REQUIRES = (
    "wazo_provd",
    "twisted",
    "xivo",
    "xivo_fetchfw",
    "wazo_auth_client",
    "wazo_amid_client",
    "jinja2",
    "pydantic",
)
"""What the ``real`` backend imports: ``wazo_provd`` and the packages it needs to run."""

REAL_INSTALL_HINT = (
    "install wazo-provd and its dependencies in this environment, as the plugins "
    "repository's tox env does: pip install -r test-requirements.txt (wazo-provd, "
    "xivo-fetchfw, xivo-lib-python, wazo-auth-client, wazo-amid-client and "
    "wazo-lib-rest-client from their master archives, with the twisted, jinja2, pydantic "
    "and zope.interface it pins)"
)
"""What to do when :func:`real_missing` names something."""


def real_missing() -> list[str]:
    """The modules of :data:`REAL_REQUIRES` that cannot be imported here (nothing imported)."""
    missing = [] if real_installed() else ["wazo_provd"]
    for name in REAL_REQUIRES[1:]:
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            missing.append(name)
    return missing


def real_installed() -> bool:
    """True when a real ``wazo_provd`` (not our stand-in) is imported or importable."""
    return mode() == "real" or _real_spec() is not None
