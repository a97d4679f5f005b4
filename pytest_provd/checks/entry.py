"""``entry`` and ``models[<MODEL>]``: entry.py compiles, declares its models and versions
statically, and each model has a capability (a model each file names differently is said
once) and the per-model template the family has for it, where provd's fallback to
``base.tpl`` would render something else."""

from __future__ import annotations

import difflib
from pathlib import Path

import jinja2

from pytest_provd import tree as tree_mod
from pytest_provd.capabilities import covers
from pytest_provd.checks._base import CheckContext, cached, find_line
from pytest_provd.checks._facts import TargetFacts, target_facts, version_tokens
from pytest_provd.checks._templates import (
    DEFAULT_TPL_DIR,
    model_template_conventions,
    remembered_fallback_difference,
    source_of,
    template_files,
)
from pytest_provd.problems import Problem
from pytest_provd.rendering.shipping import missing_template_fix


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
    facts = target_facts(ctx.target)
    entry = facts.entry
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
                        _model_line(facts, model),
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
    paired = set(misnamed_pairs(ctx.target).values())  # said by the entry.py model's item
    for model in target_facts(ctx.target).capability_versions():
        if model == "*" or model in out or model in paired:
            continue
        if not any(covers(model, m) for m in declared):
            out.append(model)
    return out


def misnamed_pairs(target: tree_mod.Target) -> dict[str, str]:
    """``{entry.py model: capability model}`` for models each file names differently.

    An entry.py model no capability stands for, and a capability model not in entry.py and
    standing for none of its models, that are each other's closest name (``7937G`` and
    ``7937``): one cause, said once, by the entry.py model's item.
    """
    facts = target_facts(target)
    known: dict[str, str] | None = facts.derived.get("misnamed_pairs")
    if known is None:
        known = facts.derived["misnamed_pairs"] = _misnamed_pairs(facts)
    return dict(known)


def _misnamed_pairs(facts: TargetFacts) -> dict[str, str]:
    entry = facts.entry
    declared = list(entry.models) if entry is not None and entry.models is not None else None
    if declared is None or facts.info is None or "*" in facts.info.capabilities:
        return {}
    caps = facts.capability_versions()
    lonely = [m for m in declared if not any(covers(cap, m) for cap in caps)]
    unlisted = [
        cap for cap in caps if cap not in declared and not any(covers(cap, m) for m in declared)
    ]
    pairs = {}
    for model in lonely:
        near = difflib.get_close_matches(model, unlisted, n=1, cutoff=0.6)
        if near and difflib.get_close_matches(near[0], lonely, n=1, cutoff=0.6) == [model]:
            pairs[model] = near[0]
    return pairs


def check_model(ctx: CheckContext, model: str) -> list[Problem]:
    """*model* is in MODELS and has a capability, and vice versa (versions are the
    ``firmware-consistency`` item's); its per-model template where the family needs one."""
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
    other = misnamed_pairs(ctx.target).get(model)
    if info is not None and other is not None:
        key = caps[other][0][1]
        problems.append(
            Problem(
                ctx.rel(entry.path),
                f"model {model!r} in {entry.models_name} has no capability in "
                f"{ctx.rel(info.path)}, and capability {key!r} "
                f"({ctx.rel(info.path)}:{info.capability_lines.get(key)}) names {other!r}, "
                f"which is not in {entry.models_name}{_near(model, [other])} (one model under "
                "two names, or two models each missing from one file)",
                _model_line(facts, model),
                fix=f"use one name in both files ({model!r} or {other!r}), or add the missing "
                "model to each",
            )
        )
    elif info is not None and not covering and "*" not in info.capabilities:
        problems.append(
            Problem(
                ctx.rel(entry.path),
                f"model {model!r} in {entry.models_name} has no capability in "
                f"{ctx.rel(info.path)}{_near(model, list(caps))}",
                _model_line(facts, model),
                fix=f'add a "Vendor, {model}, Version" capability to plugin-info or remove '
                f"{model!r} from {entry.models_name}",
            )
        )
    # A capability version differing from entry.py's is firmware-consistency's to say: it
    # names every place of the version, once for the target, not once per model.
    problems += _model_templates(ctx, model)
    return problems


