"""--provd-diff: what a change does to the files each model is given.

Units of :mod:`pytest_provd.rendering.diffing`, then the gate on a two-commit git repository made of
the sample families (tests/data/current/plugins), in subprocesses (the diff items load
plugins).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html

from pytest_provd.rendering.diffing import (
    ModelDiff,
    bounded,
    cap,
    compare_renders,
    first_changed_line,
)

pytest_plugins = ["pytester"]

DATA = Path(__file__).parent / "data" / "current" / "plugins"
MAC = "00:0e:08:aa:bb:cc"
SPA508G_TPL = "plugins/wazo_cisco_spa/v7_5_5/templates/SPA508G.tpl"
SNOM_ENTRY = "plugins/wazo_snom/v10_1_215_13/entry.py"


def diff_of(base: dict[str, bytes], head: dict[str, bytes]) -> ModelDiff:
    return compare_renders(ModelDiff("acme-1.0", "X1", "base"), base, head, MAC)


def test_equal_renders_differing_only_in_volatile_values_are_unchanged() -> None:
    base = {
        "000e08aabbcc.xml": b'<a><b port="127.0.0.1:4000">2024-01-02 10:00:00</b>\n</a>',
        "x.cfg": b"mac=00:0E:08:AA:BB:CC\r\n",
    }
    head = {
        "000e08aabbcc.xml": b'<a>\n  <b port="127.0.0.1:5000">2025-06-07 11:12:13</b></a>',
        "x.cfg": b"mac=00:0e:08:aa:bb:cc  \n",
    }
    diff = diff_of(base, head)
    assert diff.changes == []
    assert diff.unchanged == 2
    assert diff.summary() == "unchanged (2 file(s))"


def test_added_removed_and_changed_files_with_mac_names() -> None:
    base = {"000e08aabbcc.cfg": b"a=1\nb=2\n", "gone.txt": b"x\n"}
    head = {"000e08aabbcc.cfg": b"a=1\nb=3\n", "new.txt": b"y\n"}
    diff = diff_of(base, head)
    shown = {(c.name, c.status, c.line) for c in diff.changes}
    assert shown == {
        ("{MAC}.cfg", "changed", 2),
        ("gone.txt", "removed", None),
        ("new.txt", "added", 1),
    }
    changed = next(c for c in diff.changes if c.status == "changed")
    assert "-b=2\n+b=3\n" in changed.diff
    assert changed.diff.startswith("--- {MAC}.cfg (base)\n+++ {MAC}.cfg (working tree)\n")
    assert diff.summary() == "changed: {MAC}.cfg; added: new.txt; removed: gone.txt"
    assert (diff.count("changed"), diff.count("added"), diff.count("removed")) == (1, 1, 1)
    assert ModelDiff.from_json(diff.as_json()) == diff


def test_another_mac_than_the_devices_is_a_change() -> None:
    diff = diff_of({"a.cfg": b"peer=00:0e:08:aa:bb:cc\n"}, {"a.cfg": b"peer=00:0e:08:00:00:01\n"})
    assert [c.status for c in diff.changes] == ["changed"]


def test_binary_files_compare_by_content() -> None:
    same = diff_of({"f.bin": b"\xff\xfe\x00"}, {"f.bin": b"\xff\xfe\x00"})
    assert same.changes == []
    other = diff_of({"f.bin": b"\xff\xfe\x00"}, {"f.bin": b"\xff\xfe\x01"})
    assert "binary file, 3 B" in other.changes[0].diff


def test_long_diffs_are_cut_with_a_note() -> None:
    text = "".join(f"line {n}\n" for n in range(1000))
    kept = "".join(f"line {n}\n" for n in range(7))
    rest = text[len(kept) :]
    assert cap(text, 50, "diff") == kept + f"[… diff cut: 993 more line(s), {len(rest)} B]\n"
    assert cap(text, len(text), "diff") == text
    diff = diff_of({"a": b"1\n", "b": b"1\n"}, {"a": b"2\n" * 300, "b": b"2\n"})
    bounded(diff, 100)
    assert "[diff of a left out" in diff.changes[0].diff
    assert first_changed_line("a\nb\n", "a\nb\nc\n") == 3


# --- the gate on a two-commit repository -------------------------------------------------


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@t.invalid", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout


@pytest.fixture
def repo(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    shutil.copytree(DATA, pytester.path / "plugins")
    (pytester.path / ".gitignore").write_text(".cache/\nreport/\njunit.xml\n")
    git(pytester.path, "init", "-q", "-b", "main")
    git(pytester.path, "add", "-A")
    git(pytester.path, "commit", "-q", "-m", "base")
    return pytester.path


def commit(repo: Path, path: str, old: str, new: str) -> None:
    file = repo / path
    text = file.read_text()
    assert old in text, f"{old!r} not in {path}"
    file.write_text(text.replace(old, new, 1))
    git(repo, "commit", "-q", "-am", f"change {path}")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A subprocess: the diff items load plugins (see tests/conftest.py).
    return pytester.runpytest_subprocess(
        "--provd-plugin", "all", "--provd-base-ref", "HEAD~1", "-p", "no:cacheprovider", *args
    )


def test_one_template_line_shows_that_model_file_and_line_only(
    pytester: pytest.Pytester, repo: Path
) -> None:
    commit(repo, SPA508G_TPL, "<!-- SPA508G: 8 line keys -->", "<!-- SPA508G: 9 line keys -->")
    result = run(pytester, "--provd-diff", "-m", "provd_diff", "-rA", "--provd-report", "report")
    # Only the changed target has diff items; the item passes: the diff is information.
    result.assert_outcomes(passed=3)
    out = result.stdout.str()
    assert set(re.findall(r"^PASSED (\S+::diff)", out, re.MULTILINE)) == {
        "wazo-cisco-spa-7.5.5::SPA303::diff",
        "wazo-cisco-spa-7.5.5::SPA504G::diff",
        "wazo-cisco-spa-7.5.5::SPA508G::diff",
    }
    sections = re.findall(r"^(\S+) against HEAD~1: (.*)$", out, re.MULTILINE)
    assert sections == [("wazo-cisco-spa-7.5.5::SPA508G", "changed: {MAC}.xml")]
    changed = [line for line in out.splitlines() if re.match(r"^[-+]\s+<", line)]
    assert changed == ["-  <!-- SPA508G: 8 line keys -->", "+  <!-- SPA508G: 9 line keys -->"]
    result.stdout.fnmatch_lines(
        [
            "*= provd diff against HEAD~1 =*",
            "wazo-cisco-spa-7.5.5: 3 models, 1 files changed in 1 models, 0 added, 0 removed",
        ]
    )
    # The report shows the same diff, line by line, and frames the changed model alone.
    index = html.parse(str(repo / "report" / "index.html")).getroot()
    assert index.xpath("//a[contains(@class, 'changed')]/@data-model") == ["SPA508G"]
    page = html.parse(str(repo / "report" / "targets" / "wazo-cisco-spa-7.5.5.html")).getroot()
    (shown,) = page.xpath('//section[@id="m-SPA508G"]//details[@open]')
    assert shown.xpath("string(summary/code)") == "{MAC}.xml"
    lines = shown.xpath("string(pre)").splitlines()
    assert [line for line in lines if re.match(r"^[-+]\s+<", line)] == changed


def test_a_python_only_reformat_changes_no_file(pytester: pytest.Pytester, repo: Path) -> None:
    commit(repo, SNOM_ENTRY, "MODELS = [", "# the models this firmware supports\nMODELS  =  [")
    # Under xdist too: the summary is made from the workers' reports.
    result = run(pytester, "--provd-diff=fail", "--provd-changed", "-m", "provd_diff", "-n", "2")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        ["wazo-snom-10.1.215.13: 3 models, 0 files changed in 0 models, 0 added, 0 removed"]
    )
    result.stdout.no_fnmatch_line("*against HEAD~1: changed*")


def test_diff_fail_fails_on_a_change_with_the_diff(pytester: pytest.Pytester, repo: Path) -> None:
    commit(repo, SPA508G_TPL, "<!-- SPA508G: 8 line keys -->", "<!-- SPA508G: 9 line keys -->")
    result = run(pytester, "--provd-diff=fail", "--provd-changed", "-m", "provd_diff")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*SPA508G: {MAC}.xml changed since HEAD~1 (--provd-diff=fail)",
            "-  <!-- SPA508G: 8 line keys -->",
            "+  <!-- SPA508G: 9 line keys -->",
            "FAILED wazo-cisco-spa-7.5.5::SPA508G::diff*",
        ]
    )


def test_a_model_gone_from_entry_py_shows_its_files_removed(
    pytester: pytest.Pytester, repo: Path
) -> None:
    commit(repo, "plugins/wazo_cisco_spa/v7_5_5/entry.py", ", '508G']", "]")
    result = run(pytester, "--provd-diff", "--provd-changed", "-m", "provd_diff", "-rA")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "wazo-cisco-spa-7.5.5::SPA508G against HEAD~1: removed: {MAC}.xml (a removed model*",
            "wazo-cisco-spa-7.5.5: 3 models, 0 files changed in 0 models, 0 added, 1 removed",
        ]
    )


def test_diff_needs_a_base_ref_and_a_known_mode(pytester: pytest.Pytester, repo: Path) -> None:
    no_ref = pytester.runpytest("--provd-plugin", "all", "--provd-diff")
    assert no_ref.ret == pytest.ExitCode.USAGE_ERROR
    no_ref.stderr.fnmatch_lines(["*--provd-diff needs --provd-base-ref REF*"])
    bad = pytester.runpytest(
        "--provd-plugin", "all", "--provd-base-ref", "HEAD", "--provd-diff=warn"
    )
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*--provd-diff: unknown mode 'warn'*"])
