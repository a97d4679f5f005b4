"""Golden files: what a plugin generated for a model, kept for regression comparison.

Layout: ``<golden dir>/<plugin id>/<model>/<file name>``.  Before comparing, content is made
canonical so that only meaningful changes show:

* XML (anything that parses as XML) is re-serialised with C14N 2.0 and indented;
* line endings become ``\\n`` and trailing whitespace is dropped;
* volatile values are replaced by placeholders: loopback addresses with ports
  (``127.0.0.1:43817`` → ``127.0.0.1:<PORT>``), per-run loopback hosts (``127.1.2.3`` →
  ``<PHONE-IP>``) and ISO dates/times (``<DATE>``, ``<TIME>``).

A missing golden file is written and the check fails (so a new file is reviewed once); a
mismatch writes ``<file>.obtained`` next to the golden file and fails with a unified diff.
``--provd-update-golden`` rewrites golden files instead of failing.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from pytest_provd.problems import Problem

_PORT = re.compile(r"\b(127\.0\.0\.1|localhost):\d{2,5}\b")
_PHONE_IP = re.compile(r"\b127\.(?!0\.0\.1\b)\d{1,3}\.\d{1,3}\.\d{1,3}\b")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_TIME = re.compile(r"\b\d{2}:\d{2}:\d{2}\b")


def canonicalize(data: bytes) -> str:
    """Canonical text of a generated file (see the module docstring for the rules)."""
    text = _canonical_xml(data)
    if text is None:
        text = data.decode("utf-8", errors="replace")
    text = _PORT.sub(r"\1:<PORT>", text)
    text = _PHONE_IP.sub("<PHONE-IP>", text)
    text = _DATE.sub("<DATE>", text)
    text = _TIME.sub("<TIME>", text)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def _canonical_xml(data: bytes) -> str | None:
    if not data.lstrip().startswith(b"<"):
        return None
    from lxml import etree

    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None
    canonical = etree.tostring(root, method="c14n2", strip_text=True)  # type: ignore[call-overload]
    reparsed = etree.fromstring(canonical, parser)
    etree.indent(reparsed, space="  ")
    return str(etree.tostring(reparsed, encoding="unicode"))


@dataclass
class GoldenStore:
    """Golden files under *root*; remembers which ones this run used."""

    root: Path
    update: bool = False
    used: set[Path] = field(default_factory=set)

    def path(self, plugin_id: str, model: str, filename: str) -> Path:
        """Where the golden copy of one generated file lives."""
        safe = filename.replace("\\", "_").lstrip("/").replace("..", "__")
        return self.root / plugin_id / model / safe

    def check(self, plugin_id: str, model: str, filename: str, obtained: bytes) -> list[Problem]:
        """Compare *obtained* with its golden file; problems describe and locate differences."""
        golden = self.path(plugin_id, model, filename)
        self.used.add(golden)
        got = canonicalize(obtained)
        obtained_path = golden.with_name(golden.name + ".obtained")
        if self.update or not golden.exists():
            existed = golden.exists()
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(got, encoding="utf-8")
            obtained_path.unlink(missing_ok=True)
            if self.update:
                return []
            return [
                Problem(
                    golden,
                    "golden file was missing and has been written from this run"
                    + (" (replaced)" if existed else ""),
                    fix="review it, commit it, and run again",
                )
            ]
        expected = golden.read_text(encoding="utf-8")
        if expected == got:
            obtained_path.unlink(missing_ok=True)
            return []
        obtained_path.write_text(got, encoding="utf-8")
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                got.splitlines(keepends=True),
                fromfile=str(golden),
                tofile=str(obtained_path),
            )
        )
        first = _first_difference(expected, got)
        return [
            Problem(
                golden,
                f"generated {filename} differs from the golden file:\n{diff}",
                line=first,
                fix="if the change is intended, re-run with --provd-update-golden",
            )
        ]

    def stale(self, plugin_ids: set[str]) -> list[Path]:
        """Golden files of the given targets that this run did not produce."""
        found = []
        for plugin_id in sorted(plugin_ids):
            base = self.root / plugin_id
            if base.is_dir():
                for path in sorted(base.rglob("*")):
                    if path.is_file() and not path.name.endswith(".obtained"):
                        if path not in self.used:
                            found.append(path)
        return found


def _first_difference(expected: str, got: str) -> int:
    for number, (a, b) in enumerate(zip(expected.splitlines(), got.splitlines(), strict=False)):
        if a != b:
            return number + 1
    return min(len(expected.splitlines()), len(got.splitlines())) + 1
