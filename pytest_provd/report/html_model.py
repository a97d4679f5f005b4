"""The data of the ``--provd-report`` pages, gathered from test reports.

:class:`Records` turns each generated item's setup/call/teardown reports into one
:class:`ItemRecord` (its verdict, problems and evidence, see
:mod:`pytest_provd.report.payload`); :func:`build_pages` groups them into the target x model
matrix of the index page and one page per target.  Plain data only: templates render it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_provd.facts import NOTE_KEY
from pytest_provd.rendering.diffing import DIFF_KEY, DIFF_RESULT_KEY
from pytest_provd.report import payload

VERDICTS = ("failed", "baselined", "passed", "skipped")
"""A cell's verdict, worst first: a new failure (or error), a baselined failure, a pass
(some items may be skipped), everything skipped."""
_EVIDENCE = {
    payload.PROBLEMS_KEY: "problems",
    payload.FILES_KEY: "files",
    payload.PHONE_KEY: "phone",
    DIFF_RESULT_KEY: "diff",
}


@dataclass
class ItemRecord:
    """One generated item as the report shows it."""

    nodeid: str
    group: str
    """Its target's plugin id, its family's name, or the first part of its node id."""
    kind: str
    """``target``, ``family`` or ``other`` (items of other generated trees, ``dhcp::``)."""
    model: str | None = None
    check: str = ""
    tier: str = ""
    vendor: str = ""
    outcome: str = "passed"
    """``passed``, ``failed``, ``error``, ``skipped`` or ``xfailed``."""
    baselined: bool = False
    duration: float = 0.0
    text: str = ""
    """The skip reason, or the failure text when the item carried no problems."""
    problems: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] | None = None
    phone: dict[str, Any] | None = None
    diff: dict[str, Any] | None = None
    diff_summary: str | None = None

    @property
    def verdict(self) -> str:
        """One of :data:`VERDICTS`."""
        if self.baselined:
            return "baselined"
        if self.outcome in ("failed", "error"):
            return "failed"
        return "passed" if self.outcome == "passed" else "skipped"

    @property
    def changed(self) -> bool:
        """A diff item that found a difference."""
        return bool(self.diff and self.diff.get("changes"))


class Records:
    """Every generated item's record, fed test reports (controller side under xdist)."""

    def __init__(self) -> None:
        self.items: dict[str, ItemRecord] = {}

    def add(self, report: pytest.TestReport) -> None:
        """Merge one report (setup, call or teardown) of a generated item."""
        props = dict(report.user_properties)
        record = self.items.get(report.nodeid) or self._new(report, props)
        if record is None:
            return
        self.items[report.nodeid] = record
        record.duration += report.duration
        for key, name in _EVIDENCE.items():
            if key in props:
                setattr(record, name, props[key])
        if DIFF_KEY in props:
            record.diff_summary = str(props[DIFF_KEY])
        notes = [str(v) for k, v in report.user_properties if k == NOTE_KEY]
        record.notes = list(dict.fromkeys([*record.notes, *notes]))
        if hasattr(report, "wasxfail"):
            record.outcome = "xfailed"
            record.baselined = str(report.wasxfail).startswith("baselined")
            record.text = str(report.wasxfail)
        elif report.failed:
            record.outcome = "failed" if report.when == "call" else "error"
            record.text = payload.clip(report.longreprtext)
        elif report.skipped and record.outcome == "passed":
            record.outcome = "skipped"
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) else report.longreprtext
            record.text = str(reason).removeprefix("Skipped: ")

    @staticmethod
    def _new(report: pytest.TestReport, props: dict[str, Any]) -> ItemRecord | None:
        parts = report.nodeid.split("::")
        check = str(props.get(payload.CHECK_KEY, parts[-1].rstrip()))
        tier = str(props.get(payload.TIER_KEY, ""))
        if payload.TARGET_KEY in props:
            model = props.get(payload.MODEL_KEY)
            return ItemRecord(
                report.nodeid,
                str(props[payload.TARGET_KEY]),
                "target",
                str(model) if model is not None else None,
                check,
                tier,
                str(props.get(payload.VENDOR_KEY, "")),
            )
        if payload.FAMILY_KEY in props:
            return ItemRecord(report.nodeid, str(props[payload.FAMILY_KEY]), "family", None, check)
        if "provd" in report.keywords and len(parts) > 1:
            return ItemRecord(report.nodeid, parts[0], "other", None, "::".join(parts[1:]))
        return None


