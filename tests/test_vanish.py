"""Nothing vanishes silently from the gate: broken build.py files, targets removed since the
base ref and version dirs no target builds all fail an item, under every selection mode.

Each test is a two-commit git repository holding the sample families of
tests/data/current/plugins: commit 1 as shipped, commit 2 the change under test.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SAMPLES = Path(__file__).parent / "data" / "current" / "plugins"
SNOM_BUILD = "plugins/wazo_snom/build.py"
STATIC = ("-m", "provd_static", "-p", "no:cacheprovider")
CHANGED = ("--provd-plugin", "all", "--provd-changed", "--provd-base-ref", "HEAD~1")
TARGET_200 = """@target('10.1.200.1', 'wazo-snom-10.1.200.1')
def build_10_1_200_1(path):
    _sync_common(path, ['715.tpl', 'D7*5.tpl'])
    _gen_model_templates(
        path,
        '10.1.200.1',
        [('715', 'bin', False), ('D735', 'bin', False), ('D785', 'bin', False)],
    )
    check_call(['rsync', '-rlp', '--exclude', '.*', 'v10_1_200_1/', path])


"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t.invalid", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Commit 1: the sample families. The test makes commit 2 with :func:`commit`."""
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    shutil.copytree(SAMPLES, pytester.path / "plugins")
    (pytester.path / ".gitignore").write_text(".cache/\ntox.ini\n")
    git(pytester.path, "init", "-q", "-b", "main")
    git(pytester.path, "add", "-A")
    git(pytester.path, "commit", "-q", "-m", "samples")
    return pytester.path


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def collected(result: pytest.RunResult) -> list[str]:
    """Node ids listed by ``--collect-only -q``."""
    return [line for line in result.outlines if "::" in line and " " not in line.strip()]


# What each breakage does to wazo_snom/build.py, and what the build.py item must say.
BREAKAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "syntax": (
        lambda p: edit(p, "def build_10_1_200_1(path):", "def build_10_1_200_1(path:"),
        ":45: does not compile: SyntaxError: *",
    ),
    "indentation": (
        lambda p: edit(p, "@target('10.1.215.13'", "  x = 1\n@target('10.1.215.13'"),
        ":55: does not compile: IndentationError: *",
    ),
    "conflict": (
        lambda p: edit(
            p,
            "@target('10.1.215.13', 'wazo-snom-10.1.215.13')\n",
            "<<<<<<< HEAD\n@target('10.1.215.13', 'wazo-snom-10.1.215.13')\n=======\n"
            "@target('10.1.215.14', 'wazo-snom-10.1.215.14')\n>>>>>>> topic\n",
        ),
        ":55: does not compile: unresolved merge conflict (marker '<<<<<<<'); Python says *",
    ),
}
MODES = {
    "all": ("--provd-plugin", "all"),
    "glob": ("--provd-plugin", "wazo-snom-*"),
    "id": ("--provd-plugin", "wazo-snom-10.1.215.13"),
    "changed": CHANGED,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("breakage", BREAKAGES)
def test_broken_build_py_fails_every_selection_mode(
    pytester: pytest.Pytester, repo: Path, breakage: str, mode: str
) -> None:
    breaker, said = BREAKAGES[breakage]
    breaker(repo / SNOM_BUILD)
    commit(repo, f"break build.py ({breakage})")
    # all: the other families' static items run too; -k keeps the test fast, not the verdict.
    keep = ("-k", "wazo_snom or wazo-aastra-4") if mode == "all" else ()
    result = pytester.runpytest(*MODES[mode], *STATIC, *keep)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines([f"  {SNOM_BUILD}{said}(fix: *)"])
    result.stdout.fnmatch_lines(["FAILED wazo_snom::build.py*"])
    result.assert_outcomes(failed=1, passed=9 if mode == "all" else 0)
    if mode == "changed":
        result.stdout.fnmatch_lines(
            ["--provd-changed: 0 target(s) differ from HEAD~1; 4 unchanged"]
        )


def test_broken_family_does_not_hide_a_typo(pytester: pytest.Pytester, repo: Path) -> None:
    """A pattern no family could build is still a usage error, with or without breakage."""
    BREAKAGES["syntax"][0](repo / SNOM_BUILD)
    result = pytester.runpytest("--provd-plugin", "wazo-snmo-*", *STATIC)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no plugin wazo-snmo-* in *"])


def test_broken_family_found_by_ids_it_built(
    pytester: pytest.Pytester, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A family whose plugin ids do not follow its directory name is selected by the ids it
    built: in git HEAD, at the base ref, at the last good parse."""
    git(repo, "mv", "plugins/wazo_cisco_spa", "plugins/spa")
    commit(repo, "a family whose ids do not start with its name")
    build_py = repo / "plugins/spa/build.py"
    select = ("--provd-plugin", "wazo-cisco-spa-7.5.5", "--collect-only", "-q")
    build_py.write_text(build_py.read_text() + "\nraise RuntimeError('half-edited')\n")
    result = pytester.runpytest(*select)  # not committed: HEAD's build.py says
    assert collected(result) == ["spa::build.py"]
    commit(repo, "broken")
    # HEAD is broken too, but the base ref knows
    result = pytester.runpytest(*select, "--provd-base-ref", "HEAD~1")
    assert collected(result) == ["spa::build.py"]
    # a cache that never saw the family parse: nothing tells its ids
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(repo / ".cache" / "fresh"))
    result = pytester.runpytest(*select)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # the last good parse is remembered by any run that read the family
    broken = build_py.read_text()
    build_py.write_text(broken.replace("raise RuntimeError", "# raise"))
    pytester.runpytest("--provd-plugin", "all", "--collect-only", "-q")
    build_py.write_text(broken)
    result = pytester.runpytest(*select)
    assert collected(result) == ["spa::build.py"]
    result = pytester.runpytest("--provd-plugin", "wazo-cisco-spa-7.5.5", *STATIC)
    line = broken.splitlines().index("raise RuntimeError('half-edited')") + 1
    result.stdout.fnmatch_lines(
        [f"  plugins/spa/build.py:{line}: raised RuntimeError: half-edited (fix: *)"]
    )


