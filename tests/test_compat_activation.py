"""compat.activate() when sys.path, sys.meta_path or sys.modules were restored behind its back.

pytester's in-process runs restore each of the three on its own; activation must not trust any
earlier state of its own.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator

import pytest

from pytest_provd import compat

SHIM = str(compat.SHIM_DIR)


def _provd_modules() -> dict[str, object]:
    return {k: v for k, v in sys.modules.items() if k.split(".")[0] in ("wazo_provd", "provd")}


def _finders() -> int:
    return sum(1 for finder in sys.meta_path if finder is compat._FINDER)


@pytest.fixture
def clean() -> Iterator[None]:
    """compat deactivated for the test; everything as it was afterwards."""
    path, meta, modules = list(sys.path), list(sys.meta_path), _provd_modules()
    compat.deactivate()
    yield
    sys.path[:] = path
    sys.meta_path[:] = meta
    for name in _provd_modules():
        del sys.modules[name]
    sys.modules.update(modules)


@pytest.mark.skipif(
    compat.real_installed(), reason="a real wazo_provd is installed here: it stays importable"
)
def test_deactivate_undoes_everything(clean: None) -> None:
    assert compat.mode() is None
    assert SHIM not in sys.path and _finders() == 0
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("wazo_provd")


def test_activate_is_idempotent(clean: None) -> None:
    assert [compat.activate() for _ in range(3)] == ["compat"] * 3
    assert compat.mode() == "compat" and compat.using_compat()
    assert sys.path.count(SHIM) == 1 and _finders() == 1


def test_paths_restored_while_modules_stay(clean: None) -> None:
    path, meta = list(sys.path), list(sys.meta_path)
    compat.activate()
    wazo_provd = sys.modules["wazo_provd"]
    sys.path[:], sys.meta_path[:] = path, meta  # what pytester restores after an inner run
    assert compat.mode() == "compat"  # read from sys.modules, not remembered
    assert compat.activate() == "compat"
    assert sys.path.count(SHIM) == 1 and _finders() == 1
    assert sys.modules["wazo_provd"] is wazo_provd
    # Not imported yet under either name: the finder hands out the wazo_provd module itself.
    legacy = importlib.import_module("provd.servers.tftp.packet")
    assert legacy is importlib.import_module("wazo_provd.servers.tftp.packet")


def test_modules_restored_while_paths_stay(clean: None) -> None:
    compat.activate()
    first = importlib.import_module("wazo_provd.plugins")
    for name in _provd_modules():
        del sys.modules[name]
    assert compat.mode() is None
    assert compat.activate() == "compat"
    second = importlib.import_module("provd.plugins")
    assert second is importlib.import_module("wazo_provd.plugins") and second is not first
    assert sys.path.count(SHIM) == 1 and _finders() == 1