@dataclass
class Cell:
    """A model of a target (or the target's own checks) on the matrix."""

    name: str
    anchor: str
    items: list[ItemRecord]

    @property
    def verdict(self) -> str:
        """The worst verdict of its items (:data:`VERDICTS`)."""
        found = {item.verdict for item in self.items}
        return next((v for v in VERDICTS if v in found), "skipped")

    @property
    def changed(self) -> bool:
        """The model's files differ from the base ref."""
        return any(item.changed for item in self.items)

    @property
    def failing(self) -> list[ItemRecord]:
        """Items that failed, baselined or not."""
        return [i for i in self.items if i.verdict in ("failed", "baselined")]

    def evidence(self, name: str) -> Any:
        """The first item's value of evidence *name* (``files``, ``phone``, ``diff``)."""
        return next((getattr(i, name) for i in self.items if getattr(i, name)), None)

    def title(self) -> str:
        """The tooltip: how many items passed, and the verdict of each other item."""
        passed = sum(1 for i in self.items if i.verdict == "passed")
        others = [f"{i.check}: {i.verdict}" for i in self.items if i.verdict != "passed"]
        return "; ".join([f"{passed} passed", *others] if passed else others)


@dataclass
class TargetPage:
    """One target: its own checks and its models."""

    plugin_id: str
    vendor: str
    checks: Cell
    models: list[Cell]

    @property
    def file(self) -> str:
        """The page's file name, relative to the report directory."""
        return f"targets/{slug(self.plugin_id)}.html"

    @property
    def cells(self) -> list[Cell]:
        """The checks cell, then the models."""
        return [self.checks, *self.models] if self.checks.items else self.models

    def counts(self) -> dict[str, int]:
        """How many items have each verdict."""
        counts = dict.fromkeys(VERDICTS, 0)
        for cell in self.cells:
            for item in cell.items:
                counts[item.verdict] += 1
        return counts

    @property
    def verdict(self) -> str:
        """The worst verdict of its cells."""
        found = {cell.verdict for cell in self.cells}
        return next((v for v in VERDICTS if v in found), "skipped")

    @property
    def changed(self) -> int:
        """How many of its models' files changed since the base ref."""
        return sum(1 for cell in self.models if cell.changed)

    @property
    def duration(self) -> float:
        """Seconds its items took."""
        return sum(item.duration for cell in self.cells for item in cell.items)


@dataclass
class Group:
    """Items that are not a target's: a family's own, or another tree's (``dhcp``)."""

    name: str
    kind: str
    items: list[ItemRecord]

    @property
    def verdict(self) -> str:
        """The worst verdict of its items."""
        return Cell(self.name, "", self.items).verdict


def slug(text: str) -> str:
    """*text* made safe as a file name and an HTML id (distinct texts stay distinct)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", lambda m: f"_{ord(m.group()):x}_", text)
    return safe or "_"


def build_pages(
    records: Iterable[ItemRecord], targets: list[str]
) -> tuple[list[TargetPage], list[Group]]:
    """Target pages (in *targets* order, then any other target seen) and the other groups."""
    by_target: dict[str, list[ItemRecord]] = {}
    groups: dict[tuple[str, str], list[ItemRecord]] = {}
    for record in records:
        if record.kind == "target":
            by_target.setdefault(record.group, []).append(record)
        else:
            groups.setdefault((record.kind, record.group), []).append(record)
    order = [t for t in targets if t in by_target] + sorted(set(by_target) - set(targets))
    pages = []
    for plugin_id in order:
        items = by_target[plugin_id]
        models: dict[str, list[ItemRecord]] = {}
        for item in items:
            if item.model is not None:
                models.setdefault(item.model, []).append(item)
        checks = Cell("checks", "checks", [i for i in items if i.model is None])
        cells = [Cell(model, "m-" + slug(model), found) for model, found in models.items()]
        vendor = next((i.vendor for i in items if i.vendor), "")
        pages.append(TargetPage(plugin_id, vendor, checks, cells))
    others = [Group(name, kind, found) for (kind, name), found in sorted(groups.items())]
    return pages, others
