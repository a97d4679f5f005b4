"""Branch coverage of a target's templates across the config matrix.

Each ``<model>::matrix`` item measures which branches (:mod:`pytest_provd.rendering.branches`)
of the templates its model rendered were taken under some config of the matrix, and carries that on
its call report (an attribute of the report, so it reaches the controller under pytest-xdist
and stays out of JUnit properties).  :class:`BranchSummary` joins the models of each target
and writes ``<plugin id>: branches 41/44`` in the ``provd`` summary; with ``-v`` it lists the
branches no config reached, by template file and line, with their condition.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_provd.rendering import branches
from pytest_provd.session import ProvdSession
from pytest_provd.tiers._run import TargetRun

REPORT_ATTRIBUTE = "provd_branches"
"""The call report attribute holding an item's coverage payload."""
_PAYLOAD = pytest.StashKey[dict[str, Any]]()
MAX_LISTED = 50
"""Branches listed per target with ``-v`` (and per model in the item's report section)."""


def coverage_payload(run: TargetRun, hits: set[branches.Hit]) -> dict[str, Any]:
    """``{"templates": {name: {"total", "hit", "missed"}}, "shipped": [...]}`` for the
    templates *hits* show were rendered; ``missed`` maps each branch index not hit to where it
    is in the user's tree and its condition."""
    rendered = sorted({name for name, index in hits if index == branches.ENTERED})
    templates: dict[str, Any] = {}
    for name in rendered:
        filename, found = run.template_branches(name)
        taken = {index for template, index in hits if template == name}
        templates[name] = {
            "total": len(found),
            "hit": sorted(b.index for b in found if b.index in taken),
            "missed": {
                str(b.index): describe(run, filename, b) for b in found if b.index not in taken
            },
        }
    return {"templates": templates, "shipped": shipped_templates(run)}


def shipped_templates(run: TargetRun) -> list[str]:
    """The template names the target's plugin can load (its ``templates`` directories)."""
    memo = run.memo.setdefault("shipped", [])
    if not memo:
        env = branches.environment_of(run.plugin.obj)
        try:
            names = env.list_templates() if env is not None else []
        except TypeError:  # a loader that cannot list: the rendered ones are known anyway
            names = []
        memo.extend(n for n in names if not n.startswith(".") and "/." not in n)
    return list(memo)


def describe(run: TargetRun, filename: str | None, branch: branches.Branch) -> str:
    """``plugins/wazo_x/common/templates/base.tpl:58 if line['backup_proxy_ip']``: the branch
    at the line of the user's tree the built template came from."""
    memo = run.memo.setdefault("described", {})
    key = (filename, branch.template, branch.index)
    if key not in memo:
        where = f"{branch.template}:{branch.line}"
        if filename is not None and run.manager is not None:
            # Kept lazy: the source map reads the checks' template readers (jinja2).
            from pytest_provd.rendering.sourcemap import source_line

            plugin_dir = run.plugin.path
            found = source_line(run.target, plugin_dir, filename, branch.line)
            where = f"{found.path}:{found.line}"
        memo[key] = f"{where} {branch.describe()}"
    return str(memo[key])


def coverage_lines(payload: dict[str, Any]) -> tuple[int, int, list[str]]:
    """Branches taken, branches in all, and the missed ones described."""
    taken = total = 0
    missed: list[str] = []
    for entry in payload.get("templates", {}).values():
        taken += len(entry["hit"])
        total += entry["total"]
        missed += list(entry["missed"].values())
    return taken, total, missed


def keep(item: pytest.Item, payload: dict[str, Any]) -> None:
    """Attach *payload* to the call report of *item* (by :class:`BranchSummary`)."""
    item.stash[_PAYLOAD] = payload


@dataclass
class _TemplateCoverage:
    total: int = 0
    hit: set[int] = field(default_factory=set)
    missed: dict[int, str] = field(default_factory=dict)


class BranchSummary:
    """Joins the coverage of every model of a target (on the controller under xdist)."""

    def __init__(self, session: ProvdSession) -> None:
        self.session = session
        self.targets: dict[str, dict[str, _TemplateCoverage]] = defaultdict(dict)
        self.shipped: dict[str, set[str]] = defaultdict(set)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        """The item's coverage payload on its call report (on the worker that ran it)."""
        outcome = yield
        if call.when == "call" and _PAYLOAD in item.stash:
            setattr(outcome.get_result(), REPORT_ATTRIBUTE, item.stash[_PAYLOAD])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep the coverage a matrix item's call report carries."""
        payload = getattr(report, REPORT_ATTRIBUTE, None)
        if report.when != "call" or not isinstance(payload, dict):
            return
        target = report.nodeid.split("::", 1)[0]
        self.shipped[target].update(str(n) for n in payload.get("shipped", []))
        for name, entry in payload.get("templates", {}).items():
            joined = self.targets[target].setdefault(str(name), _TemplateCoverage())
            joined.total = max(joined.total, int(entry["total"]))
            joined.hit.update(int(i) for i in entry["hit"])
            joined.missed.update((int(i), str(d)) for i, d in entry["missed"].items())

    def line(self, plugin_id: str) -> str | None:
        """``<plugin id>: branches 41/44 in 3 templates`` (None without a matrix item run)."""
        templates = self.targets.get(plugin_id)
        if not templates:
            return None
        taken = sum(len(t.hit) for t in templates.values())
        total = sum(t.total for t in templates.values())
        unused = sorted(self.shipped.get(plugin_id, set()) - set(templates))
        text = f"{plugin_id}: branches {taken}/{total} in {len(templates)} rendered template(s)"
        if unused:
            text += f"; {len(unused)} shipped template(s) no model rendered"
        return text

    def missed(self, plugin_id: str) -> list[str]:
        """The branches of the target no config of the matrix reached, described."""
        found = []
        for _, joined in sorted(self.targets.get(plugin_id, {}).items()):
            found += [d for i, d in sorted(joined.missed.items()) if i not in joined.hit]
        return found

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Per target: branches taken over branches of the rendered templates; with ``-v``,
        the ones not taken."""
        lines = [(t.plugin_id, self.line(t.plugin_id)) for t in self.session.targets]
        if not any(text for _, text in lines):
            return
        tr = terminalreporter
        tr.write_line("template branches rendered by the config matrix:")
        for plugin_id, text in lines:
            if text is None:
                continue
            tr.write_line(text)
            if tr.config.option.verbose < 1:
                continue
            missed = self.missed(plugin_id)
            for description in missed[:MAX_LISTED]:
                tr.write_line(f"    not reached: {description}")
            if len(missed) > MAX_LISTED:
                tr.write_line(f"    ... and {len(missed) - MAX_LISTED} more")
