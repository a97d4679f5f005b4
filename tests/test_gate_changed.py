"""The CI gate on git history: --provd-changed with --provd-base-ref, through pytester."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.test_tree import make_family

pytest_plugins = ["pytester"]

BUILD_TWO_FAMILIES = """
from subprocess import check_call

@target('1.0', 'acme-phone-1.0')
def build_1_0(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', '--exclude', '*.btpl', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v1_0/', path])

@target('2.0', 'acme-phone-2.0')
def build_2_0(path):
    check_call(['rsync', '-rlp', '--exclude', '.*', '--exclude', '*.btpl', 'common/', path])
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v2_0/', path])
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t.invalid", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    make_family(pytester.path / "plugins", build_py=BUILD_TWO_FAMILIES)
    make_family(
        pytester.path / "plugins",
        "other_phone",
        build_py=BUILD_TWO_FAMILIES.replace("acme-phone", "other-phone"),
    )
    (pytester.path / ".gitignore").write_text(".cache/\n")
    git(pytester.path, "init", "-q", "-b", "main")
    git(pytester.path, "add", "-A")
    git(pytester.path, "commit", "-q", "-m", "base")
    git(pytester.path, "branch", "base")
    return pytester.path


def bump(repo: Path, family: str, version_dir: str, new: str) -> None:
    info = repo / "plugins" / family / version_dir / "plugin-info"
    info.write_text(info.read_text().replace('"version": "', f'"version": "{new}-was-'))


def test_common_change_without_bump_fails_exactly_affected_targets(
    pytester: pytest.Pytester, repo: Path
) -> None:
    (repo / "plugins" / "acme_phone" / "common" / "common.py").write_text("X = 2\n")
    result = pytester.runpytest(
        "--provd-plugin",
        "all",
        "--provd-changed",
        "--provd-base-ref",
        "base",
        "-m",
        "provd_static",
        "-k",
        "version-bump",
    )
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "FAILED acme-phone-1.0::version-bump*",
            "FAILED acme-phone-2.0::version-bump*",
        ]
    )
    result.stdout.fnmatch_lines(["*bump*plugins/acme_phone/v1_0/plugin-info*"])
    result.stdout.no_fnmatch_line("*other-phone*::version-bump*")
    result.stdout.fnmatch_lines(["*--provd-changed: 2 target(s) differ from base; 2 unchanged"])


def test_bumped_versions_pass(pytester: pytest.Pytester, repo: Path) -> None:
    (repo / "plugins" / "acme_phone" / "common" / "common.py").write_text("X = 2\n")
    for vdir, new in (("v1_0", "1.1"), ("v2_0", "2.1")):
        info = repo / "plugins" / "acme_phone" / vdir / "plugin-info"
        info.write_text(
            info.read_text().replace(f'"version": "{vdir[1]}.0"', f'"version": "{new}"')
        )
    result = pytester.runpytest(
        "--provd-plugin",
        "all",
        "--provd-changed",
        "--provd-base-ref",
        "base",
        "-k",
        "version-bump",
    )
    result.assert_outcomes(passed=2)


def test_nothing_changed_is_a_pass_not_exit_5(pytester: pytest.Pytester, repo: Path) -> None:
    result = pytester.runpytest(
        "--provd-plugin", "all", "--provd-changed", "--provd-base-ref", "base"
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*--provd-changed: 0 target(s) differ from base; 4 unchanged"])


def test_unknown_base_ref_is_usage_error(pytester: pytest.Pytester, repo: Path) -> None:
    result = pytester.runpytest("--provd-plugin", "all", "--provd-base-ref", "nope/nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--provd-base-ref: git ref 'nope/nope' is not known*"])


def test_changed_needs_base_ref(pytester: pytest.Pytester, repo: Path) -> None:
    result = pytester.runpytest("--provd-plugin", "all", "--provd-changed")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--provd-changed needs --provd-base-ref REF"])
