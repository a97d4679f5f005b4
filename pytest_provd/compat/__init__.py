"""Stand-ins for the parts of provd that real plugin code imports.

Plugins from wazo-provd-plugins import ``wazo_provd`` (current) or ``provd`` (before 24.02).
:func:`activate` makes both names resolve to our own implementation under ``_shim/`` — unless a
real ``wazo_provd`` is installed, in which case plugins keep using the real library.

Nothing is cached here: the mode is read from ``sys.modules`` each time, and the ``sys.path`` /
``sys.meta_path`` entries are put back whenever they are missing. pytester's in-process runs
restore ``sys.path``, ``sys.meta_path`` and ``sys.modules`` independently of each other, so any
combination of the three can be what :func:`activate` finds.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
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


def _is_ours(module_file: str | None) -> bool:
    return module_file is not None and Path(module_file).resolve().is_relative_to(SHIM_DIR)


def _real_spec() -> importlib.machinery.ModuleSpec | None:
    """Where an installed ``wazo_provd`` (not ours) would be imported from, if there is one."""
    path = [p for p in sys.path if Path(p or ".").resolve() != SHIM_DIR]
    spec = importlib.machinery.PathFinder.find_spec("wazo_provd", path)
    return spec if spec is not None and not _is_ours(spec.origin) else None


def _install_shim() -> None:
    shim = str(SHIM_DIR)
    if shim not in sys.path:
        # Appended, not prepended: anything installed later still takes precedence.
        sys.path.append(shim)
    if _FINDER not in sys.meta_path and not _legacy_provd_installed():
        # Ahead of PathFinder, which would re-execute wazo_provd files as provd.*.
        sys.meta_path.insert(0, _FINDER)


def _legacy_provd_installed() -> bool:
    """True when a real pre-24.02 ``provd`` package is importable: it keeps its name."""
    module = sys.modules.get("provd")
    if module is not None:
        return not _is_ours(getattr(module, "__file__", None))
    spec = importlib.machinery.PathFinder.find_spec("provd")
    # A bare directory named provd is a namespace package (no origin), not provd.
    return spec is not None and spec.origin is not None


def activate() -> str:
    """Make ``wazo_provd`` and ``provd`` importable; idempotent.

    Returns ``"compat"`` when our stand-in is used, ``"real"`` when an installed wazo_provd
    was found (it is imported, and left alone otherwise).
    """
    with _LOCK:
        current = mode()
        if current == "real":
            return "real"
        if current is None and _real_spec() is not None:
            importlib.import_module("wazo_provd")
            return "real"
        # Our stand-in, imported already or not: (re)install its path and finder, which a
        # restore of sys.path / sys.meta_path may have taken away.
        _install_shim()
        importlib.import_module("wazo_provd")
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


def real_installed() -> bool:
    """True when a real ``wazo_provd`` (not our stand-in) is imported or importable."""
    return mode() == "real" or _real_spec() is not None