def _near(model: str, names: list[str]) -> str:
    close = difflib.get_close_matches(model, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _model_line(facts: TargetFacts, model: str) -> int | None:
    entry = facts.entry
    assert entry is not None
    start = entry.lines.get(entry.models_name or "", 1)
    if "entry_text" not in facts.derived:  # read once, not once per model
        try:
            facts.derived["entry_text"] = Path(entry.path).read_text(encoding="utf-8")
        except OSError:
            facts.derived["entry_text"] = None
    text: str | None = facts.derived["entry_text"]
    if text is None:
        return start
    return find_line(text, f"'{model}'", start) or find_line(text, f'"{model}"', start) or start


def _model_templates(ctx: CheckContext, model: str) -> list[Problem]:
    built = ctx.built_dir()
    entry = target_facts(ctx.target).entry
    models = entry.models if entry is not None and entry.models else model_ids(ctx)
    if model not in models:
        return []
    problems = []
    conventions = cached(
        ctx, ("conventions", tuple(models)), lambda: model_template_conventions(built, models)
    )
    for conv in conventions:
        rel = conv.path_for(model)
        if (built / rel).is_file():
            continue
        if conv.pattern == "{model}.tpl" and (built / DEFAULT_TPL_DIR / "base.tpl").is_file():
            # provd's get_dev_template falls back to base.tpl: a defect only where the
            # family has this model's template and the fallback renders something else.
            problems += _fallback_problems(ctx, built, model, rel)
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


def _fallback_problems(ctx: CheckContext, built: Path, model: str, rel: str) -> list[Problem]:
    """The family's own ``<model>.tpl`` left out of the build, when provd's fallback to
    ``base.tpl`` renders differently from it (one problem, for the nearest such template)."""
    name = Path(rel).name
    for shipped in _shipped_templates(ctx, name):
        try:
            text = shipped.read_text(encoding="utf-8")
            diff = remembered_fallback_difference(
                built, name, text, cached(ctx, "template-files", lambda: template_files(built))
            )
        except (OSError, UnicodeDecodeError, jinja2.TemplateError):
            continue  # written for another build: it says nothing about this one
        if diff is None:
            return []
        line, own, base = diff
        return [
            Problem(
                ctx.rel(shipped),
                f"{ctx.target.plugin_id} leaves this template out, so provd configures "
                f"{model!r} with base.tpl instead, which renders differently (line {line} "
                f"of the output: {own!r} with it, {base!r} with base.tpl)",
                fix=missing_template_fix(ctx.target, rel),
            )
        ]
    return []


def _shipped_templates(ctx: CheckContext, name: str) -> list[Path]:
    """The family's files ``templates/<name>``: shared dirs first (no plugin-info), then
    version dirs, the one nearest the target's version first."""
    family = ctx.family.path
    found = sorted(p for p in family.glob(f"*/{DEFAULT_TPL_DIR}/{name}") if p.is_file())
    own = ctx.target.source_dir.name if ctx.target.source_dir else ""

    def rank(path: Path) -> tuple[bool, bool, tuple[tuple[int, int | str], ...]]:
        top = path.relative_to(family).parts[0]
        versioned = (family / top / "plugin-info").is_file()
        tokens = _comparable(version_tokens(top))
        # below the target's version, nearest first; then above it, nearest first
        above = tokens > _comparable(version_tokens(own))
        nearest = tuple((k, -v if isinstance(v, int) and not above else v) for k, v in tokens)
        return versioned, above, nearest

    return sorted(found, key=rank)


def _comparable(tokens: tuple[str | int, ...]) -> tuple[tuple[int, int | str], ...]:
    """Version tokens that compare whatever their types (numbers before words)."""
    return tuple((0, t) if isinstance(t, int) else (1, t) for t in tokens)
