"""Integrity checks of a parsed ``pkgs.db``: every problem located by line and section."""

from __future__ import annotations

from pathlib import PurePosixPath

from pytest_provd.pkgsdb.parse import (
    COMMANDS,
    PKG_KEYS,
    SHA1,
    VAR,
    InstallRecipe,
    Package,
    PkgsDb,
    Section,
)
from pytest_provd.problems import Problem


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
        elif not SHA1.match(entry.sha1sum):
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
        for kind, number in VAR.findall(" ".join(step.args)):
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
