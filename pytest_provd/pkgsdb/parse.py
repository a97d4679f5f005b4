"""Parsing ``pkgs.db`` into sections, packages, files and install recipes, with line numbers.

The format is described in :mod:`pytest_provd.pkgsdb`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from pytest_provd.problems import SourceError

#: install step commands and their argument counts (min, max; None = unbounded)
COMMANDS: dict[str, tuple[int, int | None]] = {
    "cp": (2, None),
    "unzip": (1, 1),
    "untar": (1, 1),
    "unrar": (1, 1),
    "7z": (1, 1),
    "unsign": (2, 2),
    "include": (1, None),
    "exclude": (1, None),
    "null": (0, 0),
}
PKG_KEYS = ("description", "version", "files", "install")
_SECTION = re.compile(r"^\[(?P<kind>pkg|file|install|global)(?:_(?P<name>[^\]]*))?\]\s*$")
_OPTION = re.compile(r"^(?P<key>[^:=\s][^:=]*?)\s*[:=]\s*(?P<value>.*)$")
_STEP_LABEL = re.compile(r"^(?P<src>[A-Za-z0-9_]+)-(?P<dst>[A-Za-z0-9_]+)$")
VAR = re.compile(r"\$(FILE|ARG)(\d+)")
SHA1 = re.compile(r"^[0-9a-f]{40}$")


@dataclass
class Option:
    """One ``key: value`` line."""

    value: str
    line: int


@dataclass
class Section:
    """A section as written, before interpretation."""

    kind: str
    name: str
    line: int
    options: dict[str, Option] = field(default_factory=dict)

    @property
    def header(self) -> str:
        """``pkg_x`` / ``file_x`` / ``install_x``."""
        return f"{self.kind}_{self.name}" if self.name else self.kind

    def get(self, key: str) -> str | None:
        """The option's value, or None."""
        option = self.options.get(key)
        return option.value if option is not None else None

    def line_of(self, key: str) -> int:
        """The option's line, or the header's line when absent."""
        option = self.options.get(key)
        return option.line if option is not None else self.line


@dataclass
class Package:
    """A ``[pkg_*]`` section."""

    name: str
    line: int
    description: str | None
    version: str | None
    files: list[str]
    install: str | None
    install_args: list[str]
    depends: list[str]
    section: Section


@dataclass
class FileEntry:
    """A ``[file_*]`` section."""

    name: str
    line: int
    url: str | None
    filename: str | None
    size: str | None
    sha1sum: str | None
    section: Section

    @property
    def local_name(self) -> str | None:
        """The file name the download is stored as."""
        if self.filename:
            return self.filename
        if self.url:
            return PurePosixPath(urlparse(self.url).path).name or None
        return None

    @property
    def size_int(self) -> int | None:
        """The size as an int, or None when not a positive integer."""
        if self.size is not None and self.size.strip().isdigit() and int(self.size) > 0:
            return int(self.size)
        return None


@dataclass
class InstallStep:
    """One ``<src>-<dst>: command args`` line of a recipe."""

    label: str
    src: str
    dst: str
    command: str
    args: list[str]
    line: int


@dataclass
class InstallRecipe:
    """An ``[install_*]`` section."""

    name: str
    line: int
    steps: list[InstallStep]
    section: Section


@dataclass
class PkgsDb:
    """A parsed pkgs.db."""

    path: Path
    packages: dict[str, Package]
    files: dict[str, FileEntry]
    installs: dict[str, InstallRecipe]
    sections: list[Section]
    duplicates: list[tuple[Section, Section]] = field(default_factory=list)


def _read_sections(text: str, path: Path) -> tuple[list[Section], list[tuple[Section, Section]]]:
    sections: list[Section] = []
    seen: dict[str, Section] = {}
    duplicates: list[tuple[Section, Section]] = []
    current: Section | None = None
    last_key: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if raw[0] in " \t" and current is not None and last_key is not None:
            # An indented line continues the previous value, as in ConfigParser.
            current.options[last_key].value += " " + stripped
            continue
        if stripped.startswith("["):
            match = _SECTION.match(stripped)
            if match is None:
                raise SourceError(
                    path,
                    f"bad section header {stripped!r}: expected [pkg_ID], [file_ID] or "
                    "[install_ID]",
                    number,
                )
            current = Section(match["kind"], match["name"] or "", number)
            if current.header in seen:
                duplicates.append((seen[current.header], current))
            else:
                seen[current.header] = current
            sections.append(current)
            last_key = None
            continue
        if current is None:
            raise SourceError(path, f"option outside any section: {stripped!r}", number)
        match = _OPTION.match(stripped)
        if match is None:
            raise SourceError(path, f"cannot read {stripped!r}: expected 'key: value'", number)
        key = match["key"].strip().lower() if current.kind != "install" else match["key"].strip()
        if key in current.options:
            raise SourceError(
                path,
                f"option {key!r} repeated in [{current.header}] "
                f"(first at line {current.options[key].line})",
                number,
            )
        current.options[key] = Option(match["value"].strip(), number)
        last_key = key
    return sections, duplicates


def parse(text: str, path: str | Path = "pkgs.db") -> PkgsDb:
    """Parse pkgs.db *text*; syntax errors raise :class:`SourceError` with the line."""
    path = Path(path)
    sections, duplicates = _read_sections(text, path)
    db = PkgsDb(path, {}, {}, {}, sections, duplicates)
    for section in sections:
        if any(section is later for _, later in duplicates):
            continue
        if section.kind == "pkg":
            install_tokens = (section.get("install") or "").split()
            db.packages[section.name] = Package(
                section.name,
                section.line,
                section.get("description"),
                section.get("version"),
                (section.get("files") or "").split(),
                install_tokens[0] if install_tokens else None,
                install_tokens[1:],
                (section.get("depends") or "").split(),
                section,
            )
        elif section.kind == "file":
            db.files[section.name] = FileEntry(
                section.name,
                section.line,
                section.get("url"),
                section.get("filename"),
                section.get("size"),
                section.get("sha1sum"),
                section,
            )
        elif section.kind == "install":
            steps = []
            for label, option in section.options.items():
                tokens = option.value.split()
                match = _STEP_LABEL.match(label)
                steps.append(
                    InstallStep(
                        label,
                        match["src"] if match else "",
                        match["dst"] if match else "",
                        tokens[0] if tokens else "",
                        tokens[1:],
                        option.line,
                    )
                )
            db.installs[section.name] = InstallRecipe(section.name, section.line, steps, section)
    return db


def load(path: str | Path) -> PkgsDb:
    """Read and parse a pkgs.db file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text: {exc.reason}") from exc
    return parse(text, path)


def dump(db: PkgsDb) -> str:
    """Serialise *db* (sections in their original order) so that ``parse`` reads it back."""
    out: list[str] = []
    for section in db.sections:
        if any(section is later for _, later in db.duplicates):
            continue
        out.append(f"[{section.header}]")
        for key, option in section.options.items():
            out.append(f"{key}: {option.value}")
        out.append("")
    return "\n".join(out)
