"""Run-level reporting: baselines, golden-file housekeeping and the terminal summary.

Registered as a plugin object by :mod:`pytest_provd.plugin`.  Everything it needs travels on
test reports (``user_properties``), so it works the same under pytest-xdist.

One word for a known failure everywhere: a failure covered by ``--provd-baseline`` is
*xfailed* for pytest and *baselined* in our summary.  ``--provd-write-baseline`` records
every failure of the run and reports each one the same way (xfailed, "baselined"), so writing
a baseline exits 0 unless something else went wrong (a collection error, a failing teardown,
an internal error); the summary line says how many failures it recorded.
"""

from __future__ import annotations

import sys
import warnings
from collections import defaultdict
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pytest_provd.facts import FACTS_KEY as _FACTS
from pytest_provd.report import baseline as baseline_mod
from pytest_provd.report.failures import normaliser, problems_of, shown, summary
from pytest_provd.session import ProvdSession

_FAILURE = "provd_failure"
_BASELINED = "provd_baselined"
_GOLDEN = "provd_golden_used"
# Warnings raised by modules other than ours while a generated item runs: twisted's
# deprecations inside plugin code, plugins' own.  Ours stay visible, to be fixed.
_THIRD_PARTY = r"(?!(?:pytest_provd|emulators)(?:\.|$))"
_HYPOTHESIS_PLUGIN = "hypothesispytest"  # the name of its pytest11 entry point
_WORDS = ("passed", "failed", "xfailed", "error", "skipped")


