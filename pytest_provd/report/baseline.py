"""Known-failure baselines, so a gate can be switched on over a tree with old defects.

A baseline file is JSON ``{"version": 1, "failures": {node id: [reason, ...]}}``.  A failure
whose node id *and* reasons are all listed is reported as an expected failure; any other
failure fails as usual.  Reasons are the problem lines with the plugins directory stripped,
so a baseline written on one machine holds on another.  Listed ids that pass are removable
and the terminal summary says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pytest_provd.problems import ProvdCheckFailed, SourceError

FORMAT_VERSION = 1


def reasons_of(exc: BaseException | None, text: str, plugins_dir: Path | None) -> list[str]:
    """Stable reasons for a failure: one per problem, first line only, paths made relative."""
    if isinstance(exc, ProvdCheckFailed):
        lines = [
            f"{p.location()}: {p.message.splitlines()[0] if p.message else ''}"
            for p in exc.problems
        ]
    elif exc is not None:
        lines = [f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"]
    else:
        lines = [(text.strip().splitlines() or [""])[-1]]
    if plugins_dir is not None:
        prefix = str(plugins_dir) + "/"
        lines = [line.replace(prefix, "") for line in lines]
    return lines


@dataclass
class Baseline:
    """Failures recorded in a baseline file, and what this run found about them."""

    failures: dict[str, list[str]] = field(default_factory=dict)
    passed: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path) -> Baseline:
        """Read a baseline file (SourceError naming the file on bad content)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SourceError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
        if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
            raise SourceError(path, f"not a pytest-provd baseline (version {FORMAT_VERSION})")
        failures = data.get("failures")
        if not isinstance(failures, dict) or not all(
            isinstance(v, list) and all(isinstance(r, str) for r in v) for v in failures.values()
        ):
            raise SourceError(path, '"failures" must map node ids to lists of reasons')
        return cls(failures={str(k): list(v) for k, v in failures.items()})

    def covers(self, nodeid: str, reasons: list[str]) -> bool:
        """Whether this failure is already known (same id, no reason that is not listed)."""
        known = self.failures.get(nodeid)
        return known is not None and set(reasons) <= set(known)

    def removable(self) -> list[str]:
        """Listed ids that passed in this run."""
        return sorted(nodeid for nodeid in self.failures if nodeid in self.passed)


def write(path: Path, failures: dict[str, list[str]]) -> None:
    """Write a baseline of *failures* (sorted, so diffs in review stay small)."""
    data = {"version": FORMAT_VERSION, "failures": dict(sorted(failures.items()))}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
