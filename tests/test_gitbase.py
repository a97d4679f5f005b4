"""Base-ref builds from git history made on the fly, and the version-bump check."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytest_provd import tree
from pytest_provd.checks import run_check
from pytest_provd.tree import gitbase
from tests.checks_helpers import context, edit, make_family

PID = "wazo-acme-2.1.0"
INFO = "plugins/wazo_acme/v2_1_0/plugin-info"


@pytest.fixture(autouse=True)
def _private_build_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    make_family(root / "plugins", ("2.0.0", "2.1.0"))
    git(root, "init", "-q", "-b", "master")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root


def bump(repo: Path, check_ref: str = "master") -> list[str]:
    ctx = context(repo / "plugins", PID, base_ref=check_ref, repo_root=repo)
    return [str(p) for p in run_check("version-bump", ctx)]


def test_unchanged_target_passes(repo: Path) -> None:
    assert bump(repo) == []


def test_common_change_without_bump_fails_then_bump_passes(repo: Path) -> None:
    status_before = git(repo, "status", "--porcelain")
    edit(repo / "plugins/wazo_acme/common/templates/base.tpl", "user=", "username=")
    [problem] = bump(repo)
    assert problem.startswith(f"{INFO}:2: built output of {PID} differs from master")
    assert "changed: common/templates/base.tpl)" in problem
    assert "plugin-info version 1.0.0 was not bumped (base 1.0.0)" in problem
    assert f"bump version in {INFO}" in problem
    # every target of the family is affected by a common/ change
    other = context(repo / "plugins", "wazo-acme-2.0.0", base_ref="master", repo_root=repo)
    assert run_check("version-bump", other)
    edit(repo / INFO, '"version": "1.0.0"', '"version": "1.0.01"')
    assert bump(repo) == []
    # the user's checkout is untouched: same HEAD, index and status apart from our edits
    assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "master")
    assert git(repo, "status", "--porcelain") != status_before  # only the user's edits
    assert not any(p.name.startswith("base-") for p in repo.iterdir())


def test_committed_change_against_older_ref(repo: Path) -> None:
    edit(repo / "plugins/wazo_acme/v2_1_0/pkgs/pkgs.db", "size: 4", "size: 5")
    git(repo, "commit", "-qam", "change pkgs")
    assert bump(repo, "master") == []  # HEAD is the base: nothing changed
    [problem] = bump(repo, "master~1")
    assert "changed: v2_1_0/pkgs/pkgs.db)" in problem


def test_lower_version_fails(repo: Path) -> None:
    edit(repo / INFO, '"version": "1.0.0"', '"version": "0.9"')
    [problem] = bump(repo)
    assert "plugin-info version 0.9 was not bumped (base 1.0.0)" in problem


def test_target_absent_at_base_passes_as_new(repo: Path) -> None:
    family = repo / "plugins/wazo_acme"
    subprocess.run(["cp", "-r", str(family / "v2_1_0"), str(family / "v2_2_0")], check=True)
    build_py = family / "build.py"
    build_py.write_text(
        build_py.read_text() + "\n@target('2.2.0', 'wazo-acme-2.2.0')\ndef build_2_2_0(path):\n"
        "    _copy('common', path)\n    _copy('v2_2_0', path)\n"
    )
    ctx = context(repo / "plugins", "wazo-acme-2.2.0", base_ref="master", repo_root=repo)
    assert run_check("version-bump", ctx) == []
    out = gitbase.build_at_ref(
        repo, "master", Path("plugins"), "wazo-acme-2.2.0", gitbase.default_out_root()
    )
    assert out is None
    found = tree.discover(repo / "plugins")
    # build.py changed: every target of the family may build differently now
    assert gitbase.changed_targets(repo, "master", repo / "plugins", found) == {
        "wazo-acme-2.0.0",
        "wazo-acme-2.1.0",
        "wazo-acme-2.2.0",
    }


def test_changed_targets(repo: Path, tmp_path: Path) -> None:
    found = tree.discover(repo / "plugins")
    assert gitbase.changed_targets(repo, "master", repo / "plugins", found, tmp_path / "o") == set()
    edit(repo / "plugins/wazo_acme/v2_0_0/entry.py", "IS_PLUGIN = True", "IS_PLUGIN = 1")
    found = tree.discover(repo / "plugins")
    changed = gitbase.changed_targets(repo, "master", repo / "plugins", found, tmp_path / "o")
    assert changed == {"wazo-acme-2.0.0"}


def test_unknown_ref_is_a_clear_error(repo: Path) -> None:
    [problem] = bump(repo, "origin/nope")
    assert "git ref 'origin/nope' is not known" in problem and "git fetch" in problem
    with pytest.raises(gitbase.GitBaseError, match="not known"):
        gitbase.resolve_ref(repo, "nope")


def test_not_a_git_checkout(tmp_path: Path) -> None:
    make_family(tmp_path / "plain" / "plugins")
    ctx = context(tmp_path / "plain" / "plugins", PID, base_ref="master")
    [problem] = run_check("version-bump", ctx)
    assert "is not inside a git checkout" in problem.message


def test_build_at_ref_exports_without_touching_checkout(repo: Path, tmp_path: Path) -> None:
    edit(repo / "plugins/wazo_acme/common/templates/base.tpl", "user=", "who=")
    out = gitbase.build_at_ref(repo, "master", Path("plugins"), PID, tmp_path / "out")
    assert out is not None and out.is_relative_to(tmp_path / "out")
    assert "user=" in (out / "templates/base.tpl").read_text()
    assert "who=" in (repo / "plugins/wazo_acme/common/templates/base.tpl").read_text()
    assert git(repo, "worktree", "list").count("\n") == 1
    assert git(repo, "stash", "list") == ""
