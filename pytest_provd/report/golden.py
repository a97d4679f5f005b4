"""Golden files: what a plugin generated for a model, kept for regression comparison.

Layout: ``<golden dir>/<plugin id>/<model>/<file name>``.  Before comparing, content is made
canonical so that only meaningful changes show:

* XML (anything that parses as XML) is re-serialised with C14N 2.0 and indented;
* line endings become ``\\n`` and trailing whitespace is dropped;
* volatile values are replaced by placeholders, in one pass so that a MAC is never read as
  two times: MAC addresses (``00:04:13:00:00:01``, ``00-04-13-00-00-01``,
  ``00_04_13_00_00_01`` and bare ``000413000001`` as in ``SEP000413000001.cnf.xml``, any case)
  become ``<MAC>``, loopback addresses with ports (``127.0.0.1:43817`` → ``127.0.0.1:<PORT>``),
  per-run loopback hosts (``127.1.2.3`` → ``<PHONE-IP>``) and ISO dates and times (``<DATE>``,
  ``<TIME>``).

Which MACs become ``<MAC>``: when the caller names the device's MACs (``macs=``), only those,
in any form; any other MAC stays as it is, so a file that starts carrying another MAC than its
device's fails.  Without ``macs``, every MAC-shaped value becomes ``<MAC>``: a bare MAC is then
any run of exactly 12 hex digits that is neither inside a longer hex run nor the last group of
a UUID, so a 12-digit number such as Yealink's ``y000000000028.cfg`` is normalised too.  The
form of a MAC (separator, case) is not compared: a wrong form in a file name shows in the
provision tier, where an emulated phone fetches its files by name.

MACs in file names are normalised by the same rule, as ``{MAC}`` (``SEP{MAC}.cnf.xml``): the
golden file of a per-device file then keeps its name whatever MAC the harness gives the model's
device, and reviewers see which part of the name is the MAC; ``{}`` unlike ``<>`` is valid in
file names everywhere and needs no quoting in a shell.

A missing golden file is written and the check fails (so a new file is reviewed once); a
mismatch writes ``<file>.obtained`` next to the golden file and fails with a unified diff.
``--provd-update-golden`` rewrites golden files instead of failing.

Stale golden files (of a target this run checked, but not produced by it) are reported from
the golden paths each test report carries (:meth:`GoldenStore.take_used`), so the report also
works under pytest-xdist, where the checks run on workers and the summary on the controller.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pytest_provd.problems import Problem

_HEX = "[0-9A-Fa-f]"
# Six hex pairs with one separator throughout, not inside a longer run of pairs (a fingerprint).
_MAC_SEPARATED = (
    rf"(?<!{_HEX})(?<!{_HEX}[:_-]){_HEX}{{2}}(?P<sep>[:_-])(?:{_HEX}{{2}}(?P=sep)){{4}}{_HEX}{{2}}"
    rf"(?!{_HEX})(?!(?P=sep){_HEX}{{2}}(?!{_HEX}))"
)
# Twelve hex digits, not inside a longer hex run (a digest) nor ending a UUID.
_MAC_BARE = rf"(?<!{_HEX})(?<!-{_HEX}{{4}}-){_HEX}{{12}}(?!{_HEX})"
_MACS = re.compile(rf"(?P<mac>{_MAC_SEPARATED}|{_MAC_BARE})")
# One pass, MACs first: a MAC is never read as two times, a time never inside a MAC.
_VOLATILE = re.compile(
    "|".join(
        [
            rf"(?P<mac>{_MAC_SEPARATED}|{_MAC_BARE})",
            r"\b(?P<host>127\.0\.0\.1|localhost):\d{2,5}\b",
            r"(?P<ip>\b127\.(?!0\.0\.1\b)\d{1,3}\.\d{1,3}\.\d{1,3}\b)",
            r"(?P<date>\b\d{4}-\d{2}-\d{2}\b)",
            r"(?P<time>\b\d{2}:\d{2}:\d{2}\b)",
        ]
    )
)
MAC_PLACEHOLDER = "<MAC>"
MAC_NAME_PLACEHOLDER = "{MAC}"


def _mac_digits(mac: str) -> str:
    return re.sub(r"[^0-9a-f]", "", mac.lower())


def _own_macs(macs: Iterable[str] | None) -> frozenset[str] | None:
    return None if macs is None else frozenset(_mac_digits(m) for m in macs)


def _placeholder(match: re.Match[str], own: frozenset[str] | None, mac: str) -> str:
    if match.group("mac") is not None:
        if own is None or _mac_digits(match.group("mac")) in own:
            return mac
        return match.group(0)
    if match.group("host") is not None:
        return f"{match.group('host')}:<PORT>"
    if match.group("ip") is not None:
        return "<PHONE-IP>"
    return "<DATE>" if match.group("date") is not None else "<TIME>"


def normalise_macs(
    text: str, macs: Iterable[str] | None = None, placeholder: str = MAC_PLACEHOLDER
) -> str:
    """*text* with MAC addresses replaced by *placeholder*: those of *macs*, or all if None."""
    own = _own_macs(macs)
    return _MACS.sub(lambda m: _placeholder(m, own, placeholder), text)


def canonicalize(data: bytes, macs: Iterable[str] | None = None) -> str:
    """Canonical text of a generated file (see the module docstring for the rules).

    *macs*: the MACs of the device the file was generated for; only they become ``<MAC>`` and
    any other MAC stays as it is.  None: every MAC becomes ``<MAC>``.
    """
    text = _canonical_xml(data)
    if text is None:
        text = data.decode("utf-8", errors="replace")
    own = _own_macs(macs)
    text = _VOLATILE.sub(lambda m: _placeholder(m, own, MAC_PLACEHOLDER), text)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def _canonical_xml(data: bytes) -> str | None:
    if not data.lstrip().startswith(b"<"):
        return None
    # Imported on first comparison: keeps pytest startup fast when no golden item runs.
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
    """Golden files under *root*; remembers which ones this process used."""

    root: Path
    update: bool = False
    used: set[Path] = field(default_factory=set)
    _taken: set[Path] = field(default_factory=set, repr=False)

    def path(
        self, plugin_id: str, model: str, filename: str, macs: Iterable[str] | None = None
    ) -> Path:
        """Where the golden copy of one generated file lives (MACs in the name as ``{MAC}``)."""
        safe = filename.replace("\\", "_").lstrip("/").replace("..", "__")
        safe = normalise_macs(safe, macs, MAC_NAME_PLACEHOLDER)
        return self.root / plugin_id / model / safe

    def check(
        self,
        plugin_id: str,
        model: str,
        filename: str,
        obtained: bytes,
        macs: Iterable[str] | None = None,
    ) -> list[Problem]:
        """Compare *obtained* with its golden file; problems describe and locate differences.

        *macs*: the device's MACs, normalised in content and name (None: every MAC is).
        """
        macs = None if macs is None else list(macs)
        golden = self.path(plugin_id, model, filename, macs)
        self.used.add(golden)
        got = canonicalize(obtained, macs)
        obtained_path = golden.with_name(golden.name + ".obtained")
        if self.update or not golden.exists():
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(got, encoding="utf-8")
            obtained_path.unlink(missing_ok=True)
            if self.update:
                return []
            return [
                Problem(
                    golden,
                    "golden file was missing and has been written from this run",
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

    def take_used(self) -> list[str]:
        """Golden files used since the last call, relative to the root (for a test report)."""
        new = self.used - self._taken
        self._taken |= new
        return sorted(path.relative_to(self.root).as_posix() for path in new)

    def stale(self, used: Iterable[str]) -> list[Path]:
        """Golden files of the targets *used* touches that the run did not produce.

        *used* holds golden paths relative to the root, as :meth:`take_used` gives them,
        collected from every test report of the run (every xdist worker).
        """
        produced = {self.root / name for name in used}
        plugin_ids = {Path(name).parts[0] for name in used}
        found = []
        for plugin_id in sorted(plugin_ids):
            base = self.root / plugin_id
            if base.is_dir():
                for path in sorted(base.rglob("*")):
                    if path.is_file() and not path.name.endswith(".obtained"):
                        if path not in produced:
                            found.append(path)
        return found


def _first_difference(expected: str, got: str) -> int:
    for number, (a, b) in enumerate(zip(expected.splitlines(), got.splitlines(), strict=False)):
        if a != b:
            return number + 1
    return min(len(expected.splitlines()), len(got.splitlines())) + 1
