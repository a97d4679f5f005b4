"""Firmware-version facts of a target and the conventions its family follows.

The "update firmware" procedure keeps one version in four places: ``entry.py`` (``VERSION``
or a per-model map), the ``plugin-info`` capability keys, the ``pkgs.db`` packages and the
``build.py`` target id.  Families differ in how strictly they follow this (Cisco SIP spells
versions differently in entry.py and plugin-info; Yealink targets are named ``v87``), so a
relation is enforced for a family only when most of its targets follow it; families with
fewer than :data:`SMALL_FAMILY` applicable targets are held to every relation.
"""

from __future__ import annotations

import errno
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_provd import pkgsdb
from pytest_provd import tree as tree_mod
from pytest_provd.capabilities import covers
from pytest_provd.checks._base import PluginInfo, load_plugin_info
from pytest_provd.checks._entry import EntryInfo, read_entry
from pytest_provd.problems import SourceError

SMALL_FAMILY = 3
RELATIONS = ("entry-capabilities", "capabilities-pkgs", "target-id", "plugin-id")


def version_tokens(version: str) -> tuple[str | int, ...]:
    """Comparable tokens: ``"04.01.13.00"`` → ``(4, 1, 13)``, ``"6.1.5(a)"`` → ``(6, 1, 5, 'a')``.

    A protocol suffix (``9.4.2SR1/SCCP``, as Cisco capability keys write it) is ignored.
    """
    text = re.sub(r"/(sip|sccp)$", "", version.lower())
    tokens: list[str | int] = [
        int(tok) if tok.isdigit() else tok for tok in re.findall(r"\d+|[a-z]+", text)
    ]
    while len(tokens) > 1 and tokens[-1] == 0:
        tokens.pop()
    return tuple(tokens)


def same_version(a: str, b: str) -> bool:
    """Equal up to case, separators, leading zeros and trailing ``.0`` components."""
    return version_tokens(a) == version_tokens(b)


def target_version(target_id: str) -> str | None:
    """The version in a build target id (``spa8000-6.1.11`` → ``6.1.11``), if it has one."""
    candidates = [target_id] + [
        target_id[m.end() :] for m in re.finditer("-", target_id) if m.end() < len(target_id)
    ]
    for text in candidates:
        if text[:1].isdigit() and len(re.findall(r"\d+", text)) >= 2:
            return text
    return None


def matches_target(target_ver: str, version: str) -> bool:
    """The target id names *version*: its tokens start *version*'s, suffixes like -SP4 aside."""
    full = tuple(
        int(tok) if tok.isdigit() else tok for tok in re.findall(r"\d+|[a-z]+", target_ver.lower())
    )
    have = tuple(
        int(tok) if tok.isdigit() else tok for tok in re.findall(r"\d+|[a-z]+", version.lower())
    )
    if have[: len(full)] == full or same_version(target_ver, version):
        return True
    release: list[str | int] = []
    for tok in full:
        if isinstance(tok, str) and len(release) >= 2:
            break
        release.append(tok)
    return have[: len(release)] == tuple(release)


@dataclass
class PkgVersion:
    """One ``[pkg_*]`` section's version and where it is written."""

    name: str
    version: str
    line: int | None


@dataclass
class TargetFacts:
    """Where a target writes its firmware version(s)."""

    target: tree_mod.Target
    entry: EntryInfo | None
    info: PluginInfo | None
    pkgs_path: Path | None
    pkgs: list[PkgVersion] | None
    relations: dict[str, bool | None] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """What checks work out from these facts alone, kept as long as the facts are."""

    @property
    def target_version(self) -> str | None:
        """The version in the target id, if it has one."""
        return target_version(self.target.target_id)

    def capability_versions(self) -> dict[str, list[tuple[str, str]]]:
        """``{model: [(version, key)]}`` of the well-formed capabilities."""
        if self.info is None:
            return {}
        known = self.derived.get("capability_versions")
        if known is None:
            known = self.derived["capability_versions"] = {
                model: [(v, key) for v, key in found if v != "*"]
                for model, found in self.info.capability_models().items()
                if model != "*" and any(v != "*" for v, _ in found)
            }
        return {model: list(versions) for model, versions in known.items()}


def read_pkgs_versions(path: Path) -> list[PkgVersion] | None:
    """Package versions of a ``pkgs.db`` via :mod:`pytest_provd.pkgsdb`; None if unparsable."""
    return _pkgs_versions(_load_pkgs(path))


def _load_pkgs(path: Path) -> pkgsdb.PkgsDb | Exception:
    try:
        return pkgsdb.load(path)
    except (SourceError, OSError, ValueError) as exc:
        return exc


def parsed_pkgs_db(target: tree_mod.Target, path: Path) -> pkgsdb.PkgsDb:
    """``pkgsdb.load(path)``; the parse :func:`target_facts` made when *path* is the target's
    own pkgs.db (read-only: the checks share it)."""
    facts = target_facts(target)
    found = facts.derived.get("pkgs_db") if facts.pkgs_path == path else None
    if found is None:
        return pkgsdb.load(path)
    if isinstance(found, Exception):
        raise found
    assert isinstance(found, pkgsdb.PkgsDb)
    return found


