"""``pkgs-db``: the target's ``pkgs/pkgs.db`` parses and passes :func:`pkgsdb.check`."""

from __future__ import annotations

import dataclasses

from pytest_provd import pkgsdb
from pytest_provd.checks._base import CheckContext
from pytest_provd.checks._facts import parsed_pkgs_db
from pytest_provd.problems import Problem, SourceError

PKGS_DB = "pkgs/pkgs.db"


def check_pkgs_db(ctx: CheckContext) -> list[Problem]:
    """Parse and check pkgs.db; a missing one fails only when every sibling target has one."""
    path = ctx.source_file(PKGS_DB)
    if path is None:
        built = ctx.built_dir() / PKGS_DB
        path = built if built.is_file() else None
    if path is None:
        return _missing(ctx)
    shown = ctx.rel(path)
    try:
        db = parsed_pkgs_db(ctx.target, path)
    except SourceError as exc:
        return [Problem(shown, exc.message, exc.line, fix="fix the pkgs.db syntax on that line")]
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem(shown, f"cannot be read: {exc}", fix="restore pkgs/pkgs.db")]
    return [
        dataclasses.replace(p, path=shown) if str(p.path) in (str(path), str(db_path(db))) else p
        for p in pkgsdb.check(db)
    ]


def db_path(db: object) -> str:
    """The path a parsed db remembers (best effort across pkgsdb versions)."""
    return str(getattr(db, "path", ""))


def _missing(ctx: CheckContext) -> list[Problem]:
    siblings = [t for t in ctx.family.targets.values() if t.plugin_id != ctx.target.plugin_id]
    with_db = [t for t in siblings if t.source_dir and (t.source_dir / PKGS_DB).is_file()]
    if not siblings or len(with_db) < len(siblings):
        return []
    where = ctx.target.source_dir or ctx.family.path
    return [
        Problem(
            ctx.rel(where),
            f"has no {PKGS_DB}, while all {len(siblings)} other targets of {ctx.family.name} "
            "have one",
            fix=f"copy {PKGS_DB} from {ctx.rel(with_db[-1].source_dir or where)} and update its "
            "versions, URIs, sizes and sha1sums",
        )
    ]
