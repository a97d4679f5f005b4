"""What a gate run prints, through pytester: the first problem in short summaries, each
problem once, no third-party warnings, and the rootdir of the repository whatever the form of
path options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_provd import rootdir
from tests.test_tree import make_family

# Items of our own next to the tiers': problems with volatile values, and a warning raised
# by a "third-party" module while a generated item runs (and while a user's test runs).
CONFTEST = """
import tempfile
import warnings

from pytest_provd.problems import Problem
from pytest_provd.suite import ItemSpec

VENDOR = {"__name__": "vendorlib", "warnings": warnings}
exec(
    "def old_api():\\n"
    "    warnings.warn('vendorlib.old_api is deprecated', DeprecationWarning, stacklevel=1)\\n",
    VENDOR,
)


def pytest_provd_plan_target(session, target, plan):
    tmp = tempfile.gettempdir()
    build = target.build_py

    def repeats():
        return [
            Problem(build, f"cannot read {tmp}/pytest-provd-aaaa/x.cfg", 4),
            Problem(build, "a second finding", 2),
            Problem(build, f"cannot read {tmp}/pytest-provd-bbbb/x.cfg", 4),
            Problem(build, "a second finding", 2),
            Problem(build, "a second finding", 3),
        ]

    def noisy():
        VENDOR["old_api"]()
        return []

    plan.add(ItemSpec("repeats", "provd_static", repeats))
    plan.add(ItemSpec("noisy", "provd_static", noisy))
"""


@pytest.fixture
def tiny(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    monkeypatch.setenv("COLUMNS", "300")
    make_family(pytester.path / "plugins")
    pytester.makeconftest(CONFTEST)
    return pytester.path / "plugins"


def test_short_summary_shows_the_first_problem_and_each_problem_once(
    pytester: pytest.Pytester, tiny: Path
) -> None:
    result = pytester.runpytest("--provd-plugin", "acme-phone-1.0", "-k", "repeats", "-rf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "acme-phone-1.0::repeats: 3 problem(s)",
            # Paths relative to the plugins repository, as the maintainer's checkout has them.
            # The harness's scratch dirs (and kernel-chosen ports) read the same on every run.
            "  plugins/acme_phone/build.py:4: cannot read <tmp>/x.cfg",
            "  plugins/acme_phone/build.py:2: a second finding",
            "  plugins/acme_phone/build.py:3: a second finding",
            "FAILED acme-phone-1.0::repeats - plugins/acme_phone/build.py:4: cannot read "
            "<tmp>/x.cfg (+2 more)",
        ]
    )
    result.stdout.no_fnmatch_line("*pytest-provd-bbbb*")
    result.stdout.no_fnmatch_line("FAILED acme-phone-1.0::repeats - acme-phone-1.0::repeats*")


def test_junit_failure_message_is_the_first_problem(pytester: pytest.Pytester, tiny: Path) -> None:
    pytester.runpytest(
        "--provd-plugin", "acme-phone-1.0", "-k", "repeats", "--junitxml", "out.xml"
    ).assert_outcomes(failed=1)
    text = (pytester.path / "out.xml").read_text()
    assert 'message="' in text and "cannot read" in text.split('message="', 1)[1].split('"')[0]


def test_third_party_warnings_of_generated_items_are_not_shown(
    pytester: pytest.Pytester, tiny: Path
) -> None:
    pytester.makeini("[pytest]\naddopts = -p no:randomly\n")
    pytester.makepyfile(
        test_user="""
        import conftest

        def test_user():
            conftest.VENDOR["old_api"]()
        """
    )
    result = pytester.runpytest("--provd-plugin", "acme-phone-1.0", "-k", "noisy or user", ".")
    result.assert_outcomes(passed=2)
    # The user's own test still shows the warning it triggered; the generated item's is gone.
    result.stdout.fnmatch_lines(["*warnings summary*", "test_user.py::test_user", "*old_api*"])
    result.stdout.no_fnmatch_line("acme-phone-1.0::noisy*")


@pytest.fixture
def repo_with_ini(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose pyproject.toml selects the target and declares a marker; the
    pytester dir above it holds a tox.ini that must not be used."""
    repo = pytester.path / "repo"
    make_family(repo / "plugins")
    (repo / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'provd_plugin = ["acme-phone-2.0"]\n'
        'addopts = "-p no:randomly -p no:cacheprovider --strict-markers"\n'
        'markers = ["repo_only: declared by the repository ini alone"]\n'
    )
    (repo / "test_repo.py").write_text(
        "import pytest\n\n@pytest.mark.repo_only\ndef test_marked():\n    pass\n"
    )
    (pytester.path / "outside" / "golden").mkdir(parents=True)
    (pytester.path / "outside" / "known.json").write_text('{"version": 2, "failures": {}}')
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)  # no -c: the repository's ini applies
    monkeypatch.chdir(repo)
    return repo


@pytest.mark.parametrize(
    "option",
    [
        ["--provd-baseline", "{outside}/known.json"],
        ["--provd-write-baseline", "{outside}/known.json"],
        ["--provd-golden-dir", "{outside}/golden"],
        ["--provd-plugins-dir", "{repo}/plugins", "--provd-baseline", "{outside}/known.json"],
        ["--provd-baseline={outside}/known.json"],
    ],
)
def test_absolute_path_options_keep_the_rootdir_and_ini(
    pytester: pytest.Pytester, repo_with_ini: Path, option: list[str]
) -> None:
    outside = pytester.path / "outside"
    args = [word.format(outside=outside, repo=repo_with_ini) for word in option]
    result = pytester.runpytest_subprocess(*args, "--collect-only", "test_repo.py")
    assert result.ret == pytest.ExitCode.OK, result.stderr.str()
    result.stdout.fnmatch_lines(
        [
            f"rootdir: {repo_with_ini}",
            "configfile: pyproject.toml",
            # Relative to the repository ("repo/test_repo.py" with the rootdir above it).
            "*<Module test_repo.py>",
            "*<Function test_marked>",
            "<TargetCollector acme-phone-2.0>",
        ]
    )


def test_rootdir_under_xdist_workers_too(pytester: pytest.Pytester, repo_with_ini: Path) -> None:
    pytest.importorskip("xdist")
    known = pytester.path / "outside" / "known.json"
    result = pytester.runpytest_subprocess(
        "--provd-baseline", str(known), "-n", "2", "-p", "xdist", "-k", "build or marked", "."
    )
    result.assert_outcomes(passed=2)
    assert json.loads(known.read_text()) == {"version": 2, "failures": {}}


# pytest 7.4 with pluggy >= 1.4 warns when a hook raises under its old-style hookwrappers.
@pytest.mark.filterwarnings("ignore::pluggy.PluggyTeardownRaisedWarning")
def test_uncorrectable_rootdir_is_a_usage_error_naming_the_fix(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*args: object) -> object:
        raise rootdir._Unsupported("determine_setup(?)")

    monkeypatch.setattr(rootdir, "_determine", unsupported)
    known = pytester.path / "known.json"
    known.write_text('{"version": 2, "failures": {}}')
    result = pytester.runpytest("--provd-baseline", str(known), "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*write path options as --provd-baseline=PATH (with '=')*"])
