"""Run-level reporting: baselines, golden-file housekeeping and the terminal summary.

Registered as a plugin object by :mod:`pytest_provd.plugin`.  Everything it needs travels on
test reports (``user_properties``), so it works the same under pytest-xdist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Generator

import pytest

from pytest_provd.facts import FACTS_KEY as _FACTS
from pytest_provd.report import baseline as baseline_mod
from pytest_provd.session import ProvdSession

_REASONS = "provd_reasons"
_GOLDEN = "provd_golden_used"


class ProvdReporter:
    """Applies ``--provd-baseline``, writes ``--provd-write-baseline`` and summarises."""

    def __init__(self, provd: ProvdSession) -> None:
        self.provd = provd
        self.baseline = (
            baseline_mod.Baseline.load(provd.options.baseline) if provd.options.baseline else None
        )
        self.failures: dict[str, list[str]] = {}
        self.outcomes: dict[str, dict[str, str]] = defaultdict(dict)
        self.facts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.golden_used: set[str] = set()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, None]:
        """Attach stable failure reasons; turn baselined failures into expected failures."""
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        # Golden files travel on the report: under xdist the controller sees no GoldenStore use.
        used = self.provd.golden.take_used()
        if used:
            report.user_properties.append((_GOLDEN, used))
        if report.when != "call" and not (report.when == "setup" and report.failed):
            return
        if not report.failed:
            return
        exc = call.excinfo.value if call.excinfo is not None else None
        reasons = baseline_mod.reasons_of(exc, report.longreprtext, self.provd.plugins_dir)
        report.user_properties.append((_REASONS, reasons))
        if self.baseline is not None and self.baseline.covers(item.nodeid, reasons):
            report.outcome = "skipped"
            report.wasxfail = "known failure listed in the provd baseline"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect outcomes (on the controller under xdist)."""
        for key, value in report.user_properties:
            if key == _REASONS and isinstance(value, list):
                self.failures[report.nodeid] = [str(v) for v in value]
            elif key == _GOLDEN and isinstance(value, list):
                self.golden_used.update(str(v) for v in value)
            elif key == _FACTS and isinstance(value, dict) and report.when == "call":
                target = report.nodeid.split("::", 1)[0]
                for fact, count in value.items():
                    self.facts[target][str(fact)] += int(count)
        if report.when == "call" and report.passed and self.baseline is not None:
            self.baseline.passed.add(report.nodeid)
        if "::" in report.nodeid and (report.when == "call" or report.failed):
            target = report.nodeid.split("::", 1)[0]
            self.outcomes[target][report.nodeid] = report.outcome

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Write the baseline file when asked to; nothing changed is a pass, not exit 5."""
        if (
            exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
            and self.provd.options.changed
            and not self.provd.targets
        ):
            session.exitstatus = pytest.ExitCode.OK
        path = self.provd.options.write_baseline
        if path is not None and not hasattr(session.config, "workerinput"):
            baseline_mod.write(path, self.failures)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """One ``provd`` section: per-target verdicts, baseline and golden housekeeping."""
        targets = [t.plugin_id for t in self.provd.targets]
        tr = terminalreporter
        if self.provd.options.changed:
            tr.section("provd")
            tr.write_line(
                f"--provd-changed: {len(targets)} target(s) differ from "
                f"{self.provd.options.base_ref}; {len(self.provd.unchanged)} unchanged"
            )
        if not targets:
            return
        if not self.provd.options.changed:
            tr.section("provd")
        for plugin_id in targets:
            outcomes = self.outcomes.get(plugin_id, {})
            counts = {
                o: sum(1 for v in outcomes.values() if v == o) for o in set(outcomes.values())
            }
            facts = self.facts.get(plugin_id, {})
            parts = [f"{counts[o]} {o}" for o in ("passed", "failed", "skipped") if counts.get(o)]
            names = {
                "models": "models",
                "files": "files",
                "phones": "phones provisioned",
                "flashed": "firmware upgrades",
                "firmware": "firmware packages",
            }
            details = [f"{facts[k]} {label}" for k, label in names.items() if facts.get(k)]
            line = f"{plugin_id}: {', '.join(parts) or 'nothing run'}"
            tr.write_line(line + (f" | {', '.join(details)}" if details else ""))
        if self.baseline is not None:
            for nodeid in self.baseline.removable():
                tr.write_line(f"baseline entry now passes, remove it: {nodeid}")
        if self.provd.options.write_baseline is not None:
            tr.write_line(
                f"baseline with {len(self.failures)} failure(s) written to "
                f"{self.provd.options.write_baseline}"
            )
        for path in self.provd.golden.stale(self.golden_used):
            tr.write_line(f"stale golden file (not produced by this run): {path}")
