"""Baselines through pytester: writing one, gating on one, and the CI flow on git history.

The CI flow copies the sample families into a git repository: commit 1 carries a known
defect and the baseline is written there; commit 2 inserts lines above the defect (and bumps
the version it must); the README's CI command then passes, and fails on exactly one new
defect added on top.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_tree import make_family

DATA = Path(__file__).parent / "data" / "current" / "plugins"
SNOM = Path("plugins") / "wazo_snom" / "v10_1_215_13"


@pytest.fixture
def tiny(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    monkeypatch.setenv("COLUMNS", "400")  # short summaries untrimmed
    make_family(pytester.path / "plugins")
    return pytester.path / "plugins"


def _break_build(tiny: Path) -> None:
    (tiny / "acme_phone" / "v1_0").rename(tiny / "acme_phone" / "v1_0_gone")


def test_writing_a_baseline_is_not_a_failure(pytester: pytest.Pytester, tiny: Path) -> None:
    _break_build(tiny)
    args = ("--provd-plugin", "all", "-k", "build", "-rx")
    written = pytester.runpytest(*args, "--provd-write-baseline", "base.json")
    assert written.ret == pytest.ExitCode.OK
    written.assert_outcomes(xfailed=1, passed=1)
    written.stdout.fnmatch_lines(
        [
            "acme-phone-1.0: 1 xfailed",
            "baseline with 1 failure(s) written to *base.json (reported as xfailed: baselined;*",
            "XFAIL acme-phone-1.0::build - baselined: *build.py:4: building*",
        ]
    )
    # The reason reads as the failure would: the path relative to the repository.
    written.stdout.fnmatch_lines(["XFAIL acme-phone-1.0::build - baselined: plugins/acme_phone/*"])
    data = json.loads((pytester.path / "base.json").read_text())
    assert data["version"] == 2
    (entry,) = data["failures"]["acme-phone-1.0::build"]
    assert entry["file"] == "plugins/acme_phone/build.py"
    assert entry["rule"] == "build"
    assert entry["source"].startswith("@target('1.0'")
    gated = pytester.runpytest(*args, "--provd-baseline", "base.json")
    assert gated.ret == pytest.ExitCode.OK
    gated.assert_outcomes(passed=1, xfailed=1)
    gated.stdout.fnmatch_lines(
        ["baseline *base.json: 1 known failure(s) baselined (xfailed), 0 new failure(s)"]
    )
    # The defect is fixed: the run passes and says the baseline entry can go.
    (tiny / "acme_phone" / "v1_0_gone").rename(tiny / "acme_phone" / "v1_0")
    fixed = pytester.runpytest(*args, "--provd-baseline", "base.json")
    fixed.assert_outcomes(passed=2)
    fixed.stdout.fnmatch_lines(["*baseline entry now passes, remove it: acme-phone-1.0::build"])


def test_baseline_does_not_hide_a_new_failure(pytester: pytest.Pytester, tiny: Path) -> None:
    pytester.path.joinpath("base.json").write_text(
        '{"version": 2, "failures": {"acme-phone-1.0::build": [{"fingerprint": "0"}]}}'
    )
    _break_build(tiny)
    result = pytester.runpytest(
        "--provd-plugin", "all", "-k", "build", "--provd-baseline", "base.json"
    )
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["baseline *: 0 known failure(s) baselined (xfailed), 1 new*"])


def test_version_1_baselines_still_apply(pytester: pytest.Pytester, tiny: Path) -> None:
    _break_build(tiny)
    first = pytester.runpytest("--provd-plugin", "acme-phone-1.0", "-k", "build")
    problem = next(line.strip() for line in first.outlines if line.startswith("  plugins/"))
    # What version 1 recorded: the problem's first line, the plugins dir stripped.
    reason = problem.removeprefix("plugins/")
    pytester.path.joinpath("v1.json").write_text(
        json.dumps({"version": 1, "failures": {"acme-phone-1.0::build": [reason]}})
    )
    gated = pytester.runpytest(
        "--provd-plugin", "acme-phone-1.0", "-k", "build", "--provd-baseline", "v1.json"
    )
    gated.assert_outcomes(xfailed=1)


def test_bad_baseline_file_is_usage_error(pytester: pytest.Pytester, tiny: Path) -> None:
    pytester.path.joinpath("base.json").write_text("{nope")
    result = pytester.runpytest(
        "--provd-plugin", "all", "-k", "build", "--provd-baseline", "base.json"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*base.json:1: invalid JSON*"])


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t.invalid", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer holds {old!r}: update the test data edit"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def ci_repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample families in git; commit 1 (tagged ``commit1``) has a model without a
    capability in wazo-snom-10.1.215.13's MODELS."""
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    monkeypatch.setenv("COLUMNS", "400")  # short summaries untrimmed
    shutil.copytree(DATA, pytester.path / "plugins")
    (pytester.path / ".gitignore").write_text(".cache/\n*.json\ntox.ini\n")
    _edit(pytester.path / SNOM / "entry.py", "'D865']", "'D865', 'D999']")
    git(pytester.path, "init", "-q", "-b", "main")
    git(pytester.path, "add", "-A")
    git(pytester.path, "commit", "-q", "-m", "commit 1: a known defect")
    git(pytester.path, "tag", "commit1")
    return pytester.path


