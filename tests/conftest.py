"""Test infrastructure: pytester inner runs isolated from this repository and this process.

Every inner run reads :data:`tests.inner.INNER_INI` (passed with ``-c``), never the
repository's pyproject.toml. Runs that load plugins or start servers use
``pytester.runpytest_subprocess``; ``pytester.runpytest`` (in-process) is for collection,
static checks and usage errors, and fails the test if it imported the server stack for the
first time (see :mod:`tests.inner`).
"""

from __future__ import annotations

import importlib
import pkgutil
import shlex
from collections.abc import Callable
from typing import Any

import pytest

import emulators
import pytest_provd
from pytest_provd import compat
from tests.inner import INNER_INI, ImportWatch


@pytest.fixture(scope="session")
def server_stack() -> None:
    """Every module of the harness and the emulators imported, and compat active.

    pytester drops from ``sys.modules`` whatever was first imported after its snapshot, when
    the test ends; a test that also starts a provd here (test_backends attaches one) would
    leave a second twisted behind it. Imported once, before any snapshot, nothing is dropped.
    """
    packages = [pytest_provd, emulators]
    if compat.activate("embedded") == "compat":
        packages.append(importlib.import_module("wazo_provd"))
    for package in packages:
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)


@pytest.fixture
def pytester(
    server_stack: None, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> pytest.Pytester:
    """pytester with an isolated inner config and a guard on in-process runs."""
    ini = pytester.makeini(INNER_INI)
    # After pytester's own set-up, which clears PYTEST_ADDOPTS; subprocess runs inherit it.
    monkeypatch.setenv("PYTEST_ADDOPTS", f"-c {shlex.quote(str(ini))}")
    inline_run: Callable[..., Any] = pytester.inline_run

    def guarded_inline_run(*args: Any, plugins: Any = (), **kwargs: Any) -> Any:
        watch = ImportWatch()
        recorder = inline_run(*args, plugins=[*plugins, watch], **kwargs)
        if watch.first_imports:
            pytest.fail(
                "an in-process inner run imported the server stack "
                f"({', '.join(watch.first_imports[:5])}...): use pytester.runpytest_subprocess",
                pytrace=False,
            )
        return recorder

    monkeypatch.setattr(pytester, "inline_run", guarded_inline_run)
    return pytester
