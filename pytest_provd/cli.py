"""``provd-harness``: the gate (``check``), the repository's builder (``build``, ``package``),
``promote-check``, ``serve`` and ``fidelity``, around the pytest plugin."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_provd import tree
from pytest_provd.problems import SourceError
from pytest_provd.tree.promotion import check_promotion


def _plugins_dir(value: str | None) -> Path:
    found = Path(value).resolve() if value else tree.find_plugins_dir(Path.cwd())
    if found is None or not found.is_dir():
        raise SystemExit("provd-harness: no plugins directory; pass --plugins-dir DIR")
    return found


def _select(plugins_dir: Path, patterns: Sequence[str]) -> list[tree.Target]:
    found = tree.discover(plugins_dir)
    for problem in found.errors:
        print(f"warning: {problem}", file=sys.stderr)
    try:
        return found.select(patterns)
    except tree.UnknownTargetError as exc:
        raise SystemExit(f"provd-harness: {exc}") from exc


def _cmd_check(args: argparse.Namespace) -> int:
    # pytest and the embedded server (serve) load only for the subcommands that run them.
    import pytest

    argv = [f"--provd-plugin={p}" for p in args.plugin]
    if args.plugins_dir:
        argv.append(f"--provd-plugins-dir={args.plugins_dir}")
    if args.base_ref:
        argv.append(f"--provd-base-ref={args.base_ref}")
    return int(pytest.main([*argv, *args.pytest_args]))


# check's own options; every other argument goes to pytest, in its order.
_CHECK_OPTIONS = ("--plugins-dir", "--plugin", "--base-ref")


def _split_check_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """``check``'s arguments → (ours, pytest's): ``check --plugin x -q -k foo`` needs no ``--``.

    A ``--`` ends our options; what follows it goes to pytest whole.
    """
    ours: list[str] = []
    theirs: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            theirs += argv[i + 1 :]
            break
        name = arg.split("=", 1)[0]
        if arg in ("-h", "--help"):
            ours.append(arg)
        elif name in _CHECK_OPTIONS:
            ours.append(arg)
            if "=" not in arg and i + 1 < len(argv):
                i += 1
                ours.append(argv[i])
        else:
            theirs.append(arg)
        i += 1
    return ours, theirs


def _cmd_build(args: argparse.Namespace) -> int:
    for target in _select(_plugins_dir(args.plugins_dir), args.plugin):
        print(tree.build(target, Path(args.out)))
    return 0


def _cmd_package(args: argparse.Namespace) -> int:
    targets = _select(_plugins_dir(args.plugins_dir), args.plugin)
    out = tree.make_plugin_server(targets, Path(args.out))
    print(f"plugin server with {len(targets)} plugin(s): {out}")
    return 0


def _cmd_promote_check(args: argparse.Namespace) -> int:
    archive = Path(args.archive) if args.archive else None
    problems = check_promotion(Path(args.stable), Path(args.testing), archive)
    for problem in problems:
        print(problem)
    print(f"{len(problems)} problem(s)" if problems else "promotion check passed")
    return 1 if problems else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from pytest_provd.serve import serve  # aiohttp and the provd server: slow to import

    targets = _select(_plugins_dir(args.plugins_dir), args.plugin)
    return serve(
        targets,
        bind=args.bind,
        rest_port=args.rest_port,
        http_port=args.http_port,
        tftp_port=args.tftp_port,
        duration=args.duration,
    )


def _cmd_fidelity(args: argparse.Namespace) -> int:
    # The fidelity runner (and through it the checks) loads only for this subcommand.
    from pytest_provd.fidelity.cli import run_command

    targets = _select(_plugins_dir(args.plugins_dir), args.plugin)
    return run_command(targets, args)


_DESCRIPTION = (
    "The command line around the pytest-provd plugin, run from a wazo-provd-plugins checkout. "
    "'provd-harness COMMAND -h' shows a command's options."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="provd-harness",
        description=_DESCRIPTION,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")

    def add(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text)

    def with_tree(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--plugins-dir",
            metavar="DIR",
            help="the plugin families directory (default: a plugins/ dir holding */build.py "
            "under the current directory)",
        )
        p.add_argument(
            "--plugin",
            action="append",
            required=True,
            metavar="ID",
            help="plugin id, glob (wazo-snom-*) or 'all'; repeatable",
        )

    check = add(
        "check",
        "run the generated suite (pytest) for plugins; any argument not listed here goes to "
        "pytest (provd-harness check --plugin all -q -n 2)",
    )
    with_tree(check)
    check.add_argument(
        "--base-ref", metavar="REF", help="git ref for the version-bump rule (--provd-base-ref)"
    )
    check.add_argument(
        "pytest_args", nargs="*", metavar="PYTEST_ARG", help="arguments passed on to pytest"
    )
    check.set_defaults(func=_cmd_check)

    build = add("build", "build plugins into a directory")
    with_tree(build)
    build.add_argument("--out", required=True, metavar="DIR", help="where the built plugin dirs go")
    build.set_defaults(func=_cmd_build)

    package = add("package", "build a plugin server dir (tarballs + plugins.db)")
    with_tree(package)
    package.add_argument(
        "--out", required=True, metavar="DIR", help="the plugin server directory to write"
    )
    package.set_defaults(func=_cmd_package)

    promote = add("promote-check", "may testing be copied over stable?")
    promote.add_argument(
        "--stable", required=True, metavar="DIR", help="the stable plugin server directory"
    )
    promote.add_argument(
        "--testing", required=True, metavar="DIR", help="the testing plugin server directory"
    )
    promote.add_argument(
        "--archive",
        metavar="DIR",
        help="the archive plugin server directory (a stable plugin that disappears must be here)",
    )
    promote.set_defaults(func=_cmd_promote_check)

    serve = add("serve", "run the embedded provd for a real phone")
    with_tree(serve)
    serve.add_argument("--bind", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    for proto in ("rest", "http", "tftp"):
        serve.add_argument(
            f"--{proto}-port",
            type=int,
            default=0,
            metavar="PORT",
            help=f"{proto.upper()} port (default: a free one)",
        )
    serve.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop after SECONDS (default: until Ctrl-C)",
    )
    serve.set_defaults(func=_cmd_serve)

    fidelity = add(
        "fidelity", "render on the installed wazo_provd and on the embedded provd; compare"
    )
    with_tree(fidelity)
    fidelity.add_argument(
        "--python", metavar="PATH", help="interpreter that has wazo_provd (default: this one)"
    )
    fidelity.add_argument(
        "--matrix",
        choices=("gate", "builtin"),
        default="gate",
        help="gate: each model under the configs its <model>::matrix item renders, and the "
        "default (the default); builtin: the sample config, 4 timezones, 3 locales, features",
    )
    fidelity.add_argument(
        "--configs",
        metavar="FILE",
        help="JSON list of {label, raw_config} every model renders (instead of --matrix)",
    )
    fidelity.add_argument(
        "--json", metavar="FILE", help="write the full report (with diffs) to this file"
    )
    fidelity.add_argument(
        "--keep", metavar="DIR", help="keep jobs, logs and both sides' state in this dir"
    )
    fidelity.add_argument("--no-diffs", action="store_true", help="list files, no diffs")
    fidelity.set_defaults(func=_cmd_fidelity)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``provd-harness`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["check"]:
        ours, theirs = _split_check_args(argv[1:])
        args = build_parser().parse_args(["check", *ours])
        args.pytest_args = theirs
    else:
        args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except SourceError as exc:
        print(f"provd-harness: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
