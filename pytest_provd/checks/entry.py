"""``entry`` and ``models[<MODEL>]``: entry.py compiles, declares its models and versions
statically, and each model has a capability (and a per-model template where the family uses
them)."""

from __future__ import annotations

import difflib
from pathlib import Path

from pytest_provd import tree as tree_mod
from pytest_provd.capabilities import covers
from pytest_provd.checks._base import CheckContext, find_line
from pytest_provd.checks._entry import EntryInfo
from pytest_provd.checks._facts import family_conventions, same_version, target_facts
from pytest_provd.checks._templates import model_template_conventions, source_of
from pytest_provd.problems import Problem
from pytest_provd.sourcemap import missing_template_fix


def _entry(ctx: CheckContext) -> EntryInfo | None:
    return target_facts(ctx.target).entry


def entry_models(target: tree_mod.Target) -> list[str] | None:
    """The models *target*'s entry.py declares, None when it names none statically.

    The one reader of entry.py's ``MODELS`` (and its ``MODEL_VERSIONS``-style maps, and
    ``MODEL``): :func:`pytest_provd.checks._entry.read_entry`, memoised per target.  The
    ``entry`` and ``models[...]`` checks and the per-model items of the dynamic tiers
    (:func:`pytest_provd.suite.target_models`) all read models through it, so they agree on
    what a target declares.
    """
    entry = target_facts(target).entry
    return list(entry.models) if entry is not None and entry.models is not None else None


def check_entry(ctx: CheckContext) -> list[Problem]:
    """entry.py exists, compiles, and its MODELS/VERSION are statically readable."""
    path = ctx.source_file("entry.py")
    if path is None:
        where = ctx.target.source_dir or ctx.family.path
        return [
            Problem(ctx.rel(where), "has no entry.py", fix="copy entry.py from a sibling target")
        ]
    shown = ctx.rel(path)
    try:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    except SyntaxError as exc:
        return [
            Problem(shown, f"does not compile: {exc.msg}", exc.lineno, fix="fix the Python syntax")
        ]
    except (ValueError, UnicodeDecodeError) as exc:
        return [Problem(shown, f"cannot be read: {exc}", fix="save it as UTF-8 Python source")]
    entry = _entry(ctx)
    assert entry is not None
    problems = []
    for name, unresolved in sorted(entry.unresolved.items()):
        if name in ("MODELS", "VERSION", "MODEL") or name.startswith("MODEL"):
            problems.append(
                Problem(
                    shown,
                    f"{name} is not statically resolvable: it {unresolved.why}",
                    unresolved.line or entry.lines.get(name),
                    fix=f"write {name} as a literal (list, dict or string) so it can be "
                    "checked against plugin-info",
                )
            )
    for name, line, why in entry.problems:
        problems.append(Problem(shown, f"{name} {why}", line, fix=f"make {name} a literal"))
    if entry.models is not None:
        seen: set[str] = set()
        for model in entry.models:
            if model in seen:
                problems.append(
                    Problem(
                        shown,
                        f"model {model!r} is listed twice in {entry.models_name}",
                        _model_line(entry, model),
                        fix="remove the duplicate",
                    )
                )
            seen.add(model)
    return problems


def model_ids(ctx: CheckContext) -> list[str]:
    """Models of the target for ``models[...]`` items: entry.py's, then plugin-info's others.

    A capability model standing for entry.py models (``T73(U)(W)`` for ``T73U``) adds none.
    """
    declared = entry_models(ctx.target) or []
    out = list(declared)
    for model in target_facts(ctx.target).capability_versions():
        if model == "*" or model in out:
            continue
        if not any(covers(model, m) for m in declared):
            out.append(model)
    return out


def check_model(ctx: CheckContext, model: str) -> list[Problem]:
    """*model* is in MODELS and has a capability with entry.py's version, and vice versa."""
    facts = target_facts(ctx.target)
    entry, info = facts.entry, facts.info
    caps = facts.capability_versions()
    declared = entry_models(ctx.target)
    problems: list[Problem] = []
    if entry is not None and declared is not None and model not in declared:
        if info is not None and model in caps:
            key = caps[model][0][1]
            problems.append(
                Problem(
                    ctx.rel(info.path),
                    f"capability {key!r} names model {model!r}, which is not in "
                    f"{entry.models_name} of "
                    f"{ctx.rel(entry.path)}:{entry.lines.get(entry.models_name or '')}"
                    f"{_near(model, declared)}",
                    info.capability_lines.get(key),
                    section=f"capabilities[{key!r}]",
                    fix=f"add {model!r} to {entry.models_name} or fix the capability key",
                )
            )
        return problems
    if entry is None or declared is None:
        return _model_templates(ctx, model)
    covering = {cap: found for cap, found in caps.items() if covers(cap, model)}
    if info is not None and not covering and "*" not in info.capabilities:
        problems.append(
            Problem(
                ctx.rel(entry.path),
                f"model {model!r} in {entry.models_name} has no capability in "
                f"{ctx.rel(info.path)}{_near(model, list(caps))}",
                _model_line(entry, model),
                fix=f'add a "Vendor, {model}, Version" capability to plugin-info or remove '
                f"{model!r} from {entry.models_name}",
            )
        )
    expected = entry.version_for(model)
    if (
        info is not None
        and expected
        and family_conventions(ctx.family)["entry-capabilities"].enforced
    ):
        for version, key in (item for found in covering.values() for item in found):
            if any(same_version(version, e) for e in expected):
                continue
            problems.append(
                Problem(
                    ctx.rel(info.path),
                    f"capability {key!r} has version {version} but "
                    f"{ctx.rel(entry.path)}:{_model_line(entry, model)} says "
                    f"{' or '.join(expected)} for {model!r}",
                    info.capability_lines.get(key),
                    section=f"capabilities[{key!r}]",
                    fix=f"use version {expected[0]} in the capability key, or update "
                    f"{ctx.rel(entry.path)} line {_model_line(entry, model)}",
                )
            )
    problems += _model_templates(ctx, model)
    return problems


def _near(model: str, names: list[str]) -> str:
    close = difflib.get_close_matches(model, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _model_line(entry: EntryInfo, model: str) -> int | None:
    start = entry.lines.get(entry.models_name or "", 1)
    try:
        text = Path(entry.path).read_text(encoding="utf-8")
    except OSError:
        return start
    return find_line(text, f"'{model}'", start) or find_line(text, f'"{model}"', start) or start


def _model_templates(ctx: CheckContext, model: str) -> list[Problem]:
    built = ctx.built_dir()
    entry = target_facts(ctx.target).entry
    models = entry.models if entry is not None and entry.models else model_ids(ctx)
    if model not in models:
        return []
    problems = []
    for conv in model_template_conventions(built, models):
        rel = conv.path_for(model)
        if (built / rel).is_file():
            continue
        example_model = conv.examples[0]
        example = conv.path_for(example_model)
        origin = source_of(ctx.family.path, built, example, ctx.target.source_dir)
        where = f" (as {ctx.rel(origin)} is for {example_model!r})" if origin else ""
        problems.append(
            Problem(
                ctx.rel(ctx.target.build_py),
                f"model {model!r} has no per-model template {rel} in the built plugin "
                f"{ctx.target.plugin_id}; the family has one for {len(conv.examples)} of "
                f"{len(models)} models",
                ctx.target.build_py_line,
                fix=f"add the template {Path(rel).name}{where}; "
                + missing_template_fix(ctx.target, rel),
            )
        )
    return problems
