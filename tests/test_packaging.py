"""The wheel users install carries everything the code loads, and says what it is.

``PYTEST_PROVD_WHEEL`` / ``PYTEST_PROVD_SDIST`` name the artifacts ``.ci/run`` built (the ones
this run's packages were installed from); without them the wheel is built here from a copy
of the working tree (pip fetches the build backend from the package index).
``PYTEST_PROVD_EXPECT_INSTALLED=1`` (set by ``.ci/run``) makes the run check that it tests the
installed wheel, not the checkout.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from functools import cache
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import emulators
import pytest_provd
from pytest_provd import compat
from pytest_provd.fixtures import phones
from pytest_provd.report import html

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pytest_provd", "emulators")
# What pip says when it cannot reach an index for the build backend.
_NO_INDEX = ("No matching distribution found", "Could not find a version", "NewConnectionError")


def _shippable(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo")


def source_files() -> set[str]:
    """The checkout's package files, as wheel member names (git-tracked ones where git knows)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "--", *PACKAGES],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        listed = [
            p.relative_to(ROOT).as_posix()
            for package in PACKAGES
            for p in (ROOT / package).rglob("*")
            if p.is_file()
        ]
    return {rel for rel in listed if (ROOT / rel).is_file() and _shippable(Path(rel))}


def copy_source(dest: Path) -> Path:
    """The project's files (no caches, no build output) copied to *dest*, as an sdist has them."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, dest / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(ROOT / name, dest / name)
    return dest


@cache
def built_wheel() -> Path:
    """``$PYTEST_PROVD_WHEEL``, or a wheel built once per process from a copy of the tree."""
    given = os.environ.get("PYTEST_PROVD_WHEEL")
    if given:
        return Path(given)
    import tempfile  # only here: the directory lives as long as the process

    work = Path(tempfile.mkdtemp(prefix="pytest-provd-wheel-"))
    src = copy_source(work / "src")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(work), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        if any(marker in proc.stderr for marker in _NO_INDEX):
            pytest.skip(f"no package index for the build backend: {proc.stderr.strip()[-300:]}")
        raise AssertionError(f"pip wheel failed:\n{proc.stderr}")
    (wheel,) = work.glob("pytest_provd-*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheel_names() -> set[str]:
    with zipfile.ZipFile(built_wheel()) as zf:
        return set(zf.namelist())


def test_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "pytest_provd.__version__"
    assert pytest_provd.__version__.count(".") == 2


def test_mindeps_pins_are_the_floors() -> None:
    """``.ci/mindeps.txt`` (tox -e mindeps) pins each dependency at its pyproject floor."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    floors = {}
    for spec in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        req = Requirement(spec)
        (low,) = [s.version for s in req.specifier if s.operator == ">="]
        floors[canonicalize_name(req.name)] = Version(low)
    pins = {}
    for line in (ROOT / ".ci" / "mindeps.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            (pin,) = [s.version for s in req.specifier if s.operator == "=="]
            pins[canonicalize_name(req.name)] = Version(pin)
    assert {name: pins.get(name) for name in floors} == floors
    # wazo-provd-plugins' test-requirements.txt pins, which must resolve with ours.
    for name, pin in (("twisted", "22.4.0"), ("jinja2", "3.1.2"), ("packaging", "23.0")):
        assert floors[name] <= Version(pin) == pins[name]
    assert pins["zope-interface"] == Version("5.5.0")


def test_wheel_carries_every_package_file_and_nothing_else(wheel_names: set[str]) -> None:
    shipped = {n for n in wheel_names if n.split("/")[0] in PACKAGES}
    expected = source_files()
    assert sorted(expected - shipped) == [], "package files missing from the wheel"
    assert sorted(shipped - expected) == [], "wheel files that are not in the checkout"
    assert not [n for n in wheel_names if "__pycache__" in n or n.endswith(".pyc")]


def test_wheel_carries_the_data_the_code_loads(wheel_names: set[str]) -> None:
    home = Path(pytest_provd.__file__).resolve().parents[1]

    def member(path: Path) -> str:
        return path.resolve().relative_to(home).as_posix()

    loaded = {
        member(compat.SHIM_DIR / "wazo_provd" / "__init__.py"),
        member(phones.SAMPLE_DHCP),
        member(Path(pytest_provd.__file__).parent / "py.typed"),
        member(Path(compat.__file__).parent / "QUIRKS.md"),
        *(member(p) for p in html.TEMPLATES.iterdir() if p.is_file()),
        *(
            member(p)
            for p in compat.SHIM_DIR.rglob("*.py")
            if _shippable(p.relative_to(compat.SHIM_DIR))
        ),
    }
    assert len(loaded) > 20
    assert sorted(loaded - wheel_names) == []


def test_wheel_metadata_is_complete_enough_to_publish(wheel_names: set[str]) -> None:
    with zipfile.ZipFile(built_wheel()) as zf:
        (info,) = {n.split("/")[0] for n in wheel_names if ".dist-info/" in n}
        meta = email.parser.Parser().parsestr(zf.read(f"{info}/METADATA").decode())
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
        assert zf.read(f"{info}/licenses/LICENSE").startswith(b"MIT License")
    assert meta["Name"] == "pytest-provd"
    assert meta["Version"] == pytest_provd.__version__
    assert meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.11"
    classifiers = meta.get_all("Classifier")
    for wanted in (
        "Framework :: Pytest",
        "Programming Language :: Python :: 3.11",
        "Operating System :: POSIX",
        "Topic :: Software Development :: Testing",
    ):
        assert wanted in classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert set(urls) == {"Homepage", "Source", "Issues", "Changelog"}
    assert "provd = pytest_provd.plugin" in entry_points
    assert "provd-harness = pytest_provd.cli:main" in entry_points
    assert meta.get_payload().startswith("# pytest-provd")


def test_sdist_carries_the_test_suite() -> None:
    given = os.environ.get("PYTEST_PROVD_SDIST")
    if not given:
        pytest.skip("PYTEST_PROVD_SDIST not set (.ci/run builds the sdist and sets it)")
    with tarfile.open(given) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for wanted in ("LICENSE", "conftest.py", "tests/conftest.py", "tests/inner.py"):
        assert wanted in names
    assert any(n.startswith("tests/data/current/plugins/") for n in names)
    assert not [n for n in names if "__pycache__" in n]


def test_this_run_tests_the_installed_package() -> None:
    if os.environ.get("PYTEST_PROVD_EXPECT_INSTALLED") != "1":
        pytest.skip("the checkout is tested (.ci/run sets PYTEST_PROVD_EXPECT_INSTALLED=1)")
    for module in (pytest_provd, emulators):
        path = Path(str(module.__file__)).resolve()
        assert ROOT not in path.parents, f"{module.__name__} imported from the checkout: {path}"
        assert "site-packages" in path.parts, path
