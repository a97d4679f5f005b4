"""The gate runs in a plugins repository's own tox env, with that repository's pins.

A throwaway wazo-provd-plugins-like checkout (our sample families, a test-requirements.txt
with the plugins repository's pins minus the wazo-provd archives, and the README's
``[testenv:provd-gate]``) is run with tox: pip resolves our wheel together with twisted
22.4.0 and friends, and the gate passes on the changed families. Needs tox and the package
index (the pins are installed from it); skipped without them. Takes about two minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.test_packaging import built_wheel

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"

# wazo-provd-plugins' test-requirements.txt, less the archives of wazo-provd and its wazo
# libraries (GPL: never installed by our tests).
PLUGINS_REPO_PINS = """\
jinja2==3.1.2  # from wazo-provd
packaging==23.0
pydantic==1.10.4  # from wazo-provd
pytest
pyyaml==6.0  # from xivo
twisted==22.4.0  # from wazo-provd
zope.interface==5.5.0  # from wazo-provd
"""

# The README's tox env, as the plugins repository would carry it.
TOX_INI = """\
[tox]
env_list = py311, linters
no_package = true

[testenv:provd-gate]
description = pytest-provd gate: the plugins changed since BASE_REF
deps =
    -r test-requirements.txt
    {env:PYTEST_PROVD_SPEC:pytest-provd @ git+https://github.com/wazo-platform/pytest-provd}
pass_env = PYTEST_PROVD_CACHE
commands =
    pytest --provd-plugin all --provd-changed --provd-base-ref {env:BASE_REF:origin/master} \\
        --junitxml=provd-gate.xml {posargs}
"""

NO_INDEX = ("No matching distribution found", "Could not find a version", "NewConnectionError")


def tox_command() -> list[str] | None:
    given = os.environ.get("PYTEST_PROVD_TOX")
    if given:
        return [given]
    found = shutil.which("tox")
    return [found] if found else None


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.skipif(tox_command() is None, reason="tox is not installed (PYTEST_PROVD_TOX)")
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_provd_gate_tox_env_of_a_plugins_repository(tmp_path: Path) -> None:
    tox = tox_command()
    assert tox is not None
    wheel = built_wheel()
    repo = tmp_path / "wazo-provd-plugins"
    shutil.copytree(SAMPLES, repo / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "test-requirements.txt").write_text(PLUGINS_REPO_PINS)
    (repo / "tox.ini").write_text(TOX_INI)
    git(repo, "init", "-q", "-b", "master")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "plugins")
    # A change that leaves the built output alone (no version bump needed): every target of
    # the family is "changed", the others are not run.
    build_py = repo / "plugins" / "wazo_aastra" / "build.py"
    build_py.write_text(build_py.read_text() + "\n# reviewed\n")

    env = {
        **os.environ,
        "PYTEST_PROVD_SPEC": str(wheel),
        "BASE_REF": "HEAD",
        "PYTEST_PROVD_CACHE": str(tmp_path / "cache"),
    }
    for name in ("PYTEST_ADDOPTS", "VIRTUAL_ENV", "PYTHONPATH"):
        env.pop(name, None)
    proc = subprocess.run(
        [*tox, "-e", "provd-gate", "--workdir", str(tmp_path / "tox"), "--", "-p", "no:randomly"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0 and any(marker in output for marker in NO_INDEX):
        pytest.skip(f"no package index for the plugins repository's pins: {output[-300:]}")
    assert proc.returncode == 0, output[-6000:]

    python = tmp_path / "tox" / "provd-gate" / "bin" / "python"
    freeze = subprocess.run(
        [str(python), "-m", "pip", "freeze"], capture_output=True, text=True, timeout=120
    ).stdout.lower()
    for pin in ("twisted==22.4.0", "jinja2==3.1.2", "packaging==23.0", "zope.interface==5.5.0"):
        assert pin in freeze
    assert "pytest-provd @ file://" in freeze
    assert "wazo-provd" not in freeze and "wazo_provd" not in freeze

    root = ET.parse(repo / "provd-gate.xml").getroot()
    outcomes: dict[str, str] = {}
    targets = set()
    for case in root.iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = kinds[0] if kinds else "passed"
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        targets.add(props.get("provd_target") or props.get("provd_family"))
    # Only the changed family ran, every tier of it, and nothing failed.
    assert targets == {"wazo-aastra-4.3.0", "wazo-aastra-6.4.0-SP2"}
    assert "wazo-aastra-4.3.0::version-bump" in outcomes
    assert "wazo-aastra-4.3.0.6863i::provision" in outcomes
    assert [n for n, o in outcomes.items() if o in ("failure", "error")] == []
    assert sum(o == "passed" for o in outcomes.values()) > 40
