"""``firmware-consistency``: one firmware version in entry.py, plugin-info, pkgs.db, build.py.

Each relation of :mod:`pytest_provd.checks._facts` is checked only where the target's family
follows it (see there); every failure names each place to update.
"""

from __future__ import annotations

from pytest_provd.capabilities import covers
from pytest_provd.checks._base import CheckContext, find_line
from pytest_provd.checks._facts import (
    TargetFacts,
    expected_versions,
    family_conventions,
    matches_target,
    same_version,
    sibling_versions,
    target_facts,
    version_tokens,
)
from pytest_provd.problems import Problem


def check_firmware_consistency(ctx: CheckContext) -> list[Problem]:
    """Check that the target's firmware version is the same everywhere it is written."""
    facts = target_facts(ctx.target)
    conventions = family_conventions(ctx.family)
    problems: list[Problem] = []
    if (
        conventions["entry-capabilities"].enforced
        and facts.relations["entry-capabilities"] is False
    ):
        problems += _entry_vs_capabilities(ctx, facts, conventions["entry-capabilities"].describe())
    if conventions["capabilities-pkgs"].enforced and facts.relations["capabilities-pkgs"] is False:
        problems += _capabilities_vs_pkgs(ctx, facts, conventions["capabilities-pkgs"].describe())
    if conventions["target-id"].enforced and facts.relations["target-id"] is False:
        problems += _target_id(ctx, facts, conventions["target-id"].describe())
    if conventions["plugin-id"].enforced and facts.relations["plugin-id"] is False:
        build_py = ctx.rel(ctx.target.build_py)
        problems.append(
            Problem(
                build_py,
                f"plugin id {ctx.target.plugin_id!r} does not end with the version of target "
                f"{ctx.target.target_id!r} ({conventions['plugin-id'].describe()})",
                ctx.target.build_py_line,
                section=f"@target({ctx.target.target_id!r})",
                fix=f"update the plugin id of the @target in build.py line "
                f"{ctx.target.build_py_line}",
            )
        )
    return problems


def _entry_vs_capabilities(ctx: CheckContext, facts: TargetFacts, why: str) -> list[Problem]:
    assert facts.entry is not None and facts.info is not None
    entry, info = facts.entry, facts.info
    entry_shown, info_shown = ctx.rel(entry.path), ctx.rel(info.path)
    text = entry.path.read_text(encoding="utf-8")
    # (entry.py place, its version(s), capability version) -> capability keys
    groups: dict[tuple[str, int | None, str, str], list[str]] = {}
    for model, found in facts.capability_versions().items():
        expected = expected_versions(entry, model)
        if not expected:
            continue
        for version, key in found:
            if any(same_version(version, e) for e in expected):
                continue
            mapped = [m for m in entry.model_versions if m == model or covers(model, m)]
            if mapped:
                name = entry.models_name or "MODEL_VERSIONS"
                line = find_line(text, f"'{mapped[0]}'", entry.lines.get(name, 1))
                where = name
            else:
                where = entry.version_name or "VERSION"
                line = entry.lines.get(where)
            groups.setdefault((where, line, " or ".join(expected), version), []).append(key)
    problems = []
    merged: dict[tuple[str, str, str], tuple[list[int | None], list[str]]] = {}
    for (where, line, wanted, version), keys in groups.items():
        lines, all_keys = merged.setdefault((where, wanted, version), ([], []))
        lines.append(line)
        all_keys.extend(keys)
    for (where, wanted, version), (lines, keys) in merged.items():
        line = lines[0]
        if len(lines) > 1:
            where = f"{where} (lines {', '.join(str(n) for n in lines)})"
        first = keys[0]
        others = f" (and {len(keys) - 1} more capabilities)" if len(keys) > 1 else ""
        problems.append(
            Problem(
                entry_shown,
                f"{where} is {wanted} but capability {first!r}{others} of {info_shown} says "
                f"{version} ({why})",
                line,
                fix=f"update {where} in {entry_shown} line {line} to {version}, or the capability "
                f"keys in {info_shown} (line {info.capability_lines.get(first)}) to {wanted}",
            )
        )
    return problems


def _capabilities_vs_pkgs(ctx: CheckContext, facts: TargetFacts, why: str) -> list[Problem]:
    assert facts.pkgs is not None and facts.pkgs_path is not None and facts.info is not None
    pkgs_shown, info_shown = ctx.rel(facts.pkgs_path), ctx.rel(facts.info.path)
    siblings = sibling_versions(ctx.family, ctx.target.plugin_id)
    own = {version_tokens(v) for f in facts.capability_versions().values() for v, _ in f}
    stale = [
        p
        for p in facts.pkgs
        if version_tokens(p.version) in siblings and version_tokens(p.version) not in own
    ]
    problems = []
    missing = sorted(
        {
            v
            for f in facts.capability_versions().values()
            for v, _ in f
            if not any(same_version(v, p.version) for p in facts.pkgs)
        }
    )
    for version in missing:
        if stale:
            listed = ", ".join(
                f"[{p.name}] line {p.line} has {p.version} "
                f"(the firmware of {siblings[version_tokens(p.version)]})"
                for p in stale
            )
            fix = (
                "set version: "
                + version
                + " in pkgs.db "
                + ", ".join(f"[{p.name}] line {p.line}" for p in stale)
            )
            problems.append(
                Problem(
                    pkgs_shown,
                    f"no package has the capability firmware version {version}; {listed}",
                    stale[0].line,
                    section=stale[0].name,
                    fix=fix + " (and update its URIs, sizes and sha1sums)",
                )
            )
        else:
            problems.append(
                Problem(
                    pkgs_shown,
                    f"no package has the firmware version {version} of the capabilities in "
                    f"{info_shown} ({why})",
                    fix=f"add or update the firmware packages' version: in {pkgs_shown}, or the "
                    f"capability keys in {info_shown}",
                )
            )
    return problems


def _target_id(ctx: CheckContext, facts: TargetFacts, why: str) -> list[Problem]:
    tver = facts.target_version
    assert tver is not None and facts.info is not None
    info_shown = ctx.rel(facts.info.path)
    build_py = ctx.rel(ctx.target.build_py)
    wrong = sorted(
        {
            (v, key)
            for f in facts.capability_versions().values()
            for v, key in f
            if not matches_target(tver, v)
        }
    )
    versions_seen = sorted({v for v, _ in wrong})
    entry_hint = ""
    if facts.entry is not None and facts.entry.versions:
        line = facts.entry.lines.get("VERSION")
        entry_hint = f" / VERSION in {ctx.rel(facts.entry.path)} line {line}"
    return [
        Problem(
            build_py,
            f"target {ctx.target.target_id!r} ({ctx.target.plugin_id}) names version {tver} but "
            f"the capabilities in {info_shown} say {', '.join(versions_seen)} ({why})",
            ctx.target.build_py_line,
            section=f"@target({ctx.target.target_id!r})",
            fix=f"update the capability versions in {info_shown} (line "
            f"{facts.info.capability_lines.get(wrong[0][1])}){entry_hint}, or the @target in "
            f"build.py line {ctx.target.build_py_line}",
        )
    ]
