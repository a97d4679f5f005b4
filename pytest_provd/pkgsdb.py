"""``pkgs.db``: a plugin's firmware catalogue, parsed with line numbers and checked.

The format (fetchfw's) is INI-like with three kinds of sections::

    [pkg_D785-fw]                 a package provd offers for installation
    description: Firmware for Snom D785
    version: 10.1.215.13
    files: 785-fw                 [file_*] ids, space separated
    install: snom-fw              an [install_*] id, optionally followed by $ARGn values
    depends: base-fw              optional [pkg_*] ids

    [file_785-fw]                 one downloadable file
    url: https://.../snomD785-10.1.215.13-SIP-r.bin
    size: 49107200
    sha1sum: bfb5b1c6...          40 hex digits
    filename: ...                 optional; defaults to the url's last path component

    [install_snom-fw]             a recipe: a graph of steps
    a-b: cp $FILE1 firmware/      "<input node>-<output node>: <command> <args>"

Node ``a`` holds the package's downloaded files; every step reads one node and writes
another; nodes no step reads from are copied to the plugin's tftpboot.  ``$FILEn`` names the
n-th file of the package, ``$ARGn`` the n-th argument given after the install id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from pytest_provd.problems import Problem, SourceError

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
_VAR = re.compile(r"\$(FILE|ARG)(\d+)")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


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


def check(db: PkgsDb) -> list[Problem]:
    """Every integrity problem of *db*, each located by line and section."""
    problems: list[Problem] = []

    def report(section: Section, message: str, line: int | None = None, fix: str = "") -> None:
        problems.append(
            Problem(db.path, message, line or section.line, section.header, fix or None)
        )

    for first, again in db.duplicates:
        report(again, f"duplicate section (first at line {first.line})", fix="merge or rename")
    used_files: set[str] = set()
    used_installs: set[str] = set()
    for pkg in db.packages.values():
        sec = pkg.section
        for key in PKG_KEYS:
            if not sec.get(key):
                report(sec, f"missing '{key}'", fix=f"add '{key}: ...' to [{sec.header}]")
        for file_id in pkg.files:
            used_files.add(file_id)
            if file_id not in db.files:
                report(
                    sec,
                    f"file '{file_id}' has no [file_{file_id}] section",
                    sec.line_of("files"),
                    fix=f"add [file_{file_id}] or fix the name",
                )
        if pkg.install is not None:
            used_installs.add(pkg.install)
            recipe = db.installs.get(pkg.install)
            if recipe is None:
                report(
                    sec,
                    f"install '{pkg.install}' has no [install_{pkg.install}] section",
                    sec.line_of("install"),
                    fix=f"add [install_{pkg.install}] or fix the name",
                )
            else:
                problems.extend(_check_vars(db, pkg, recipe))
        for dep in pkg.depends:
            if dep not in db.packages:
                report(sec, f"depends on unknown package '{dep}'", sec.line_of("depends"))
    for entry in db.files.values():
        sec = entry.section
        if not entry.url and not entry.filename:
            report(sec, "needs 'url' or 'filename'", fix="add the download url")
        if entry.size is None:
            report(sec, "missing 'size'", fix="add 'size: <bytes>'")
        elif entry.size_int is None:
            report(
                sec,
                f"size {entry.size!r} is not a positive integer",
                sec.line_of("size"),
                fix="write the file size in bytes",
            )
        if entry.sha1sum is None:
            report(sec, "missing 'sha1sum'", fix="add 'sha1sum: <40 hex digits>'")
        elif not _SHA1.match(entry.sha1sum):
            report(
                sec,
                f"sha1sum {entry.sha1sum!r} is not 40 lowercase hex digits",
                sec.line_of("sha1sum"),
                fix="recompute it (sha1sum FILE)",
            )
        if entry.name not in used_files:
            report(sec, "orphan file: no package uses it", fix="remove it or list it in a package")
    for recipe in db.installs.values():
        problems.extend(_check_recipe(db, recipe))
        if recipe.name not in used_installs:
            report(recipe.section, "orphan install: no package uses it", fix="remove it")
    for section in db.sections:
        if section.kind == "global":
            continue
        if not section.name:
            report(section, "section has no id after the '_'")
    return problems


def _check_recipe(db: PkgsDb, recipe: InstallRecipe) -> list[Problem]:
    problems: list[Problem] = []
    section = recipe.section
    if not recipe.steps:
        problems.append(Problem(db.path, "install recipe has no step", recipe.line, section.header))
    produced = {"a"}
    for step in recipe.steps:
        where = {"line": step.line, "section": section.header}
        if not step.src:
            problems.append(
                Problem(
                    db.path,
                    f"step label {step.label!r} is not '<input>-<output>' (e.g. a-b)",
                    fix="name steps like 'a-b: ...'",
                    **where,  # type: ignore[arg-type]
                )
            )
            continue
        if step.src not in produced:
            problems.append(
                Problem(
                    db.path,
                    f"step {step.label} reads node '{step.src}' that no earlier step produces "
                    f"(available: {', '.join(sorted(produced))})",
                    fix="order steps so each input is produced first",
                    **where,  # type: ignore[arg-type]
                )
            )
        if step.dst == "a" or step.dst == step.src:
            problems.append(
                Problem(
                    db.path,
                    f"step {step.label} writes into its own input or the source node",
                    **where,  # type: ignore[arg-type]
                )
            )
        produced.add(step.dst)
        arity = COMMANDS.get(step.command)
        if arity is None:
            problems.append(
                Problem(
                    db.path,
                    f"unknown install command {step.command!r} "
                    f"(known: {', '.join(sorted(COMMANDS))})",
                    **where,  # type: ignore[arg-type]
                )
            )
            continue
        low, high = arity
        if len(step.args) < low or (high is not None and len(step.args) > high):
            expected = f"{low}" if low == high else f"{low}+" if high is None else f"{low}-{high}"
            problems.append(
                Problem(
                    db.path,
                    f"{step.command} takes {expected} argument(s), got {len(step.args)}",
                    **where,  # type: ignore[arg-type]
                )
            )
        for arg in step.args:
            if arg.startswith("/") or ".." in PurePosixPath(arg).parts:
                problems.append(
                    Problem(
                        db.path,
                        f"argument {arg!r} leaves the install sandbox",
                        fix="use a relative path inside the node",
                        **where,  # type: ignore[arg-type]
                    )
                )
    return problems


def _check_vars(db: PkgsDb, pkg: Package, recipe: InstallRecipe) -> list[Problem]:
    problems = []
    for step in recipe.steps:
        for kind, number in _VAR.findall(" ".join(step.args)):
            available = len(pkg.files) if kind == "FILE" else len(pkg.install_args)
            if int(number) < 1 or int(number) > available:
                problems.append(
                    Problem(
                        db.path,
                        f"${kind}{number} used by [install_{recipe.name}] line {step.line} but "
                        f"package {pkg.name} provides {available} "
                        f"{'file' if kind == 'FILE' else 'argument'}(s)",
                        pkg.section.line_of("files" if kind == "FILE" else "install"),
                        pkg.section.header,
                    )
                )
    return problems


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
