"""The testing → stable promotion check of the "Managing Plugins" procedure.

Inputs are plugin-server directories (``plugins.db`` + ``.tar.bz2`` files): the current
``stable``, the ``testing`` candidate and, optionally, the ``archive``.  Promotion is refused
when a stable plugin would disappear without being archived, when a changed plugin's version
does not increase, or when any directory's tarballs disagree with its ``plugins.db``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pytest_provd import versions
from pytest_provd.problems import Problem, SourceError

REQUIRED_KEYS = ("filename", "dsize", "sha1sum", "version", "description", "capabilities")


def load_db(server_dir: Path) -> dict[str, dict[str, Any]]:
    """Parse a server directory's ``plugins.db`` (SourceError with line on bad content)."""
    path = server_dir / "plugins.db"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(path, "missing: not a plugin server directory") from exc
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SourceError(path, "must be a JSON object mapping plugin ids to objects")
    return data


def check_server(server_dir: Path) -> list[Problem]:
    """Every plugins.db entry is complete and its tarball exists with that size and sha1."""
    problems: list[Problem] = []
    db_path = server_dir / "plugins.db"
    db = load_db(server_dir)
    listed = set()
    for plugin_id, entry in sorted(db.items()):
        missing = [key for key in REQUIRED_KEYS if key not in entry]
        if missing:
            problems.append(
                Problem(db_path, f"entry lacks {', '.join(missing)}", section=plugin_id)
            )
            continue
        filename = str(entry["filename"])
        listed.add(filename)
        tarball = server_dir / filename
        if "/" in filename or not tarball.is_file():
            problems.append(Problem(db_path, f"tarball {filename} is missing", section=plugin_id))
            continue
        data = tarball.read_bytes()
        if entry["dsize"] != len(data):
            problems.append(
                Problem(
                    db_path,
                    f"dsize {entry['dsize']!r} but {filename} has {len(data)} bytes",
                    section=plugin_id,
                    fix="rebuild plugins.db (pgbuild --db)",
                )
            )
        sha1 = hashlib.sha1(data).hexdigest()
        if entry["sha1sum"] != sha1:
            problems.append(
                Problem(
                    db_path,
                    f"sha1sum {entry['sha1sum']!r} but {filename} has {sha1}",
                    section=plugin_id,
                    fix="rebuild plugins.db (pgbuild --db)",
                )
            )
    for tarball in sorted(server_dir.glob("*.tar.bz2")):
        if tarball.name not in listed:
            problems.append(
                Problem(tarball, "tarball is not listed in plugins.db", fix="remove it or re-index")
            )
    return problems


def check_promotion(stable: Path, testing: Path, archive: Path | None = None) -> list[Problem]:
    """All problems that should stop copying *testing* over *stable*."""
    problems = check_server(stable) + check_server(testing)
    if archive is not None:
        problems += check_server(archive)
    stable_db, testing_db = load_db(stable), load_db(testing)
    archive_db = load_db(archive) if archive is not None else {}
    for plugin_id, entry in sorted(stable_db.items()):
        candidate = testing_db.get(plugin_id)
        if candidate is None:
            if plugin_id not in archive_db:
                problems.append(
                    Problem(
                        testing / "plugins.db",
                        f"stable plugin {plugin_id} {entry.get('version')} disappears "
                        "without being archived",
                        section=plugin_id,
                        fix="keep it in testing, or move its tarball to the archive",
                    )
                )
            continue
        if candidate.get("sha1sum") == entry.get("sha1sum"):
            continue
        old, new = str(entry.get("version")), str(candidate.get("version"))
        try:
            newer = versions.compare(new, old) > 0
        except versions.VersionError as exc:
            problems.append(Problem(testing / "plugins.db", str(exc), section=plugin_id))
            continue
        if not newer:
            problems.append(
                Problem(
                    testing / "plugins.db",
                    f"{plugin_id} changed but its version does not increase "
                    f"(stable {old}, testing {new})",
                    section=plugin_id,
                    fix="bump the version in the plugin's plugin-info",
                )
            )
    return problems
