"""A static-only run (``-m provd_static``) starts no server stack: no twisted, aiohttp or
tftpy, no embedded provd, no compat layer, no backend (the static tier's cost is its own)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.inner import in_server_stack
from tests.test_tree import make_family

RECORDER = """
import json
import sys


def pytest_unconfigure(config):
    with open("modules.json", "w") as handle:
        json.dump(sorted(sys.modules), handle)
    with open("hypothesis-plugin.json", "w") as handle:
        json.dump(config.pluginmanager.has_plugin("hypothesispytest"), handle)
"""


def _modules_of_run(pytester: pytest.Pytester, *args: str) -> tuple[list[str], pytest.RunResult]:
    pytester.makeconftest(RECORDER)
    result = pytester.runpytest_subprocess("--provd-plugin", "acme-phone-*", *args)
    return json.loads(Path(pytester.path / "modules.json").read_text()), result


def test_static_only_run_imports_no_server_stack(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    modules, result = _modules_of_run(pytester, "-m", "provd_static", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 10 and outcomes.get("deselected", 0) > 0, outcomes
    assert "pytest_provd.checks.templates" in modules  # the recorder sees the static checks
    assert [m for m in modules if in_server_stack(m) and not _loaded_at_start(m)] == []


def test_the_recorder_sees_the_server_stack_of_a_load_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same recorder on a run of a target's ``load`` item sees the embedded provd."""
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    modules, result = _modules_of_run(pytester, "-m", "provd_load", "-k", "acme-phone-1.0")
    assert result.parseoutcomes().get("passed", 0) >= 1
    assert "pytest_provd.provd" in modules and "pytest_provd.compat" in modules


def test_a_run_of_the_generated_suite_alone_never_imports_hypothesis(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hypothesis's own terminal summary would import it at the end of every run: it has
    nothing to list in a run without hypothesis tests, so it is left out there."""
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    modules, result = _modules_of_run(pytester, "-m", "provd_static", "-p", "no:cacheprovider")
    assert result.parseoutcomes().get("passed", 0) >= 10
    assert "hypothesis" not in modules
    assert json.loads((pytester.path / "hypothesis-plugin.json").read_text()) is False


def test_hypothesis_keeps_its_summary_in_a_run_with_test_paths(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a test path of the user's beside the suite, hypothesis's plugin stays: its
    tests' failing examples are its summary's to show."""
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    pytester.makepyfile(
        test_user="""
        from hypothesis import given, strategies as st

        @given(st.integers())
        def test_int(n):
            assert n == n
        """
    )
    modules, result = _modules_of_run(pytester, "-m", "provd_static or not provd", "test_user.py")
    assert result.parseoutcomes().get("passed", 0) >= 11
    assert "hypothesis" in modules
    assert json.loads((pytester.path / "hypothesis-plugin.json").read_text()) is True


def _loaded_at_start(module: str) -> bool:
    """The plugin module registers the fixtures (and so imports their modules) and the
    emulators' vendor registry: no server, no socket, no event loop."""
    return module.split(".")[:2] == ["pytest_provd", "fixtures"] or module.split(".")[0] == (
        "emulators"
    )