def _pkgs_versions(db: pkgsdb.PkgsDb | Exception) -> list[PkgVersion] | None:
    if isinstance(db, Exception):
        return None
    out = []
    for name, pkg in db.packages.items():
        version = getattr(pkg, "version", None)
        if isinstance(version, str) and version:
            out.append(PkgVersion(f"pkg_{name}", version, getattr(pkg, "line", None)))
    return out


_SOURCES = ("entry.py", "plugin-info", "pkgs/pkgs.db")
# errno values for which Path.exists() says False rather than raising.
_ABSENT = frozenset((errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP))


def target_facts(target: tree_mod.Target) -> TargetFacts:
    """Read the version facts of *target* from its source dir (memoised on file stamps)."""
    # Asked a few times per item of a run: the key costs three stats and no Path objects.
    paths = _source_paths(target.source_dir)
    stamps = tuple(_stamp(p) for p in paths)
    key = (target.plugin_id, *stamps)
    hit = _FACTS.get(key)
    if hit is not None:
        return hit
    entry_path, info_path, pkgs_path = (
        Path(p) if p is not None and s is not None else None
        for p, s in zip(paths, stamps, strict=True)
    )
    loaded = load_plugin_info(info_path) if info_path else None
    db = _load_pkgs(pkgs_path) if pkgs_path else None
    facts = TargetFacts(
        target,
        read_entry(entry_path) if entry_path else None,
        loaded if isinstance(loaded, PluginInfo) else None,
        pkgs_path,
        _pkgs_versions(db) if db is not None else None,
    )
    if db is not None:
        facts.derived["pkgs_db"] = db
    facts.relations = {name: _RELATION_TESTS[name](facts) for name in RELATIONS}
    _FACTS[key] = facts
    return facts


_FACTS: dict[tuple[Any, ...], TargetFacts] = {}


@functools.lru_cache(maxsize=4096)
def _source_paths(source_dir: Path | None) -> tuple[str | None, ...]:
    if source_dir is None:
        return (None,) * len(_SOURCES)
    return tuple(str(source_dir / name) for name in _SOURCES)


def _stamp(path: str | None) -> tuple[str, int, int] | None:
    """The path's stamp; None where it does not exist (as ``Path.exists`` says)."""
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError as exc:
        if exc.errno in _ABSENT:
            return None
        raise
    return path, stat.st_mtime_ns, stat.st_size


def _entry_vs_capabilities(facts: TargetFacts) -> bool | None:
    entry = facts.entry
    if entry is None or (not entry.versions and not entry.model_versions):
        return None
    applicable = False
    for model, found in facts.capability_versions().items():
        expected = expected_versions(entry, model)
        if not expected:
            continue
        applicable = True
        if not all(any(same_version(v, e) for e in expected) for v, _ in found):
            return False
    return True if applicable else None


def expected_versions(entry: EntryInfo, cap_model: str) -> list[str]:
    """Versions entry.py gives the models a capability model stands for ([] if it says none)."""
    if cap_model in entry.model_versions:
        return [entry.model_versions[cap_model]]
    found = [v for m, v in entry.model_versions.items() if covers(cap_model, m)]
    return sorted(set(found)) if found else list(entry.versions)


def _capabilities_vs_pkgs(facts: TargetFacts) -> bool | None:
    if not facts.pkgs:
        return None
    caps = {v for found in facts.capability_versions().values() for v, _ in found}
    if not caps:
        return None
    return all(any(same_version(c, p.version) for p in facts.pkgs) for c in caps)


def _target_id(facts: TargetFacts) -> bool | None:
    tver = facts.target_version
    caps = {v for found in facts.capability_versions().values() for v, _ in found}
    if tver is None or not caps:
        return None
    return all(matches_target(tver, c) for c in caps)


def _plugin_id(facts: TargetFacts) -> bool | None:
    tver = facts.target_version
    if tver is None:
        return None
    return facts.target.plugin_id.endswith(tver)


_RELATION_TESTS = {
    "entry-capabilities": _entry_vs_capabilities,
    "capabilities-pkgs": _capabilities_vs_pkgs,
    "target-id": _target_id,
    "plugin-id": _plugin_id,
}


@dataclass
class Convention:
    """Whether a family is held to a relation, and the evidence."""

    relation: str
    enforced: bool
    following: int
    applicable: int

    def describe(self) -> str:
        """``"12 of 14 targets of the family follow it"``."""
        return f"{self.following} of {self.applicable} targets of the family follow it"


def family_conventions(family: tree_mod.Family) -> dict[str, Convention]:
    """For each relation: enforced when most applicable targets of *family* follow it."""
    all_facts = [target_facts(t) for t in family.targets.values()]
    out = {}
    for name in RELATIONS:
        results = [f.relations[name] for f in all_facts if f.relations[name] is not None]
        following = sum(1 for r in results if r)
        enforced = len(results) < SMALL_FAMILY or following * 2 > len(results)
        out[name] = Convention(name, enforced, following, len(results))
    return out


def sibling_versions(family: tree_mod.Family, exclude: str) -> dict[tuple[str | int, ...], str]:
    """Capability versions of the other targets of *family*: ``{tokens: plugin id}``."""
    out: dict[tuple[str | int, ...], str] = {}
    for target in family.targets.values():
        if target.plugin_id == exclude:
            continue
        for found in target_facts(target).capability_versions().values():
            for version, _ in found:
                out.setdefault(version_tokens(version), target.plugin_id)
    return out
