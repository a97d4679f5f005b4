"""Compare the two sides' renders of a target: identical, differing, or on one side only.

A file counts as identical when its bytes are equal once *volatile values* are set aside:
the clock readings plugins write, recognised only where both sides differ and the value
falls within the run's time window (:data:`VOLATILE`).  Everything else that differs is
reported with a unified diff.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pytest_provd.fidelity.job import SideResult

OUTSIDE = "outside-tftpboot"
"""Where the files the renders wrote in the plugin directory outside ``var/tftpboot`` are."""
_CLOCK_SLACK_S = 120.0
_TEN_DIGITS = re.compile(rb"(?<![0-9.])[0-9]{10}(?:\.[0-9]{1,9})?(?![0-9])")


def _epoch(token: bytes, window: tuple[float, float]) -> bool:
    try:
        value = float(token)
    except ValueError:
        return False
    return window[0] - _CLOCK_SLACK_S <= value <= window[1] + _CLOCK_SLACK_S


def _ddmmyyhhmm(token: bytes, window: tuple[float, float]) -> bool:
    if len(token) != 10:
        return False
    try:
        when = datetime.strptime(token.decode("ascii"), "%d%m%y%H%M").timestamp()
    except ValueError:
        return False
    return window[0] - _CLOCK_SLACK_S - 60 <= when <= window[1] + _CLOCK_SLACK_S


VOLATILE: dict[str, tuple[str, Callable[[bytes, tuple[float, float]], bool]]] = {
    "epoch": (
        "Unix time in seconds, integer or with decimals (wazo-gigaset XX_epoch, "
        "wazo-technicolor XX_config_sn)",
        _epoch,
    ),
    "ddmmyyHHMM": ("local date and time as ddmmyyHHMM (wazo-gigaset XX_version_date)", _ddmmyyhhmm),
}
"""Clock readings plugins write into files: name -> (what and who, recogniser)."""


def mask(data: bytes, window: tuple[float, float]) -> tuple[bytes, set[str]]:
    """*data* with every volatile value within *window* replaced by ``<name>``; the names."""
    found: set[str] = set()

    def repl(m: re.Match[bytes]) -> bytes:
        for name, (_, recognise) in VOLATILE.items():
            if recognise(m.group(0), window):
                found.add(name)
                return b"<" + name.encode() + b">"
        return m.group(0)

    return _TEN_DIGITS.sub(repl, data), found


@dataclass
class FileResult:
    """One file of one render (or of the plugin's common files)."""

    where: str  # "<config label>/<model>", "common" or OUTSIDE
    path: str
    status: str  # identical | volatile | differs | only-real | only-embedded
    volatile: set[str] = field(default_factory=set)
    diff: str = ""


@dataclass
class TargetReport:
    """Everything compared for one target."""

    plugin_id: str
    files: list[FileResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Differences that are not files: a side that failed, a device configured on one side."""
    notes: list[str] = field(default_factory=list)
    """Agreements worth saying: both sides failed to run the target, or to configure devices
    (with the same exception)."""
    models: int = 0
    renders: int = 0
    neither: int = 0
    """Renders (devices) no side configured."""

    def count(self, *statuses: str) -> int:
        return sum(1 for f in self.files if f.status in statuses)

    @property
    def faithful(self) -> bool:
        return not self.problems and self.count("identical", "volatile") == len(self.files)


def unified(real: bytes, embedded: bytes, name: str) -> str:
    """A unified diff (real first) of two files' text."""
    a = real.decode("utf-8", "backslashreplace").splitlines(keepends=True)
    b = embedded.decode("utf-8", "backslashreplace").splitlines(keepends=True)
    lines = difflib.unified_diff(a, b, f"real/{name}", f"embedded/{name}")
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def compare_files(
    where: str, real: dict[str, bytes], embedded: dict[str, bytes], window: tuple[float, float]
) -> list[FileResult]:
    """Every file of either side, compared."""
    out: list[FileResult] = []
    for path in sorted(set(real) | set(embedded)):
        if path not in embedded:
            out.append(FileResult(where, path, "only-real"))
        elif path not in real:
            out.append(FileResult(where, path, "only-embedded"))
        elif real[path] == embedded[path]:
            out.append(FileResult(where, path, "identical"))
        else:
            masked_real, names_real = mask(real[path], window)
            masked_emb, names_emb = mask(embedded[path], window)
            if masked_real == masked_emb:
                out.append(FileResult(where, path, "volatile", names_real | names_emb))
            else:
                diff = unified(real[path], embedded[path], f"{where}/{path}")
                out.append(FileResult(where, path, "differs", diff=diff))
    return out


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1] if text.strip() else "?"


_EXCEPTION = re.compile(
    r"\b((?:[A-Za-z_][\w.]*)?(?:Error|Exception|NotFound|Exit|Warning)):(?: |$)"
)
_PATH = re.compile(r"'/[^']*'|(?<![\w.])/[^\s:'\"]+")
_MAX_WHERES = 3


def exception_of(error: str | None) -> tuple[str, str]:
    """The exception a configure error names and its message (``("KeyError", "'label'")``,
    paths as ``<path>``): the real side logs ``Error while configuring device ID: KeyError:
    'label'``, ours ``FILE:LINE: PLUGIN: configure: KeyError: 'label'``."""
    line = _last_line(error or "")
    found = _EXCEPTION.search(line)
    if found is None:
        return "", line
    # Paths name each side's own directories and each device's files.
    return found.group(1), _PATH.sub("<path>", line[found.end() :].strip())


def _neither(report: TargetReport, failed: list[tuple[str, str | None, str | None]]) -> None:
    """Devices no side configured: a note per exception when both sides raised the same,
    a problem per device when not."""
    groups: dict[tuple[str, str], list[str]] = {}
    for where, real, embedded in failed:
        (kind, message), (other, said) = exception_of(real), exception_of(embedded)
        if kind == other and (kind or message == said):
            groups.setdefault((kind, message), []).append(where)
        else:
            report.problems.append(
                f"{where}: configured by neither side, with different errors; "
                f"real: {_last_line(real or '')}; embedded: {_last_line(embedded or '')}"
            )
    for (kind, message), wheres in groups.items():
        shown = ", ".join(wheres[:_MAX_WHERES])
        more = f" and {len(wheres) - _MAX_WHERES} more" if len(wheres) > _MAX_WHERES else ""
        said = f"both raising {kind}: {message}" if kind else f"both saying {message}"
        report.notes.append(
            f"configured by neither side, {said} ({len(wheres)} render(s): {shown}{more})"
        )


def compare(plugin_id: str, real: SideResult, embedded: SideResult) -> TargetReport:
    """The report of one target from both sides' results."""
    report = TargetReport(plugin_id)
    if real.error and embedded.error:
        report.notes.append(
            f"both sides failed; real: {_last_line(real.error)}; "
            f"embedded: {_last_line(embedded.error)}"
        )
        return report
    for side in (real, embedded):
        if side.error:
            report.problems.append(f"{side.side} side failed: {side.error}")
    if report.problems:
        return report
    starts = [s.started for s in (real, embedded) if s.started]
    window = (min(starts, default=0.0), max(real.ended, embedded.ended))
    report.files += compare_files("common", real.common, embedded.common, window)
    by_key = {(r.label, r.model, r.mac): r for r in embedded.renders}
    report.models = len({r.model for r in real.renders} | {r.model for r in embedded.renders})
    report.renders = len(real.renders)
    failed: list[tuple[str, str | None, str | None]] = []
    for r in real.renders:
        e = by_key.pop((r.label, r.model, r.mac), None)
        where = f"{r.label}/{r.model}"
        if e is None:
            report.problems.append(f"{where}: rendered by the real side only")
            continue
        if not r.configured and not e.configured:
            report.neither += 1
            failed.append((where, r.error, e.error))
        if r.configured != e.configured:
            report.problems.append(
                f"{where} ({r.mac}): configured by "
                f"{'real' if r.configured else 'embedded'} provd only; "
                f"the other said: {(e.error if r.configured else r.error) or '?'}"
            )
        report.files += compare_files(where, r.files, e.files, window)
    for label, model, _mac in by_key:
        report.problems.append(f"{label}/{model}: rendered by the embedded side only")
    report.files += compare_files(OUTSIDE, real.outside, embedded.outside, window)
    _neither(report, failed)
    return report


def summary(reports: Iterable[TargetReport]) -> dict[str, int]:
    """Counts over all targets: files per status, targets, targets with problems."""
    totals = {s: 0 for s in ("identical", "volatile", "differs", "only-real", "only-embedded")}
    counts = dict.fromkeys(("models", "renders", "configured by neither side"), 0)
    targets = problems = 0
    for report in reports:
        targets += 1
        problems += bool(report.problems)
        counts["models"] += report.models
        counts["renders"] += report.renders
        counts["configured by neither side"] += report.neither
        for f in report.files:
            totals[f.status] += 1
    return {**totals, "targets": targets, **counts, "targets with problems": problems}


def format_report(report: TargetReport, *, diffs: bool = True) -> str:
    """Human-readable text of one target's comparison."""
    head = (
        f"{report.plugin_id}: {report.count('identical')} identical, "
        f"{report.count('volatile')} identical but for volatile values, "
        f"{report.count('differs')} differ, {report.count('only-real')} only real, "
        f"{report.count('only-embedded')} only embedded; {report.models} model(s), "
        f"{report.renders} render(s), {report.neither} configured by neither side"
    )
    lines = [head]
    lines += [f"  note: {n}" for n in report.notes]
    lines += [f"  problem: {p}" for p in report.problems]
    for f in report.files:
        if f.status == "volatile":
            lines.append(f"  volatile: {f.where}/{f.path} ({', '.join(sorted(f.volatile))})")
        elif f.status != "identical":
            lines.append(f"  {f.status}: {f.where}/{f.path}")
            if diffs and f.diff:
                lines += ["    " + line for line in f.diff.rstrip("\n").split("\n")]
    return "\n".join(lines)
