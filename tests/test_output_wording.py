"""Provision problems in plain words: unit tests of the wording, and one phone on the wire."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_provd.report import wording
from pytest_provd.report.identity import Normaliser

DATA = Path(__file__).parent / "data" / "current" / "plugins"


@dataclass
class Fetch:
    proto: str
    path: str
    status: int
    size: int


@dataclass
class Line:
    username: str | None
    display_name: str | None


FETCHES = [Fetch("http", "/a.xml", 200, 1234), Fetch("http", "/b.xml", 404, 0)]
PUSHED = {"username": "alice1001", "display_name": "Alice"}


@pytest.mark.parametrize(
    ("line", "has"),
    [
        (None, "the phone has no line 1"),
        (Line(None, "Alice"), "the phone's line 1 has no user (display name 'Alice')"),
        (Line("bob1002", "Bob"), "the phone has user bob1002 ('Bob') on line 1"),
    ],
)
def test_line_problem_says_expected_had_and_fetched(line: Line | None, has: str) -> None:
    assert wording.line_problem("D785", "1", PUSHED, line, FETCHES) == (
        f"D785: line 1: expected user alice1001 ('Alice') registered; {has}; "
        "it fetched: a.xml (200, 1234 B), b.xml (404)"
    )


def test_fetch_lists_are_bounded_and_nothing_is_said() -> None:
    many = [Fetch("tftp", f"f{n}.cfg", 404, 0) for n in range(12)]
    assert wording.fetched(many).endswith("f7.cfg (404) and 4 more")
    assert wording.fetched([]) == "it fetched nothing"
    again = [*FETCHES, Fetch("http", "/a.xml", 200, 1234)]
    assert wording.fetched(again) == "it fetched: a.xml (200, 1234 B), b.xml (404)"
    assert wording.nothing_fetched("T1", many[:1]) == (
        "T1: the phone fetched no file successfully, so none could be checked; "
        "it fetched: f0.cfg (404)"
    )
    assert wording.call_manager_problem("7940", "127.0.0.9", None, []) == (
        "7940: call manager 1: expected 127.0.0.9 pushed; the phone has none; it fetched nothing"
    )


def test_fetch_sizes_do_not_change_a_fingerprint(tmp_path: Path) -> None:
    norm = Normaliser(tmp_path)
    one = wording.line_problem("D785", "1", PUSHED, None, FETCHES)
    two = wording.line_problem("D785", "1", PUSHED, None, [Fetch("http", "/a.xml", 200, 99)])
    assert norm.text(one).replace(", b.xml (404)", "") == norm.text(two)


def test_a_missing_line_reads_in_plain_words_on_the_wire(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_PROVD_CACHE", str(pytester.path / ".cache"))
    monkeypatch.setenv("COLUMNS", "400")
    shutil.copytree(DATA, pytester.path / "plugins")
    base = pytester.path / "plugins" / "wazo_snom" / "common" / "templates" / "base.tpl"
    old = "{{ line.username|e }}</user_name>"
    assert old in base.read_text()
    base.write_text(
        base.read_text().replace(old, "{{ line.username|e if line_no == 1 }}</user_name>")
    )
    result = pytester.runpytest_subprocess(
        "--provd-plugin", "wazo-snom-10.1.215.13", "-k", "D785 and provision", "-rf"
    )
    result.assert_outcomes(failed=1, passed=1)  # provision; fetched-wellformed passes
    result.stdout.fnmatch_lines(
        [
            "the phone runs firmware *",
            "FAILED wazo-snom-10.1.215.13::D785::provision - *: D785: line 2: expected user "
            "bob1002 (*) registered; the phone's line 2 has no user (display name *); "
            "it fetched: *(200, * B)*",
        ]
    )


@dataclass
class _State:
    fetches: list[Fetch]


@dataclass
class _Phone:
    needs_synchronize: bool


@dataclass
class _Booted:
    state: _State
    phone: _Phone


class _Run:
    where = Path("plugins/wazo_x/v1")

    def load(self) -> list[object]:
        return []


@pytest.mark.parametrize("push", [False, True])
def test_fetched_wellformed_with_nothing_fetched_is_no_pass(
    monkeypatch: pytest.MonkeyPatch, push: bool
) -> None:
    from pytest_provd.tiers import provision

    booted = _Booted(_State([Fetch("tftp", "x.cfg", 404, 0)]), _Phone(push))
    monkeypatch.setattr(provision, "boot", lambda run, model: booted)
    if push:
        with pytest.raises(pytest.skip.Exception, match="synchronize and fetched no file"):
            provision.check_fetched_wellformed(_Run(), "T1")  # type: ignore[arg-type]
        return
    (problem,) = provision.check_fetched_wellformed(_Run(), "T1")  # type: ignore[arg-type]
    assert problem.message == (
        "T1: the phone fetched no file successfully, so none could be checked; "
        "it fetched: x.cfg (404)"
    )
