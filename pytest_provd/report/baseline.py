"""Known-failure baselines, so a gate can be switched on over a tree with old defects.

Format version 2 (written by ``--provd-write-baseline``): JSON with sorted keys, two-space
indent and one entry per problem, so a rewritten baseline shows in review as the few entries
that changed::

    {
      "failures": {
        "<node id>": [
          {"file": "plugins/wazo_x/v1/entry.py", "fingerprint": "3f0c9a1b2d4e5f60",
           "message": "model 'T1' in MODELS has no capability ...", "rule": "models[T1]",
           "section": "...", "source": "MODELS = ['T1']"}
        ]
      },
      "version": 2
    }

Only ``fingerprint`` decides (:mod:`pytest_provd.report.identity`); the other fields say what
it stands for.  A failure is known when its node id is listed and each of its problems'
fingerprints is listed there: it is reported as xfailed ("baselined"), any other failure fails.
Entries carry no line numbers, so lines inserted above a known defect keep it known.

Version 1 files ``{"version": 1, "failures": {node id: [reason, ...]}}`` still load: a
failure is known when its node id is listed and each of its reasons (``location: first line
of the message``, the plugins dir stripped) is listed, both sides normalised as fingerprints
are (temp dirs, ports, MACs, install paths, line numbers).  Rewrite them to get version 2.

Listed node ids that pass are removable; the terminal summary says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_provd.problems import ProvdCheckFailed, SourceError
from pytest_provd.report.identity import Normaliser

FORMAT_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)


def reasons_of(exc: BaseException | None, text: str, plugins_dir: Path | None) -> list[str]:
    """Version-1 reasons of a failure: one per problem, first line only, plugins dir stripped."""
    if isinstance(exc, ProvdCheckFailed):
        lines = [p.summary() for p in exc.problems]
    elif exc is not None:
        lines = [f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"]
    else:
        lines = [(text.strip().splitlines() or [""])[-1]]
    if plugins_dir is not None:
        prefix = str(plugins_dir) + "/"
        lines = [line.replace(prefix, "") for line in lines]
    return lines


@dataclass
class Failure:
    """One failing item as a baseline sees it: fingerprints and version-1 reasons."""

    nodeid: str
    entries: list[dict[str, str]]
    reasons: list[str] = field(default_factory=list)

    @property
    def fingerprints(self) -> set[str]:
        """The fingerprints of its problems."""
        return {entry["fingerprint"] for entry in self.entries}


@dataclass
class Baseline:
    """Failures recorded in a baseline file, and what this run found about them."""

    version: int = FORMAT_VERSION
    fingerprints: dict[str, set[str]] = field(default_factory=dict)
    reasons: dict[str, set[str]] = field(default_factory=dict)
    normaliser: Normaliser | None = None
    passed: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path, normaliser: Normaliser | None = None) -> Baseline:
        """Read a baseline file (SourceError naming the file on bad content)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SourceError(path, f"invalid JSON: {exc.msg}", exc.lineno) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(path, f"cannot read the baseline: {exc}") from exc
        version = data.get("version") if isinstance(data, dict) else None
        if version not in SUPPORTED_VERSIONS:
            raise SourceError(
                path,
                f"not a pytest-provd baseline (version {FORMAT_VERSION}, or 1; found {version!r})",
            )
        failures = data.get("failures")
        if not isinstance(failures, dict):
            raise SourceError(path, '"failures" must map node ids to lists of entries')
        baseline = cls(version=version, normaliser=normaliser)
        for nodeid, listed in failures.items():
            if not isinstance(listed, list):
                raise SourceError(path, f"failures[{nodeid!r}] must be a list")
            if version == 1:
                baseline.reasons[str(nodeid)] = {_v1_entry(path, nodeid, v) for v in listed}
            else:
                baseline.fingerprints[str(nodeid)] = {_v2_entry(path, nodeid, v) for v in listed}
        if normaliser is not None:
            baseline.reasons = {
                nodeid: {normaliser.text(r) for r in reasons}
                for nodeid, reasons in baseline.reasons.items()
            }
        return baseline

    def nodeids(self) -> set[str]:
        """The node ids it lists."""
        return set(self.fingerprints) | set(self.reasons)

    def covers(self, failure: Failure) -> bool:
        """Whether *failure* is known: its node id listed, nothing of it that is not."""
        if self.version == 1:
            known = self.reasons.get(failure.nodeid)
            norm = self.normaliser.text if self.normaliser is not None else str
            return known is not None and {norm(r) for r in failure.reasons} <= known
        listed = self.fingerprints.get(failure.nodeid)
        return listed is not None and failure.fingerprints <= listed

    def removable(self) -> list[str]:
        """Listed node ids that passed in this run."""
        return sorted(nodeid for nodeid in self.nodeids() if nodeid in self.passed)


def _v1_entry(path: Path, nodeid: object, value: object) -> str:
    if not isinstance(value, str):
        raise SourceError(path, f"failures[{nodeid!r}]: version-1 reasons are strings")
    return value


def _v2_entry(path: Path, nodeid: object, value: object) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("fingerprint"), str):
        raise SourceError(
            path, f'failures[{nodeid!r}]: each entry is an object with a "fingerprint" string'
        )
    return str(value["fingerprint"])


def render(failures: Iterable[Failure]) -> str:
    """A version-2 baseline of *failures*: sorted, one entry per fingerprint."""
    data: dict[str, Any] = {"version": FORMAT_VERSION, "failures": {}}
    for failure in failures:
        entries: Mapping[str, dict[str, str]] = {e["fingerprint"]: e for e in failure.entries}
        data["failures"][failure.nodeid] = sorted(
            entries.values(), key=lambda e: (e["file"], e["message"], e["fingerprint"])
        )
    data["failures"] = dict(sorted(data["failures"].items()))
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: Path, failures: Iterable[Failure]) -> None:
    """Write a version-2 baseline of *failures* to *path*."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(failures), encoding="utf-8")