@contextmanager
def third_party_warnings_ignored() -> Iterator[None]:
    """Within the block, warnings raised by modules other than ours are dropped."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module=_THIRD_PARTY)
        yield


class ProvdReporter:
    """Applies ``--provd-baseline``, writes ``--provd-write-baseline`` and summarises."""

    def __init__(self, provd: ProvdSession) -> None:
        self.provd = provd
        options = provd.options
        self.baseline = (
            baseline_mod.Baseline.load(options.baseline, normaliser(provd.config))
            if options.baseline
            else None
        )
        self.failures: dict[str, baseline_mod.Failure] = {}
        self.new_failures: set[str] = set()
        self.baselined: set[str] = set()
        self.outcomes: dict[str, dict[str, str]] = defaultdict(dict)
        self.facts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.golden_used: set[str] = set()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        """Third-party warnings raised during a generated item are not the user's concern."""
        if item.get_closest_marker("provd") is None:
            yield
            return
        with third_party_warnings_ignored():
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, None]:
        """Attach the failure's identity; turn baselined failures into expected failures."""
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        # Golden files travel on the report: under xdist the controller sees no GoldenStore use.
        used = self.provd.golden.take_used()
        if used:
            report.user_properties.append((_GOLDEN, used))
        if not report.failed or report.when not in ("setup", "call"):
            return
        exc = call.excinfo.value if call.excinfo is not None else None
        problems = problems_of(exc, report.longrepr, report.longreprtext)
        norm = normaliser(item.config)
        entries: dict[str, dict[str, str]] = {}
        for problem in problems:
            identity = norm.identify(problem, item.name)
            entries.setdefault(identity.fingerprint, identity.as_json())
        failure = baseline_mod.Failure(item.nodeid, list(entries.values()))
        if self.baseline is not None and self.baseline.version == 1:
            failure.reasons = baseline_mod.reasons_of(
                exc, report.longreprtext, self.provd.plugins_dir
            )
        report.user_properties.append(
            (_FAILURE, {"entries": failure.entries, "reasons": failure.reasons})
        )
        writing = self.provd.options.write_baseline is not None
        if writing or (self.baseline is not None and self.baseline.covers(failure)):
            report.outcome = "skipped"
            # As the terminal shows a failure: the same text on every run of the same tree.
            report.wasxfail = f"baselined: {summary(shown(problems, item.config))}"
            report.user_properties.append((_BASELINED, True))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect outcomes (on the controller under xdist)."""
        baselined = False
        for key, value in report.user_properties:
            if key == _FAILURE and isinstance(value, dict):
                self.failures[report.nodeid] = baseline_mod.Failure(
                    report.nodeid,
                    [dict(e) for e in value.get("entries", [])],
                    [str(r) for r in value.get("reasons", [])],
                )
            elif key == _BASELINED:
                baselined = True
            elif key == _GOLDEN and isinstance(value, list):
                self.golden_used.update(str(v) for v in value)
            elif key == _FACTS and isinstance(value, dict) and report.when == "call":
                target = report.nodeid.split("::", 1)[0]
                for fact, count in value.items():
                    self.facts[target][str(fact)] += int(count)
        if baselined:
            self.baselined.add(report.nodeid)
        elif report.failed and report.when in ("setup", "call"):
            self.new_failures.add(report.nodeid)
        if report.when == "call" and report.passed and self.baseline is not None:
            self.baseline.passed.add(report.nodeid)
        if "::" in report.nodeid and (report.when == "call" or not report.passed):
            target = report.nodeid.split("::", 1)[0]
            self.outcomes[target][report.nodeid] = _word(report, baselined)

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
            baseline_mod.write(path, self.failures.values())
        # Not isinstance(pytest.TerminalReporter): pytest 7 does not export that name.
        stats = getattr(session.config.pluginmanager.get_plugin("terminalreporter"), "stats", None)
        if self.provd.targets and isinstance(stats, dict):
            drop_silent_reports(stats)
        if self.provd.generated_suite_only:
            drop_idle_hypothesis_summary(session.config)

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
        if not targets and self.baseline is None and self.provd.options.write_baseline is None:
            return
        if not self.provd.options.changed:
            tr.section("provd")
        for plugin_id in targets:
            tr.write_line(self._target_line(plugin_id))
        for line in self._baseline_lines():
            tr.write_line(line)
        for path in self.provd.golden.stale(self.golden_used):
            tr.write_line(f"stale golden file (not produced by this run): {path}")

    def _target_line(self, plugin_id: str) -> str:
        outcomes = self.outcomes.get(plugin_id, {})
        counts = {o: sum(1 for v in outcomes.values() if v == o) for o in set(outcomes.values())}
        facts = self.facts.get(plugin_id, {})
        parts = [f"{counts[o]} {o}" for o in _WORDS if counts.get(o)]
        names = {
            "models": "models",
            "files": "files",
            "phones": "phones provisioned",
            "flashed": "firmware upgrades",
            "firmware": "firmware packages",
        }
        details = [f"{facts[k]} {label}" for k, label in names.items() if facts.get(k)]
        line = f"{plugin_id}: {', '.join(parts) or 'nothing run'}"
        return line + (f" | {', '.join(details)}" if details else "")

    def _baseline_lines(self) -> list[str]:
        lines = []
        if self.baseline is not None:
            shown = _shown(self.provd.options.baseline)
            lines.append(
                f"baseline {shown}: {len(self.baselined)} known failure(s) baselined (xfailed), "
                f"{len(self.new_failures)} new failure(s)"
            )
            lines += [
                f"baseline entry now passes, remove it: {nodeid}"
                for nodeid in self.baseline.removable()
            ]
        path = self.provd.options.write_baseline
        if path is not None:
            lines.append(
                f"baseline with {len(self.failures)} failure(s) written to {_shown(path)} "
                "(reported as xfailed: baselined; writing a baseline is not a failure)"
            )
        return lines


def _word(report: pytest.TestReport, baselined: bool) -> str:
    """The summary word of a report: xfailed for a baselined or expected failure."""
    if baselined or (report.skipped and hasattr(report, "wasxfail")):
        return "xfailed"
    if report.failed and report.when != "call":
        return "error"
    return report.outcome


def _shown(path: Path | None) -> str:
    return str(path) if path is not None else ""


def drop_silent_reports(stats: dict[str, list[Any]]) -> None:
    """Forget the passed setup and teardown reports (the terminal reporter's *stats*) that
    carry no captured section.

    They print nothing, yet pytest's summary scans all of them once per failure for teardown
    sections: with thousands of generated items and hundreds of failures that is seconds
    at the end of a run (about 11 s of a whole-tree run on two cores)."""
    quiet = stats.get("")
    if quiet:
        stats[""] = [
            r for r in quiet if getattr(r, "sections", None) or not getattr(r, "passed", False)
        ]


def drop_idle_hypothesis_summary(config: pytest.Config) -> None:
    """Unregister hypothesis's pytest plugin before the terminal summary when this process
    never imported hypothesis.

    Its summary imports all of hypothesis (0.1 to 0.2 s, a few percent of a one-target run)
    to list failing examples and observation files.  A run of the generated suite alone has
    no hypothesis test, and a process that never imported hypothesis wrote no observation:
    there is nothing for it to list.  Its other hooks look at hypothesis tests only."""
    if "hypothesis" in sys.modules:
        return
    plugin = config.pluginmanager.get_plugin(_HYPOTHESIS_PLUGIN)
    if plugin is not None:
        config.pluginmanager.unregister(plugin)
