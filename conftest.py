"""Repository-wide test set-up: pytester for plugin self-tests and hypothesis profiles.

Also makes ``pytest tests`` test an installed wheel when there is one (as ``.ci/run`` does):
pytest loads ``pytest_provd`` through its entry point before this file puts the rootdir on
``sys.path``, so the checkout's ``emulators`` would shadow the installed one; it is imported
here from where ``pytest_provd`` came from.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

import pytest_provd

_ROOT = Path(__file__).resolve().parent
_PACKAGE_HOME = Path(pytest_provd.__file__).resolve().parents[1]
if _PACKAGE_HOME != _ROOT and "emulators" not in sys.modules:
    sys.path.insert(0, str(_PACKAGE_HOME))
    try:
        importlib.import_module("emulators")
    finally:
        sys.path.remove(str(_PACKAGE_HOME))

pytest_plugins = ["pytester"]

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
# HYPOTHESIS_PROFILE wins; CI=true (set by CI services) means the thorough profile.
_ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _ON_CI else "dev"))


def pytest_report_header() -> list[str]:
    """Which pytest_provd and emulators this run tests (the checkout's or an installed wheel's)."""
    emulators = sys.modules.get("emulators") or importlib.import_module("emulators")
    return [
        f"pytest-provd {pytest_provd.__version__} from {Path(pytest_provd.__file__).parent}, "
        f"emulators from {Path(str(emulators.__file__)).parent}"
    ]
