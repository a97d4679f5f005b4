"""``--provd-report DIR``: a static, self-contained HTML report written when the session ends.

``DIR/index.html`` holds the run's header (commit, base ref, backend, options, timings) and
the target x model matrix, each cell coloured by its worst verdict (a baselined failure is
striped, apart from new failures; a model whose files changed since the base ref is framed
and marked Δ) and linking to its target's page; ``DIR/targets/<plugin id>.html`` shows per
model the items, their problems with source lines, the files the emulated phone fetched in
order, its firmware upgrade path, the rendered files and the ``--provd-diff`` diffs.  No
external asset, no server: CSS and the few lines of JavaScript are inline.

Everything comes from test reports (:mod:`pytest_provd.report.payload`), so under
pytest-xdist the controller writes the pages from what the workers sent.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from pytest_provd.report.html_model import VERDICTS, Records, build_pages, slug
from pytest_provd.session import ProvdSession

TEMPLATES = Path(__file__).parent / "templates"


class ReportError(Exception):
    """The pages could not be rendered (a template and its data disagree)."""


class HtmlReport:
    """Collects generated items' reports; writes the pages at the end of the session."""

    def __init__(self, session: ProvdSession, directory: Path) -> None:
        self.session = session
        self.directory = directory
        self.records = Records()
        self.started = time.time()
        self.written: Path | None = None
        self.write_seconds = 0.0
        self.error: str | None = None
        # Under xdist the controller writes the pages; a worker keeps nothing.
        self.active = not hasattr(session.config, "workerinput")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Keep what a generated item's report carries."""
        if self.active:
            self.records.add(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """Write the pages (on the controller only under xdist)."""
        if not self.active:
            return
        began = time.perf_counter()
        try:
            self.written = write_report(self.directory, self.data(self.session.config))
        except OSError as exc:
            self.error = f"{exc.filename or self.directory}: {exc.strerror or exc}"
        except ReportError as exc:  # the gate's verdicts stand; the report says why it is missing
            self.error = str(exc)
        self.write_seconds = time.perf_counter() - began

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Where the report is."""
        if self.error is not None:
            terminalreporter.write_line(f"provd report: could not be written: {self.error}")
        elif self.written is not None:
            terminalreporter.write_line(
                f"provd report: {self.written} ({self.write_seconds:.1f} s to write)"
            )

    def data(self, config: pytest.Config) -> dict[str, Any]:
        """The context of the templates."""
        targets = [t.plugin_id for t in self.session.targets]
        pages, groups = build_pages(self.records.items.values(), targets)
        counts = dict.fromkeys(VERDICTS, 0)
        for page in pages:
            for verdict, count in page.counts().items():
                counts[verdict] += count
        for group in groups:
            for item in group.items:
                counts[item.verdict] += 1
        return {
            "head": self.header(config),
            "pages": pages,
            "groups": groups,
            "counts": counts,
            "models": sum(len(page.models) for page in pages),
            "changed": sum(page.changed for page in pages),
            "verdicts": VERDICTS,
        }

    def header(self, config: pytest.Config) -> dict[str, Any]:
        """Commit, base ref, backend, options and timings of the run."""
        options = self.session.options
        repo = self.session.repo_root
        base = options.base_ref
        if base and repo is not None:
            base = f"{base} ({_git(repo, 'rev-parse', '--short=12', base) or 'unknown'})"
        workers = getattr(config.option, "numprocesses", None)
        return {
            "commit": (_git(repo, "describe", "--always", "--dirty", "--abbrev=12") or "unknown")
            if repo is not None
            else "not a git checkout",
            "base_ref": base or "none",
            "backend": options.backend,
            "options": shlex.join(config.invocation_params.args) or "(none)",
            "started": datetime.fromtimestamp(self.started, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "duration": time.time() - self.started,
            "workers": workers,
            "version": _version(),
        }


def write_report(directory: Path, data: dict[str, Any]) -> Path:
    """Write ``index.html`` and one page per target into *directory*; the index's path."""
    # Kept lazy: jinja2 is only needed when a report is written.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["slug"] = slug
    (directory / "targets").mkdir(parents=True, exist_ok=True)
    try:
        target_template = env.get_template("target.html.j2")
        for page in data["pages"]:
            _write(directory / page.file, target_template.render(head=data["head"], page=page))
        index = directory / "index.html"
        _write(index, env.get_template("index.html.j2").render(**data))
    except jinja2.TemplateError as exc:
        raise ReportError(f"{type(exc).__name__}: {exc}") from exc
    return index


def _write(path: Path, text: str) -> None:
    # Whole pages only: a reader (a CI artifact upload) never sees half a file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _git(repo: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _version() -> str:
    try:
        return metadata.version("pytest-provd")
    except metadata.PackageNotFoundError:
        return "unknown"
