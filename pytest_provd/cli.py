"""``provd-harness``: the command line around the pytest plugin.

Subcommands: ``check`` (the gate, i.e. pytest with ``--provd-plugin``), ``build`` and
``package`` (the plugins repository's builder, reproducibly), ``promote-check`` (testing →
stable), ``serve`` (the embedded provd with the working tree's plugin, for a desk phone) and
``fidelity`` (render on the installed wazo_provd and on the embedded provd, and compare).
"""

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(prog="provd-harness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_tree(p: argparse.ArgumentParser) -> None:
        p.add_argument("--plugins-dir", help="plugins/ directory (default: autodetect)")
        p.add_argument("--plugin", action="append", required=True, help="id, glob or 'all'")

    check = sub.add_parser("check", help="run the generated suite (pytest) for plugins")
    with_tree(check)
    check.add_argument("--base-ref", help="git ref for the version-bump rule")
    check.add_argument("pytest_args", nargs=argparse.REMAINDER, help="more pytest arguments")
    check.set_defaults(func=_cmd_check)

    build = sub.add_parser("build", help="build plugins into a directory")
    with_tree(build)
    build.add_argument("--out", required=True)
    build.set_defaults(func=_cmd_build)

    package = sub.add_parser("package", help="build a plugin server dir (tarballs + plugins.db)")
    with_tree(package)
    package.add_argument("--out", required=True)
    package.set_defaults(func=_cmd_package)

    promote = sub.add_parser("promote-check", help="may testing be copied over stable?")
    promote.add_argument("--stable", required=True)
    promote.add_argument("--testing", required=True)
    promote.add_argument("--archive")
    promote.set_defaults(func=_cmd_promote_check)

    serve = sub.add_parser("serve", help="run the embedded provd for a real phone")
    with_tree(serve)
    serve.add_argument("--bind", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--rest-port", type=int, default=0)
    serve.add_argument("--http-port", type=int, default=0)
    serve.add_argument("--tftp-port", type=int, default=0)
    serve.add_argument(
        "--duration", type=float, default=None, help="stop after SECONDS (default: until Ctrl-C)"
    )
    serve.set_defaults(func=_cmd_serve)

    fidelity = sub.add_parser(
        "fidelity", help="render on the installed wazo_provd and on the embedded provd; compare"
    )
    with_tree(fidelity)
    fidelity.add_argument("--python", help="interpreter that has wazo_provd (default: this one)")
    fidelity.add_argument(
        "--configs", help="JSON list of {label, raw_config} (default: the built-in matrix)"
    )
    fidelity.add_argument("--json", help="write the full report (with diffs) to this file")
    fidelity.add_argument("--keep", help="keep jobs, logs and both sides' state in this dir")
    fidelity.add_argument("--no-diffs", action="store_true", help="list files, no diffs")
    fidelity.set_defaults(func=_cmd_fidelity)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``provd-harness`` script."""
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except SourceError as exc:
        print(f"provd-harness: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
