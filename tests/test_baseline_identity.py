"""Stable failure identity and the baseline file format, without running pytest inside."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

import pytest_provd
from pytest_provd.problems import Problem, ProvdCheckFailed, SourceError, read_source_line
from pytest_provd.report import baseline as baseline_mod
from pytest_provd.report.baseline import Baseline, Failure
from pytest_provd.report.identity import Normaliser


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    entry = tmp_path / "repo" / "plugins" / "wazo_x" / "v1" / "entry.py"
    entry.parent.mkdir(parents=True)
    entry.write_text("# header\n\nMODELS = ['T1', 'T9']\n")
    return tmp_path / "repo"


def test_volatile_values_become_placeholders(repo: Path) -> None:
    norm = Normaliser(repo)
    tmp = tempfile.gettempdir()
    text = (
        f"{repo}/plugins/wazo_x/v1/entry.py: cannot open '{tmp}/pytest-provd-k3j2/provd/a.cfg' "
        f"from {Path(pytest_provd.__file__).parent}/compat/x.py and {sys.prefix}/bin/python "
        "via http://127.0.0.1:43817/x and localhost:8667, phone 00:0b:82:10:23:28 "
        "asked SEP000B82102328.cnf.xml"
    )
    assert norm.text(text) == (
        "plugins/wazo_x/v1/entry.py: cannot open '<tmp>/provd/a.cfg' from "
        "<pytest_provd>/compat/x.py and <venv>/bin/python via http://127.0.0.1:<PORT>/x and "
        "localhost:<PORT>, phone <MAC> asked SEP<MAC>.cnf.xml"
    )


def test_pytest_basetemp_numbers_do_not_count(repo: Path) -> None:
    norm = Normaliser(repo)
    tmp = tempfile.gettempdir()
    one = norm.text(f"{tmp}/pytest-of-ci/pytest-12/test_a0/x.cfg")
    two = norm.text(f"{tmp}/pytest-of-ci/pytest-13/test_a0/x.cfg")
    assert one == two == "<tmp>/test_a0/x.cfg"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MODELS of plugins/x/entry.py:21; did", "MODELS of plugins/x/entry.py:#; did"),
        ("MODEL_VERSIONS (lines 23, 24, 25) is 8", "MODEL_VERSIONS (lines #) is 8"),
        ("[pkg_a] line 40 has 1.2", "[pkg_a] line # has 1.2"),
        ("duplicate section (first at line 12)", "duplicate section (first at line #)"),
        ("keys in plugin-info (line 7) to 2", "keys in plugin-info (line #) to 2"),
        ("VERSION in entry.py line 9", "VERSION in entry.py line #"),
        ("tag mismatch: a line 3 and b", "tag mismatch: a line # and b"),
        # Not source lines: a phone's line, a version, a count.
        ("line 1: expected user alice1001", "line 1: expected user alice1001"),
        ("version 1.4.5.7/SCCP (3 of 5 targets)", "version 1.4.5.7/SCCP (3 of 5 targets)"),
    ],
)
def test_source_line_references_in_messages(repo: Path, text: str, expected: str) -> None:
    assert Normaliser(repo).text(text) == expected


def test_identity_follows_the_line_content_not_its_number(repo: Path) -> None:
    norm = Normaliser(repo)
    entry = repo / "plugins" / "wazo_x" / "v1" / "entry.py"
    before = Problem(entry, "model 'T9' in MODELS has no capability", 3)
    assert before.source == "MODELS = ['T1', 'T9']"
    entry.write_text("# a longer\n# license\n# header\n\nMODELS = ['T1', 'T9']\n")
    after = Problem(entry, "model 'T9' in MODELS has no capability", 5)
    first, second = norm.identify(before, "models[T9]"), norm.identify(after, "models[T9]")
    assert first.fingerprint == second.fingerprint
    assert first.file == "plugins/wazo_x/v1/entry.py"
    assert first.source == "MODELS = ['T1', 'T9']"
    other_rule = norm.identify(before, "models[T1]")
    assert other_rule.fingerprint != first.fingerprint
    entry.write_text("MODELS = ['T1', 'T9', 'T10']\n")
    changed = norm.identify(Problem(entry, "model 'T9' in MODELS has no capability", 1), "x")
    assert changed.fingerprint != norm.identify(before, "x").fingerprint


def test_relative_paths_read_their_line_from_the_repository(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not the repository: a relative path means the repository's
    problem = Problem("plugins/wazo_x/v1/entry.py", "m", 3)
    assert problem.source is None
    assert Normaliser(repo).source(problem) == "MODELS = ['T1', 'T9']"


def test_the_same_defect_in_two_checkouts_has_one_fingerprint(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "elsewhere" / "checkout"
    copy.parent.mkdir()
    repo.rename(copy)
    problems = [
        Problem(copy / "plugins/wazo_x/v1/entry.py", f"bad in {copy}/plugins/wazo_x", 3),
        Problem("plugins/wazo_x/v1/entry.py", "relative", 3),
    ]
    there = [Normaliser(copy).identify(p, "r").fingerprint for p in problems]
    copy.rename(repo)
    monkeypatch.chdir(repo / "plugins")
    problems = [
        Problem(repo / "plugins/wazo_x/v1/entry.py", f"bad in {repo}/plugins/wazo_x", 3),
        Problem("plugins/wazo_x/v1/entry.py", "relative", 3),
    ]
    assert [Normaliser(repo).identify(p, "r").fingerprint for p in problems] == there


def test_unreadable_sources_have_no_line_text(tmp_path: Path) -> None:
    assert read_source_line(tmp_path / "missing", 1) is None
    (tmp_path / "f").write_text("one\n")
    assert read_source_line(tmp_path / "f", 2) is None
    assert read_source_line(tmp_path / "f", 1) == "one"
    assert Problem("wazo-x/var/tftpboot/a.xml", "not well-formed XML", 3).source is None


def _failure(norm: Normaliser, nodeid: str, *problems: Problem) -> Failure:
    entries = [norm.identify(p, nodeid.rpartition("::")[2]).as_json() for p in problems]
    return Failure(nodeid, entries)


def test_version_2_file_is_sorted_stable_and_round_trips(repo: Path, tmp_path: Path) -> None:
    norm = Normaliser(repo)
    entry = repo / "plugins" / "wazo_x" / "v1" / "entry.py"
    failures = [
        _failure(norm, "x-1::models[T9]", Problem(entry, "b", 3), Problem(entry, "a", 3)),
        _failure(norm, "x-1::load", Problem(entry, "boom", None, section="s")),
    ]
    path = tmp_path / "base.json"
    baseline_mod.write(path, failures)
    text = path.read_text()
    baseline_mod.write(path, list(reversed(failures)))
    assert path.read_text() == text
    data = json.loads(text)
    assert data["version"] == 2
    assert list(data["failures"]) == ["x-1::load", "x-1::models[T9]"]
    assert [e["message"] for e in data["failures"]["x-1::models[T9]"]] == ["a", "b"]
    assert data["failures"]["x-1::load"][0]["section"] == "s"
    loaded = Baseline.load(path)
    assert all(loaded.covers(f) for f in failures)
    one_more = _failure(norm, "x-1::load", Problem(entry, "boom", None, section="s"))
    one_more.entries.append(norm.identify(Problem(entry, "new", 3), "load").as_json())
    assert not loaded.covers(one_more)
    assert not loaded.covers(_failure(norm, "x-2::load", Problem(entry, "boom", None)))


def test_version_1_files_still_match_with_volatile_values_normalised(
    repo: Path, tmp_path: Path
) -> None:
    plugins = repo / "plugins"
    tmp = tempfile.gettempdir()

    def failure(workdir: str, line: int) -> Failure:
        problem = Problem(plugins / "wazo_x/v1/entry.py", f"no file '{tmp}/{workdir}/a.cfg'", line)
        exc = ProvdCheckFailed([problem])
        return Failure("x-1::configure", [], baseline_mod.reasons_of(exc, "", plugins))

    old = failure("pytest-provd-aaaa", 3)
    path = tmp_path / "v1.json"
    path.write_text(json.dumps({"version": 1, "failures": {old.nodeid: old.reasons}}))
    loaded = Baseline.load(path, Normaliser(repo))
    assert loaded.version == 1
    assert loaded.covers(failure("pytest-provd-bbbb", 5))
    other = failure("pytest-provd-bbbb", 5)
    other.reasons.append("wazo_x/v1/entry.py:9: another defect")
    assert not loaded.covers(other)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{nope", "invalid JSON"),
        ('{"version": 3, "failures": {}}', "found 3"),
        ('{"version": 2, "failures": []}', '"failures" must map'),
        ('{"version": 2, "failures": {"a": [{"file": "x"}]}}', '"fingerprint" string'),
        ('{"version": 1, "failures": {"a": [1]}}', "reasons are strings"),
    ],
)
def test_bad_baseline_files_are_named(tmp_path: Path, content: str, said: str) -> None:
    path = tmp_path / "base.json"
    path.write_text(content)
    with pytest.raises(SourceError, match=said) as raised:
        Baseline.load(path)
    assert str(path) in str(raised.value)


def test_shown_text_replaces_only_what_differs_between_runs(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    norm = Normaliser(repo)
    text = (
        f"{repo}/plugins/x/common.py:60: GET http://127.0.0.1:43121/cfg000B82100006.xml "
        "failed; copy in /tmp/pytest-provd-k3j2/wire/x.cfg, line 7; provd at "
        "http://127.0.0.1:8666/provd; firmware from /tmp/fw/a.zip"
    )
    # The user's own port and paths stay; the harness's scratch dirs and kernel ports go.
    assert norm.volatile(text) == (
        "plugins/x/common.py:60: GET http://127.0.0.1:<PORT>/cfg000B82100006.xml failed; "
        "copy in <tmp>/wire/x.cfg, line 7; provd at http://127.0.0.1:8666/provd; firmware "
        "from /tmp/fw/a.zip"
    )
