"""What a change does to the files one model is given: two renders compared in canonical form.

Both renders are compared the way golden files are (:func:`pytest_provd.report.golden.
canonicalize` with the device's MAC): XML re-serialised and indented, line endings and
trailing whitespace normalised, ports, per-phone addresses, dates and times replaced.  File
names carry the device's MAC as ``{MAC}``.  So a change shows only when a phone would get
something different, and a Python-only reformat of ``entry.py`` shows nothing.

Everything here is plain data: a :class:`ModelDiff` travels on test reports as JSON (also
from pytest-xdist workers), bounded in size (:data:`MAX_DIFF_CHARS` per file).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_provd.report.golden import MAC_NAME_PLACEHOLDER, canonicalize, normalise_macs

MAX_DIFF_CHARS = 64 * 1024
"""A unified diff longer than this is cut, with a note saying how much was left out."""
MAX_MODEL_DIFF_CHARS = 256 * 1024
"""All the diffs of one model together: past this, further diffs are left out (named)."""

DIFF_KEY = "provd_diff"
"""User property (JUnit) of a diff item: :meth:`ModelDiff.summary`."""
DIFF_RESULT_KEY = "provd_diff_result"
"""User property of a diff item's call report: :meth:`ModelDiff.as_json`."""

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass
class FileChange:
    """One generated file that differs between the base ref and the working tree."""

    name: str
    """The file's name under ``var/tftpboot``, the device MAC written ``{MAC}``."""
    status: str
    """``added`` (only in the working tree), ``removed`` (only at the base) or ``changed``."""
    diff: str
    """Unified diff of the canonical texts (cut at :data:`MAX_DIFF_CHARS`)."""
    line: int | None = None
    """The first changed line of the working tree's canonical text (None: removed)."""

    def as_json(self) -> dict[str, Any]:
        """JSON form (see :meth:`ModelDiff.as_json`)."""
        return {"name": self.name, "status": self.status, "diff": self.diff, "line": self.line}


@dataclass
class ModelDiff:
    """The files one model is given at the base ref and in the working tree, compared."""

    target: str
    model: str
    base_ref: str
    changes: list[FileChange] = field(default_factory=list)
    unchanged: int = 0
    """Files equal in canonical form."""
    notes: list[str] = field(default_factory=list)
    """Why one side has no files at all (a new model, a base that did not render, ...)."""

    def count(self, status: str) -> int:
        """How many files have *status* (``added``, ``removed``, ``changed``)."""
        return sum(1 for change in self.changes if change.status == status)

    def summary(self) -> str:
        """``changed: a.xml, b.xml; added: c.cfg`` or ``unchanged (3 files)``; notes after."""
        parts = []
        for status in (CHANGED, ADDED, REMOVED):
            names = [c.name for c in self.changes if c.status == status]
            if names:
                parts.append(f"{status}: {', '.join(names)}")
        text = "; ".join(parts) or f"unchanged ({self.unchanged} file(s))"
        return text + "".join(f" ({note})" for note in self.notes)

    def text(self) -> str:
        """The summary, then every file's unified diff (for a report section)."""
        head = f"{self.target}::{self.model} against {self.base_ref}: {self.summary()}"
        return "\n".join([head, *(c.diff for c in self.changes)])

    def as_json(self) -> dict[str, Any]:
        """JSON-serialisable form, for test reports (``from_json`` reads it back)."""
        return {
            "target": self.target,
            "model": self.model,
            "base_ref": self.base_ref,
            "changes": [c.as_json() for c in self.changes],
            "unchanged": self.unchanged,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelDiff:
        """The :class:`ModelDiff` of :meth:`as_json` (unknown keys ignored)."""
        changes = [
            FileChange(
                str(c.get("name", "")),
                str(c.get("status", CHANGED)),
                str(c.get("diff", "")),
                c.get("line") if isinstance(c.get("line"), int) else None,
            )
            for c in data.get("changes", [])
            if isinstance(c, Mapping)
        ]
        return cls(
            str(data.get("target", "")),
            str(data.get("model", "")),
            str(data.get("base_ref", "")),
            changes,
            int(data.get("unchanged", 0)),
            [str(n) for n in data.get("notes", [])],
        )


def compare_renders(
    diff: ModelDiff, base: Mapping[str, bytes], head: Mapping[str, bytes], mac: str
) -> ModelDiff:
    """Fill *diff* with the files of *base* and *head* (name → bytes) compared for the device
    of MAC *mac*; returns *diff*."""
    before = {_name(n, mac): data for n, data in base.items()}
    after = {_name(n, mac): data for n, data in head.items()}
    for name in sorted(set(before) | set(after)):
        old = _canonical(before[name], mac) if name in before else None
        new = _canonical(after[name], mac) if name in after else None
        if old == new:
            diff.unchanged += 1
            continue
        status = ADDED if old is None else REMOVED if new is None else CHANGED
        diff.changes.append(
            FileChange(
                name,
                status,
                unified(name, old or "", new or "", diff.base_ref),
                None if new is None else first_changed_line(old or "", new),
            )
        )
    return diff


def bounded(diff: ModelDiff, limit: int) -> ModelDiff:
    """*diff* with the diffs past *limit* characters in all replaced by a note."""
    used = 0
    for change in diff.changes:
        if used + len(change.diff) > limit:
            change.diff = f"[diff of {change.name} left out: the model's diffs pass {limit} B]\n"
        used += len(change.diff)
    return diff


def _name(name: str, mac: str) -> str:
    return normalise_macs(name, [mac], MAC_NAME_PLACEHOLDER)


def _canonical(data: bytes, mac: str) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # Not text: compared by content, shown by size and digest.
        digest = hashlib.sha1(data).hexdigest()[:12]
        return f"<binary file, {len(data)} B, sha1 {digest}>\n"
    return canonicalize(data, [mac])


def unified(name: str, old: str, new: str, base_ref: str) -> str:
    """The unified diff of *old* (at *base_ref*) and *new* (working tree), cut to size."""
    text = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"{name} ({base_ref})",
            tofile=f"{name} (working tree)",
        )
    )
    return cap(text, MAX_DIFF_CHARS, "diff")


def cap(text: str, limit: int, what: str) -> str:
    """*text* cut to *limit* characters at a line end, with a note of what was left out."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit) + 1 or limit
    rest = text[cut:]
    lines = rest.count("\n") + (0 if rest.endswith("\n") else 1)
    return text[:cut] + f"[… {what} cut: {lines} more line(s), {len(rest.encode())} B]\n"


def first_changed_line(old: str, new: str) -> int:
    """The first line (1-based) of *new* that is not the same line of *old*."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1):
        if a != b:
            return number
    return min(len(old_lines), len(new_lines)) + 1
