"""A stand-in for the few ``rsync`` features that plugin ``build.py`` files use.

Plugin builds call ``rsync -rlp [--include P | --exclude P]... SRC... DEST`` to copy a family's
``common/`` and version dirs into the built plugin.  Where the real rsync is missing (slim CI
images, macOS without Homebrew), this shim is put first on the build subprocess's PATH.  It
implements local copies with rsync's filter semantics (first matching rule wins, ``/`` anchors
at the transfer root, a trailing ``/`` matches directories only, ``*`` stops at ``/``, ``**``
does not) and the trailing-slash rule for sources; anything else is refused loudly so that a
build never silently differs from one made with the real tool.
"""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_SUPPORTED_SHORT = set("rlp")


class RsyncShimError(Exception):
    """Raised for a command line the shim does not implement."""


@dataclass(frozen=True)
class _Rule:
    include: bool
    pattern: str

    @property
    def anchored(self) -> bool:
        return self.pattern.startswith("/")

    @property
    def dir_only(self) -> bool:
        return self.pattern.endswith("/")

    def matches(self, rel: str, is_dir: bool) -> bool:
        """Whether this rule applies to *rel*, a path relative to the transfer root."""
        if self.dir_only and not is_dir:
            return False
        pattern = self.pattern.strip("/") if self.anchored else self.pattern.rstrip("/")
        regex = _compile(pattern)
        if self.anchored:
            return regex.fullmatch(rel) is not None
        if "/" in pattern:
            # An unanchored pattern with a slash matches a trailing run of path components.
            parts = rel.split("/")
            return any(regex.fullmatch("/".join(parts[i:])) is not None for i in range(len(parts)))
        return regex.fullmatch(rel.rsplit("/", 1)[-1]) is not None


def _compile(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                out.append(fnmatch.translate(pattern[i : end + 1])[4:-3])
                i = end + 1
                continue
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


@dataclass
class _Options:
    recursive: bool = False
    links: bool = False
    perms: bool = False


def _parse(argv: Sequence[str]) -> tuple[_Options, list[_Rule], list[str], str]:
    opts = _Options()
    rules: list[_Rule] = []
    paths: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--exclude", "--include"):
            if i + 1 >= len(args):
                raise RsyncShimError(f"{arg} needs a pattern")
            rules.append(_Rule(arg == "--include", args[i + 1]))
            i += 2
            continue
        if arg.startswith(("--exclude=", "--include=")):
            name, _, value = arg.partition("=")
            rules.append(_Rule(name == "--include", value))
        elif arg.startswith("--") or (arg.startswith("-") and len(arg) > 1):
            letters = arg[1:]
            unknown = set(letters) - _SUPPORTED_SHORT if not arg.startswith("--") else {arg}
            if unknown:
                raise RsyncShimError(
                    f"option {arg!r} is not implemented by pytest-provd's rsync shim "
                    "(supported: -r -l -p, --include, --exclude); install the real rsync"
                )
            opts.recursive |= "r" in letters
            opts.links |= "l" in letters
            opts.perms |= "p" in letters
        else:
            paths.append(arg)
        i += 1
    if len(paths) < 2:
        raise RsyncShimError("expected at least one source and a destination")
    return opts, rules, paths[:-1], paths[-1]


def _excluded(rules: Sequence[_Rule], rel: str, is_dir: bool) -> bool:
    for rule in rules:
        if rule.matches(rel, is_dir):
            return not rule.include
    return False


def _copy_entry(src: Path, dst: Path, opts: _Options) -> None:
    if src.is_symlink() and opts.links:
        if dst.is_symlink() or dst.exists():
            dst.unlink()
        os.symlink(os.readlink(src), dst)
        return
    if src.is_symlink():
        # Without -l real rsync skips symlinks ("skipping non-regular file").
        return
    shutil.copyfile(src, dst)
    if opts.perms:
        os.chmod(dst, stat.S_IMODE(src.stat().st_mode))


def _transfer(src: Path, root_name: str, dest: Path, opts: _Options, rules: list[_Rule]) -> None:
    """Copy *src* as *root_name* (``""`` for the contents of a ``src/`` argument) into *dest*."""
    if not src.is_dir() or (src.is_symlink() and opts.links):
        if not src.exists() and not src.is_symlink():
            raise RsyncShimError(f"source {src} does not exist")
        name = root_name or src.name
        if _excluded(rules, name, False):
            return
        target = dest / name if dest.is_dir() else dest
        _copy_entry(src, target, opts)
        return
    if not opts.recursive:
        raise RsyncShimError(f"{src} is a directory and -r was not given")
    base = dest / root_name if root_name else dest
    if root_name and _excluded(rules, root_name, True):
        return
    base.mkdir(parents=True, exist_ok=True)
    stack: list[tuple[Path, str]] = [(src, root_name)]
    while stack:
        directory, rel_dir = stack.pop()
        for entry in sorted(directory.iterdir()):
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            is_dir = entry.is_dir() and not entry.is_symlink()
            if _excluded(rules, rel, is_dir):
                continue
            target = dest / rel
            if is_dir:
                target.mkdir(exist_ok=True)
                if opts.perms:
                    os.chmod(target, stat.S_IMODE(entry.stat().st_mode))
                stack.append((entry, rel))
            else:
                _copy_entry(entry, target, opts)


def run(argv: Sequence[str]) -> None:
    """Run one rsync command line (without the program name)."""
    opts, rules, sources, dest_arg = _parse(argv)
    dest = Path(dest_arg)
    if len(sources) > 1 or sources[0].endswith("/"):
        dest.mkdir(parents=True, exist_ok=True)
    for source in sources:
        src = Path(source)
        contents_only = source.endswith("/")
        _transfer(src, "" if contents_only else src.name, dest, opts, rules)


def main() -> None:
    """Entry point of the shim script."""
    try:
        run(sys.argv[1:])
    except (RsyncShimError, OSError) as exc:
        print(f"rsync (pytest-provd shim): {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
