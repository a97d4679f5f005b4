"""The ``--provd-diff`` summary: per target, how many models were compared and how many
generated files the change adds, removes or changes.

Reads the diffs the ``<model>::diff`` items put on their call reports, so it works the same
under pytest-xdist (the controller sees every worker's reports).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from pytest_provd.rendering.diffing import ADDED, CHANGED, DIFF_RESULT_KEY, REMOVED, ModelDiff


class DiffSummary:
    """Collects the diff items' results; writes the ``provd diff`` terminal section."""

    def __init__(self, base_ref: str, targets: list[str]) -> None:
        self.base_ref = base_ref
        self.targets = targets
        self.diffs: dict[str, dict[str, ModelDiff]] = defaultdict(dict)
        self.not_compared: dict[str, set[str]] = defaultdict(set)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep each diff item's result (or that it could not compare)."""
        for key, value in report.user_properties:
            if key == DIFF_RESULT_KEY and isinstance(value, dict):
                diff = ModelDiff.from_json(value)
                self.diffs[diff.target][diff.model] = diff
                return
        parts = report.nodeid.split("::")
        if len(parts) == 3 and parts[2].rstrip() == "diff" and report.skipped:
            self.not_compared[parts[0]].add(parts[1])

    def lines(self) -> list[str]:
        """One line per target that had diff items, in selection order."""
        out = []
        seen = [t for t in self.targets if t in self.diffs or t in self.not_compared]
        seen += sorted(set(self.diffs) - set(seen))
        for target in seen:
            models = self.diffs.get(target, {})
            changed_models = sum(1 for d in models.values() if d.count(CHANGED))
            line = (
                f"{target}: {len(models)} models, "
                f"{sum(d.count(CHANGED) for d in models.values())} files changed in "
                f"{changed_models} models, {sum(d.count(ADDED) for d in models.values())} added, "
                f"{sum(d.count(REMOVED) for d in models.values())} removed"
            )
            skipped = self.not_compared.get(target)
            if skipped:
                line += f" ({len(skipped)} model(s) not compared: {', '.join(sorted(skipped))})"
            out.append(line)
        return out

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """The ``provd diff against <ref>`` section."""
        lines = self.lines()
        if not lines:
            return
        terminalreporter.section(f"provd diff against {self.base_ref}")
        for line in lines:
            terminalreporter.write_line(line)
