"""Stand-ins for the parts of provd that real plugin code imports.

Plugins from wazo-provd-plugins import ``wazo_provd`` (current) or ``provd`` (before 24.02).
:func:`activate` makes both names resolve to our own implementation under ``_shim/`` — unless a
real ``wazo_provd`` is installed, in which case plugins keep using the real library.
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
_state: dict[str, str] = {}


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


def activate() -> str:
    """Make ``wazo_provd`` and ``provd`` importable; idempotent.

    Returns ``"compat"`` when our stand-in is used, ``"real"`` when an installed wazo_provd
    was found and left alone.
    """
    with _LOCK:
        if _state.get("mode") == "real":
            return "real"
        if _state.get("mode") == "compat" and str(SHIM_DIR) in sys.path:
            return "compat"
        # First call, or sys.path was restored since (pytester does that after an
        # in-process run): put the stand-in back in place.
        spec = importlib.util.find_spec("wazo_provd")
        if spec is not None and not _is_ours(spec.origin):
            _state["mode"] = "real"
            return "real"
        shim = str(SHIM_DIR)
        if shim not in sys.path:
            # Appended, not prepended: anything installed later still takes precedence.
            sys.path.append(shim)
        if importlib.util.find_spec("provd") is None and _FINDER not in sys.meta_path:
            # Ahead of PathFinder, which would re-execute wazo_provd files as provd.*.
            sys.meta_path.insert(0, _FINDER)
        importlib.import_module("wazo_provd")
        _state["mode"] = "compat"
        return "compat"


def mode() -> str | None:
    """``"compat"``, ``"real"`` or ``None`` before :func:`activate`."""
    return _state.get("mode")


def using_compat() -> bool:
    """True when plugin imports of ``wazo_provd`` resolve to this package."""
    module = sys.modules.get("wazo_provd")
    return module is not None and _is_ours(getattr(module, "__file__", None))


def real_installed() -> bool:
    """True when a real ``wazo_provd`` (not our stand-in) is importable from ``sys.path``."""
    if mode() == "real":
        return True
    path = [p for p in sys.path if Path(p or ".").resolve() != SHIM_DIR]
    spec = importlib.machinery.PathFinder.find_spec("wazo_provd", path)
    return spec is not None and not _is_ours(spec.origin)
