"""Which files a step wrote under a directory (by stat, then by content)."""

from __future__ import annotations

from pathlib import Path

Stamp = dict[str, tuple[int, int]]


def stamp(root: Path) -> Stamp:
    """``{relative posix path: (mtime_ns, size)}`` of every regular file under *root*."""
    if not root.is_dir():
        return {}
    out: Stamp = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            out[path.relative_to(root).as_posix()] = (st.st_mtime_ns, st.st_size)
    return out


def written(root: Path, before: Stamp, *, outside_tftpboot: bool = False) -> dict[str, bytes]:
    """The files under *root* created or rewritten since *before* was taken; with
    *outside_tftpboot* (*root* a plugin directory), those not under ``var/tftpboot`` (which
    the renders compare) nor bytecode caches."""
    after = stamp(root)
    return {
        name: (root / name).read_bytes()
        for name in sorted(after)
        if before.get(name) != after[name]
        and not (outside_tftpboot and (name.startswith("var/tftpboot/") or "__pycache__/" in name))
    }


def read_all(root: Path) -> dict[str, bytes]:
    """Every regular file under *root*."""
    return {name: (root / name).read_bytes() for name in sorted(stamp(root))}
