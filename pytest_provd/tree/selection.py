"""What ``--provd-plugin`` patterns select: targets, and the families whose own items run.

Nothing of the tree vanishes from a selection silently.  A family whose ``build.py`` cannot be
executed has no targets to match, so a pattern selects it through the plugin ids it would
build: its conventional prefix (``wazo_snom`` → ``wazo-snom-``) and the ids it is known to
have built (at the base ref, in git ``HEAD``, or at the last good parse recorded by
:func:`remember`).  A target removed since the base ref is matched by its old plugin id.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pytest_provd.problems import Problem
from pytest_provd.tree.model import Family, PluginTree, Target, UnknownTargetError

_KNOWN_FILE = "known-targets.json"
_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Removal:
    """A plugin id built at the base ref that no target of the tree builds now."""

    plugin_id: str
    family: str
    deliberate: bool
    reason: str
    """Why it counts as deliberate, or what is wrong (with the fix)."""
    problem: Problem | None = None
    """The failure to report when the removal is not deliberate."""


@dataclass
class FamilyChecks:
    """The family-level items of one selected family (only those with something to say)."""

    family: Family
    problems: list[Problem] = field(default_factory=list)
    unbuilt: list[Path] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.problems or self.unbuilt or self.removed)


@dataclass
class Selection:
    """Targets to test, in tree order, and the families whose own items run."""

    targets: list[Target]
    families: dict[str, Family]
    removed: list[Removal]


def glob_may_match(pattern: str, prefix: str) -> bool:
    """Whether some string starting with *prefix* matches the glob *pattern*.

    ``wazo-snom-*``, ``wazo-*`` and ``wazo-snom-10.1.215.13`` may all match a plugin id
    starting with ``wazo-snom-``; ``wazo-yealink-*`` cannot.
    """
    tokens = _glob_tokens(pattern)

    def walk(i: int, j: int) -> bool:
        if j == len(prefix):
            return True  # the rest of the pattern can match whatever follows the prefix
        if i == len(tokens):
            return False
        token = tokens[i]
        if token == "*":
            return walk(i + 1, j) or walk(i, j + 1)
        if fnmatch.fnmatchcase(prefix[j], token):
            return walk(i + 1, j + 1)
        return False

    return walk(0, 0)


def _glob_tokens(pattern: str) -> list[str]:
    """One glob per character position: literals escaped, ``?``, ``[...]`` and ``*``."""
    tokens: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "]") else i + 1)
            if end != -1:
                tokens.append(pattern[i : end + 1])
                i = end + 1
                continue
        if char == "*":
            if not tokens or tokens[-1] != "*":
                tokens.append("*")
        elif char == "?":
            tokens.append("?")
        else:
            tokens.append(f"[{char}]" if char in "[]!" else char)
        i += 1
    return tokens


def broken_family_matches(family: Family, pattern: str, known_ids: Collection[str] = ()) -> bool:
    """Whether *pattern* selects the broken *family*: through the plugin ids it is known to
    build, or any id its conventional prefix allows."""
    if pattern == "all" or any(fnmatch.fnmatchcase(pid, pattern) for pid in known_ids):
        return True
    if _GLOB_CHARS.search(pattern) is None:
        return pattern.startswith(family.plugin_id_prefix)
    return glob_may_match(pattern, family.plugin_id_prefix)


def select(
    tree: PluginTree,
    patterns: Iterable[str],
    known: Mapping[str, Collection[str]] | None = None,
    removed: Iterable[Removal] = (),
) -> Selection:
    """Targets and families *patterns* select; :class:`UnknownTargetError` for a pattern
    selecting nothing at all.

    *known* maps a broken family's name to plugin ids it is known to build; *removed* are
    the removals found against the base ref.
    """
    known = known or {}
    removals = list(removed)
    chosen: set[str] = set()
    families: set[str] = set()
    picked: list[Removal] = []
    for pattern in patterns:
        matched = [
            pid for pid in tree.targets if pattern == "all" or fnmatch.fnmatchcase(pid, pattern)
        ]
        chosen.update(matched)
        families.update(tree.targets[pid].family.name for pid in matched)
        hit = bool(matched)
        for family in tree.broken.values():
            if broken_family_matches(family, pattern, known.get(family.name, ())):
                families.add(family.name)
                hit = True
        for removal in removals:
            if pattern == "all" or fnmatch.fnmatchcase(removal.plugin_id, pattern):
                if removal not in picked:
                    picked.append(removal)
                if removal.family in tree.families or removal.family in tree.broken:
                    families.add(removal.family)
                hit = True
        if pattern == "all":
            families.update(tree.families)
            hit = hit or bool(tree.families)
        if not hit:
            raise UnknownTargetError(pattern, tree)
    every = {**tree.families, **tree.broken}
    return Selection(
        [t for pid, t in tree.targets.items() if pid in chosen],
        {name: every[name] for name in sorted(families)},
        picked,
    )


def family_checks(family: Family, removed: Iterable[Removal] = ()) -> FamilyChecks:
    """What the family-level items of *family* report."""
    return FamilyChecks(
        family,
        list(family.problems),
        family.unbuilt_dirs(),
        [r for r in removed if r.family == family.name and not r.deliberate],
    )


def remember(tree: PluginTree, cache_dir: Path) -> None:
    """Record the plugin ids of every family that parsed, for when its build.py breaks."""
    path = cache_dir / _KNOWN_FILE
    record = _read_record(path)
    for family in tree.families.values():
        ids = sorted(t.plugin_id for t in family.targets.values())
        if ids:
            record[str(family.path)] = ids
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{_KNOWN_FILE}.{os.getpid()}")
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only cache only loses the hint, never a verdict


def recall(family: Family, cache_dir: Path) -> list[str]:
    """The plugin ids *family* built at its last good parse recorded by :func:`remember`."""
    ids = _read_record(cache_dir / _KNOWN_FILE).get(str(family.path), [])
    return [str(i) for i in ids]


def _read_record(path: Path) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): list(v) for k, v in data.items() if isinstance(v, list)}