def _failed_ids(result: pytest.RunResult) -> list[str]:
    return sorted(m.group(1) for line in result.outlines if (m := re.match(r"FAILED (\S+)", line)))


def test_ci_flow_line_shifts_stay_known_and_one_new_defect_fails_alone(
    pytester: pytest.Pytester, ci_repo: Path
) -> None:
    written = pytester.runpytest_subprocess(
        "--provd-plugin", "wazo-snom-*", "--provd-write-baseline", "provd-baseline.json"
    )
    assert written.ret == pytest.ExitCode.OK, written.stdout.str()
    known = json.loads((ci_repo / "provd-baseline.json").read_text())["failures"]
    assert "wazo-snom-10.1.215.13::models[D999]" in known
    # Commit 2: comment lines inserted above the defect, and the version bump it needs.
    entry = ci_repo / SNOM / "entry.py"
    entry.write_text(
        "# Sample plugin of pytest-provd.\n# A second comment line.\n\n" + entry.read_text()
    )
    _edit(ci_repo / SNOM / "plugin-info", '"version": "1.0.0"', '"version": "1.0.1"')
    git(ci_repo, "commit", "-q", "-am", "commit 2: header")
    ci = (
        "--provd-plugin", "all", "--provd-changed", "--provd-base-ref", "commit1",
        "--provd-baseline", "provd-baseline.json", "-rfx",
    )  # fmt: skip
    shifted = pytester.runpytest_subprocess(*ci)
    assert shifted.ret == pytest.ExitCode.OK, shifted.stdout.str()
    assert _failed_ids(shifted) == []
    shifted.stdout.fnmatch_lines(["baseline *: * known failure(s) baselined (xfailed), 0 new*"])
    assert any("models[D999] - baselined: " in line for line in shifted.outlines)
    # One new defect on top: exactly that fails.
    _edit(
        ci_repo / SNOM / "plugin-info",
        '"Snom, D785, 10.1.215.13": {\n',
        '"Snom, D785, 10.1.215.13": {\n            "sip.lines": 2,\n',
    )
    _edit(ci_repo / SNOM / "plugin-info", '"version": "1.0.1"', '"version": "1.0.2"')
    git(ci_repo, "commit", "-q", "-am", "commit 3: a new defect")
    new = pytester.runpytest_subprocess(*ci)
    assert new.ret == pytest.ExitCode.TESTS_FAILED
    assert _failed_ids(new) == ["wazo-snom-10.1.215.13::plugin-info"]
    new.stdout.fnmatch_lines(
        [
            "baseline *: * known failure(s) baselined (xfailed), 1 new failure(s)",
            "FAILED wazo-snom-10.1.215.13::plugin-info - *plugin-info:*'sip.lines'*",
        ]
    )


def test_silent_setup_and_teardown_reports_are_dropped_before_the_summary() -> None:
    from pytest_provd.report.reporter import drop_silent_reports

    def report(when: str, outcome: str, sections: list[tuple[str, str]]) -> pytest.TestReport:
        return pytest.TestReport("t::a", ("t", 0, "a"), {}, outcome, None, when, sections)

    silent = report("teardown", "passed", [])
    printed = report("teardown", "passed", [("Captured stdout teardown", "bye")])
    failed = report("setup", "failed", [])
    stats = {"": [silent, printed, failed], "failed": [failed]}
    drop_silent_reports(stats)
    assert stats == {"": [printed, failed], "failed": [failed]}
