"""Stable failure identity: the same defect has the same fingerprint in every run.

A problem's fingerprint hashes

* its file, relative to the plugins repository (the git checkout holding the plugins dir,
  else the plugins dir's parent);
* its rule: the generated item's check name (``pkgs-db``, ``models[7937G]``, ``provision``);
* its section (``[pkg_x]``), when it has one;
* the first line of its message, normalised (:meth:`Normaliser.text`);
* the stripped text of the offending source line instead of its number, when the file is
  readable: a line inserted above a known defect does not make it new.

Normalising replaces what changes from run to run or machine to machine: the repository's
absolute path (paths become relative to it), this package's and the venv's install paths
(``<pytest_provd>``, ``<site-packages>``, ``<venv>``), temp dirs (``<tmp>``), loopback ports
(``127.0.0.1:<PORT>``), MAC addresses (``<MAC>``, as the golden files do), the sizes of files
a phone fetched (``a.xml (200, <SIZE> B)``: a date in a file changes it) and references to
source lines inside messages (``entry.py:23``, ``lines 23, 24``, ``[pkg_x] line 40`` become
``entry.py:#``, ``lines #``, ``[pkg_x] line #``).  So a fingerprint does not depend on the run
order, ``-n``, the cwd, the rootdir, the venv, temp dirs, ports or emulated MACs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import site
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest_provd
from pytest_provd.problems import Problem, read_source_line
from pytest_provd.report.golden import normalise_macs

_PORT = re.compile(r"(?<![\w.])(127(?:\.\d{1,3}){3}|localhost|0\.0\.0\.0|\[::1?\]):\d{1,5}\b")
# The directories the harness makes (tempfile prefixes of its own), wherever the temp root is.
_SCRATCH = re.compile(
    r"(?:[^\s'\"(),;]*/)?(?:pytest-provd|provd-(?:embedded|serve|real-pkg|url-pkg|"
    r"url-firmware|fidelity|pkg))-[\w-]+"
)


def _ephemeral_port(match: re.Match[str]) -> str:
    # Ports below 10000 are chosen by people (provd's 8666, a test's 9); the kernel hands
    # out ephemeral ones from 32768 (Linux) or 49152 up.
    port = int(match[0].rsplit(":", 1)[1])
    return f"{match[1]}:<PORT>" if port >= 10000 else match[0]


# A reference to a source line inside a message: after a file-like word, a section or "at".
_FILE_LINE = re.compile(r"((?:[\w.@+-]+/)*[\w@+-]+(?:\.[\w-]+|-info))(?::\d+)+\b")
_WORD_LINE = re.compile(r"((?:\.[\w-]+|-info|\]|\bat) |\()line \d+\b|\bline \d+ and\b")
_LINES = re.compile(r"\blines \d+(?:(?:, | and |-)\d+)*")
_SIZE = re.compile(r"\((\d{3}), \d+ B\)")  # a fetch's status and size, as wording.fetched says
_PATH_END = r"(?=[/\s'\"(),:;\]]|$)"


def repo_root(plugins_dir: Path | None, git_root: Path | None = None) -> Path | None:
    """What problem paths are relative to: the git checkout, else the plugins dir's parent."""
    if git_root is not None:
        return git_root
    return plugins_dir.parent if plugins_dir is not None else None


@dataclass(frozen=True)
class Identity:
    """What a fingerprint is made of, kept readable for baseline files and reviews."""

    fingerprint: str
    file: str
    rule: str
    message: str
    section: str | None = None
    source: str | None = None

    def as_json(self) -> dict[str, str]:
        """The baseline-file entry (no null fields)."""
        data = {
            "fingerprint": self.fingerprint,
            "file": self.file,
            "rule": self.rule,
            "message": self.message,
        }
        if self.section is not None:
            data["section"] = self.section
        if self.source is not None:
            data["source"] = self.source
        return data


