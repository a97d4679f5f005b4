"""Settings of the inner pytest runs that this suite starts through pytester."""

from __future__ import annotations

import sys

# Written as tox.ini in pytester.path and passed with -c, so that an inner run never reads this
# repository's pyproject.toml (pytest looks for one above any path argument, such as
# --provd-plugins-dir tests/data/...). Tests that need more settings append lines with
# ``pytester.makeini(INNER_INI + "...")``.
INNER_INI = """\
[pytest]
# Inner runs check their own order where it matters; randomly would shuffle it.
addopts = -p no:randomly
filterwarnings =
    error
    ignore::DeprecationWarning:twisted.*
    ignore::DeprecationWarning:tftpy.*
    # In-process runs only: this interpreter imported pytest_provd (and emulators) before the
    # inner run's assertion rewriter existed, and with an editable install pytest cannot
    # rewrite them at all (its rewriter does not see the editable finder's packages).
    ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning
"""

# Modules that an in-process inner run must not import for the first time: pytester drops
# them from sys.modules afterwards, and the next import makes a second copy (a second twisted,
# a second Deferred class) next to objects that still use the first. Collection and the static
# checks import none of them.
SERVER_STACK = (
    "twisted",
    "aiohttp",
    "tftpy",
    "wazo_provd",
    "provd",
    "emulators",
    "pytest_provd.compat",
    "pytest_provd.provd",
    "pytest_provd.backends",
    "pytest_provd.fixtures",
)


def in_server_stack(name: str) -> bool:
    """True for a module of :data:`SERVER_STACK` (the package or one of its modules)."""
    return any(name == root or name.startswith(root + ".") for root in SERVER_STACK)


class ImportWatch:
    """Plugin of an in-process inner run: which server-stack modules it imported first."""

    def __init__(self) -> None:
        self._before = set(sys.modules)
        self.first_imports: list[str] = []

    def pytest_unconfigure(self) -> None:
        self.first_imports = sorted(
            name for name in set(sys.modules) - self._before if in_server_stack(name)
        )