@pytest.mark.parametrize(
    ("path", "old", "new", "expected"),
    [
        ("build.py", "# Build script", "# The build script", ["10.1.200.1", "10.1.215.13"]),
        ("common/common.py", "", "# comment\n", ["10.1.200.1", "10.1.215.13"]),
        ("v10_1_215_13/entry.py", "", "# comment\n", ["10.1.215.13"]),
    ],
    ids=["build.py-comment", "common", "version-dir"],
)
def test_changed_from_family_inputs_without_building(
    pytester: pytest.Pytester, repo: Path, path: str, old: str, new: str, expected: list[str]
) -> None:
    edit(repo / "plugins/wazo_snom" / path, old, new)
    commit(repo)
    result = pytester.runpytest(*CHANGED, "--collect-only", "-q")
    targets = sorted({nodeid.split("::")[0] for nodeid in collected(result)})
    assert targets == [f"wazo-snom-{v}" for v in expected]
    # told from the families' files: nothing was built to decide
    cache = repo / ".cache"
    assert (cache / "known-targets.json").is_file()
    assert not [p.name for p in cache.iterdir() if p.is_dir()]


def test_target_removed_but_dir_kept_fails(pytester: pytest.Pytester, repo: Path) -> None:
    edit(repo / SNOM_BUILD, TARGET_200, "")
    commit(repo, "drop the 10.1.200.1 target, forget its directory")
    only = ("-k", "removed or unbuilt")
    for selection in (CHANGED, ("--provd-plugin", "wazo-snom-10.1.200.1")):
        result = pytester.runpytest(*selection, "--provd-base-ref", "HEAD~1", *STATIC, *only)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines(
            [
                "  plugins/wazo_snom/build.py: plugin wazo-snom-10.1.200.1 was built at HEAD~1 by "
                "wazo_snom/build.py:44 (@target '10.1.200.1'); no target builds it now, but its "
                "version dir plugins/wazo_snom/v10_1_200_1 is still here (fix: restore the "
                "@target, or delete the version dir too if the plugin is retired)",
            ]
        )
        result.stdout.fnmatch_lines(
            [
                "FAILED wazo_snom::unbuilt[[]v10_1_200_1[]]*",
                "FAILED wazo_snom::removed[[]wazo-snom-10.1.200.1[]]*",
            ],
            consecutive=False,
        )
        result.assert_outcomes(failed=2)


def test_target_removed_with_its_dir_is_deliberate(pytester: pytest.Pytester, repo: Path) -> None:
    edit(repo / SNOM_BUILD, TARGET_200, "")
    git(repo, "rm", "-rq", "plugins/wazo_snom/v10_1_200_1")
    commit(repo, "retire 10.1.200.1")
    result = pytester.runpytest(*CHANGED, *STATIC)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.no_fnmatch_line("*removed[[]*")
    result.stdout.fnmatch_lines(
        [
            "*provd: removed since HEAD~1*",
            "removed deliberately: wazo-snom-10.1.200.1 (built at HEAD~1 by "
            "wazo_snom/build.py:44 (@target '10.1.200.1')): plugins/wazo_snom/v10_1_200_1 "
            "deleted with it",
        ]
    )
    # the rest of the family changed with its build.py
    result.stdout.fnmatch_lines(["--provd-changed: 1 target(s) differ from HEAD~1; 4 unchanged"])


def test_unbuilt_version_dir_fails_then_opts_out(pytester: pytest.Pytester, repo: Path) -> None:
    family = repo / "plugins/wazo_snom"
    shutil.copytree(family / "v10_1_215_13", family / "v10_1_300_1")
    commit(repo, "add 10.1.300.1, forget build.py")
    message = (
        "  plugins/wazo_snom/v10_1_300_1: holds a plugin-info but no @target in "
        "wazo_snom/build.py builds it (fix: add a target or remove the directory (or, to keep "
        "it unbuilt on purpose, add plugins/wazo_snom/v10_1_300_1/.provd-unbuilt saying why))"
    )
    for selection in (CHANGED, ("--provd-plugin", "all"), ("--provd-plugin", "wazo-snom-*")):
        result = pytester.runpytest(*selection, *STATIC, "-k", "unbuilt")
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines([message, "FAILED wazo_snom::unbuilt[[]v10_1_300_1[]]*"])
    # the changed family's targets are not changed: the new dir is in none of them
    result = pytester.runpytest(*CHANGED, "--collect-only", "-q")
    assert collected(result) == ["wazo_snom::unbuilt[v10_1_300_1]"]
    (family / "v10_1_300_1" / ".provd-unbuilt").write_text("kept for the 10.1.300 beta\n")
    result = pytester.runpytest("--provd-plugin", "all", "--collect-only", "-q")
    assert not [n for n in collected(result) if "unbuilt" in n]
