"""``provd-harness`` help reads as plain text, documents every option, and ``check`` hands
whatever it does not know to pytest, in order, with or without ``--``."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from pytest_provd import cli


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_help_has_no_rst_markup_and_names_every_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "from pytest_provd.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for markup in ("``", ":mod:", ":func:", ":class:"):
        assert markup not in proc.stdout
    for command in subparsers():
        assert command in proc.stdout
    for name, parser in subparsers().items():
        text = parser.format_help()
        assert "``" not in text, name


@pytest.mark.parametrize("command", sorted(subparsers()))
def test_every_option_has_help(command: str) -> None:
    parser = subparsers()[command]
    assert parser.description, command
    undocumented = [
        action.option_strings or action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert undocumented == []


@pytest.mark.parametrize(
    ("argv", "ours", "theirs"),
    [
        (["--plugin", "x", "-q"], ["--plugin", "x"], ["-q"]),
        (["-q", "--plugin=x", "-k", "foo", "tests"], ["--plugin=x"], ["-q", "-k", "foo", "tests"]),
        (
            ["--plugin", "a", "-n", "2", "--base-ref", "origin/master", "--plugin", "b"],
            ["--plugin", "a", "--base-ref", "origin/master", "--plugin", "b"],
            ["-n", "2"],
        ),
        # After --, everything is pytest's, even an option named like ours.
        (
            ["--plugin", "x", "--", "-q", "--plugin", "y"],
            ["--plugin", "x"],
            ["-q", "--plugin", "y"],
        ),
    ],
)
def test_check_splits_its_arguments_from_pytests(
    argv: list[str], ours: list[str], theirs: list[str]
) -> None:
    assert cli._split_check_args(argv) == (ours, theirs)


def test_check_runs_pytest_with_the_extra_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def fake_main(args: list[str]) -> int:
        seen.append(args)
        return 3

    monkeypatch.setattr(pytest, "main", fake_main)
    code = cli.main(["check", "--plugin", "wazo-snom-*", "-q", "--base-ref", "HEAD~1", "-x"])
    assert code == 3
    assert seen == [["--provd-plugin=wazo-snom-*", "--provd-base-ref=HEAD~1", "-q", "-x"]]


def test_check_without_plugin_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", "-q"])
    assert exc.value.code == 2
    assert "--plugin" in capsys.readouterr().err
