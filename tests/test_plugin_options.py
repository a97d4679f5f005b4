"""The pytest integration, through pytester: options, selection, ids, header, usage errors.

Runs that load plugins go through a subprocess; collection, static checks and usage errors
stay in-process (see tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.inner import INNER_INI
from tests.test_tree import make_family


@pytest.fixture
def tiny(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins")
    return pytester.path / "plugins"


def test_selected_plugin_collects_generated_suite_only(
    pytester: pytest.Pytester, tiny: Path
) -> None:
    pytester.makepyfile(test_user="def test_user():\n    pass\n")
    result = pytester.runpytest("--provd-plugin", "acme-phone-1.0", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["acme-phone-1.0::build"])
    result.stdout.no_fnmatch_line("*test_user*")
    assert result.ret == 0


def test_explicit_paths_plus_generated_suite(pytester: pytest.Pytester, tiny: Path) -> None:
    pytester.makepyfile(test_user="def test_user():\n    pass\n")
    result = pytester.runpytest_subprocess("--provd-plugin", "acme-phone-*", "test_user.py", "-q")
    result.assert_outcomes(passed=27, skipped=4)
    result.stdout.fnmatch_lines(["acme-phone-1.0: 13 passed, 2 skipped | 1 models, 1 files*"])


def test_unknown_plugin_is_usage_error_with_suggestion(
    pytester: pytest.Pytester, tiny: Path
) -> None:
    result = pytester.runpytest("--provd-plugin", "acme-phone-1.01")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*no plugin acme-phone-1.01 in *plugins; did you mean acme-phone-1.0?"]
    )


def test_ini_twin_and_header(pytester: pytest.Pytester, tiny: Path) -> None:
    pytester.makeini(INNER_INI + "provd_plugin = acme-phone-2.0\nprovd_backend = embedded\n")
    result = pytester.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(["acme-phone-2.0::build"])
    header = pytester.runpytest("--collect-only")
    header.stdout.fnmatch_lines(
        ["provd: backend embedded, plugins dir *plugins, targets: acme-phone-2.0, base ref: none"]
    )


def test_bad_backend_lists_valid_ones(pytester: pytest.Pytester, tiny: Path) -> None:
    result = pytester.runpytest("--provd-backend", "docker")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown backend 'docker'; valid: embedded, real, url"])


def test_no_plugins_dir_is_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--provd-plugin", "all")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no plugins directory found*--provd-plugins-dir DIR"])


def test_build_failure_is_reported_without_traceback(pytester: pytest.Pytester, tiny: Path) -> None:
    (tiny / "acme_phone" / "v1_0").rename(tiny / "acme_phone" / "v1_0_gone")
    result = pytester.runpytest("--provd-plugin", "acme-phone-1.0", "-k", "build")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*acme-phone-1.0::build: 1 problem(s)", "*build.py:4: building*"])
    result.stdout.fnmatch_lines(["*build.py*line 9, in build_1_0*"])
    result.stdout.no_fnmatch_line('*File "<string>"*')
    result.stdout.no_fnmatch_line("*pytest_provd*")


def test_plain_run_without_plugin_option_is_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_user():\n    pass\n")
    pytester.runpytest("-q").assert_outcomes(passed=1)


def test_xdist_workers_share_the_build_cache(pytester: pytest.Pytester, tiny: Path) -> None:
    pytest.importorskip("xdist")
    result = pytester.runpytest_subprocess("--provd-plugin", "all", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=26, skipped=4)
    # One build for both workers; bin/ holds the rsync shim where rsync is missing, memo/
    # what the static rules concluded from file contents.
    cache_entries = [p for p in (pytester.path / ".cache").iterdir() if p.is_dir()]
    cache_entries = [p for p in cache_entries if p.name not in ("bin", "memo")]
    assert len(cache_entries) == 1
    assert not list(cache_entries[0].glob(".staging-*"))