def fingerprint_of(*parts: str | None) -> str:
    """16 hex digits of sha256 over the parts (None and "" differ)."""
    text = "\0".join("\x01" if part is None else part for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Normaliser:
    """Replaces the volatile values of one run's failure texts (see the module docstring)."""

    def __init__(self, root: Path | None, *, tmp_dirs: Iterable[Path] = ()) -> None:
        self.root = root
        # (literal prefix, regex, replacement), the longest prefix first: a venv inside the
        # repository is the venv, the repository inside the home directory the repository.
        entries: list[tuple[str, str, str]] = []
        for path, name in _install_dirs():
            entries += [(form, re.escape(form) + _PATH_END, name) for form in _forms(path)]
        for form in _forms(root) if root is not None else ():
            entries.append((form + "/", re.escape(form + "/"), ""))
            entries.append((form, re.escape(form) + _PATH_END, "."))
        entries.sort(key=lambda entry: len(entry[0]), reverse=True)
        self._replacements = [replacement for _, _, replacement in entries]
        self._prefixes = re.compile("|".join(f"({regex})" for _, regex, _ in entries))
        tmp_roots = {form for d in [Path(tempfile.gettempdir()), *tmp_dirs] for form in _forms(d)}
        tmp_roots |= {"/tmp", "/var/tmp"}
        alternatives = "|".join(re.escape(p) for p in sorted(tmp_roots, key=len, reverse=True))
        # pytest's numbered basetemp dirs, else the one random-named dir under a temp root.
        self._tmp = re.compile(
            rf"(?:{alternatives})/(?:pytest-of-[^/\s]+/pytest-(?:\d+|current)|[^/\s'\"(),:;]+)"
        )

    def text(self, text: str) -> str:
        """*text* with paths, temp dirs, ports, MACs and source-line references normalised."""
        text = self._prefixes.sub(self._prefix_name, text)
        text = self._tmp.sub("<tmp>", text)
        text = _PORT.sub(r"\1:<PORT>", text)
        text = normalise_macs(text)
        text = _SIZE.sub(r"(\1, <SIZE> B)", text)
        text = _LINES.sub("lines #", text)
        text = _FILE_LINE.sub(r"\1:#", text)
        return _WORD_LINE.sub(_line_ref, text)

    def volatile(self, text: str) -> str:
        """*text* with only what differs between two runs of the same tree replaced: the
        scratch directories the harness makes and the ports the kernel picks for its servers
        (paths under the repository made relative first).  For the failure texts shown: the
        user's own paths and ports (``--provd-url``, ``--provd-firmware-dir``) stay."""
        text = self._prefixes.sub(self._prefix_name, text)
        text = _SCRATCH.sub("<tmp>", text)
        return _PORT.sub(_ephemeral_port, text)

    def _prefix_name(self, match: re.Match[str]) -> str:
        return self._replacements[(match.lastindex or 1) - 1]

    def path(self, path: Path | str) -> str:
        """*path* relative to the repository when under it (else normalised as text)."""
        text = Path(path).as_posix()
        return self.text(text) if Path(text).is_absolute() else text

    def source(self, problem: Problem) -> str | None:
        """The stripped text of *problem*'s line (read now when the problem did not carry it)."""
        if problem.source is not None or problem.line is None:
            return problem.source
        path = Path(str(problem.path))
        if not path.is_absolute():
            if self.root is None:
                return None
            path = self.root / path
        return read_source_line(path, problem.line)

    def identify(self, problem: Problem, rule: str) -> Identity:
        """The :class:`Identity` of *problem* found by the check *rule*."""
        file = self.path(problem.path)
        rule = problem.rule or rule
        message = self.text((problem.message.splitlines() or [""])[0].strip())
        source = self.source(problem)
        if source is not None:
            source = self.text(source)
        section = self.text(problem.section) if problem.section else None
        return Identity(
            fingerprint_of(file, rule, section, message, source),
            file,
            rule,
            message,
            section,
            source,
        )


def _line_ref(match: re.Match[str]) -> str:
    return f"{match.group(1)}line #" if match.group(1) else "line # and"


def _install_dirs() -> list[tuple[Path, str]]:
    """Where this package, the emulators, site-packages, the venv and Python live."""
    dirs = [(Path(pytest_provd.__file__).parent, "<pytest_provd>")]
    spec = importlib.util.find_spec("emulators")  # found, not imported
    if spec is not None and spec.origin:
        dirs.append((Path(spec.origin).parent, "<emulators>"))
    dirs += [(Path(p), "<site-packages>") for p in _site_dirs()]
    dirs += [(Path(sys.prefix), "<venv>"), (Path(sys.exec_prefix), "<venv>")]
    dirs.append((Path(sys.base_prefix), "<python>"))
    try:
        dirs.append((Path.home(), "~"))
    except RuntimeError:  # no home directory to speak of
        pass
    return dirs


def _forms(path: Path) -> set[str]:
    """*path* as given and resolved (symlinked temp dirs, /private/tmp)."""
    forms = {str(path).rstrip("/") or "/"}
    try:
        forms.add(str(path.resolve()))
    except OSError:
        pass
    return {f for f in forms if f != "/"}


@lru_cache(maxsize=1)
def _site_dirs() -> tuple[str, ...]:
    dirs = list(getattr(site, "getsitepackages", list)())
    user = getattr(site, "getusersitepackages", lambda: "")()
    return tuple(d for d in [*dirs, user] if d)
