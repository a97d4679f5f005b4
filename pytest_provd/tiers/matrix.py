"""Per model: ``matrix`` (the model configured under every config of its matrix: no plugin
error, every XML file well-formed, every pushed SIP user in the files, every file served as
written), with the branch coverage of its templates.

The ``configure``, ``wellformed``, ``golden`` and ``provision`` items judge the sample config
(the default); this item judges what the other configs of :func:`pytest_provd.matrix.
model_matrix` add.  A problem the default config has too is left to the items that judge the
default.  Each problem names the config it appears under: a packed config's problem is tried
again under each of its variants alone, and named by the first that reproduces it
(``config funckeys=park: ...``), else by the packed config's label.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from pytest_provd import branches, tree
from pytest_provd.facts import current_item
from pytest_provd.matrix import (
    MatrixConfig,
    ModelShape,
    line_usernames,
    model_matrix,
    single,
    template_values,
)
from pytest_provd.problems import Problem
from pytest_provd.provd.plugins.rawconfig import sample_raw_config
from pytest_provd.session import ProvdSession, session_key
from pytest_provd.suite import ItemSpec, TargetPlan, target_models
from pytest_provd.tiers import _coverage
from pytest_provd.tiers._run import ModelOutcome, TargetRun, configure_and_fetch, target_run
from pytest_provd.tiers._run import xml_problems as xml_problems_of

_Key = tuple[str, int | None, str]
_MAX_LABELS = 3


def check_matrix(run: TargetRun, model: str) -> list[Problem]:
    """*model* configured under each config of its matrix; new problems, each with its config."""
    problems = run.load()
    if problems:
        return problems
    default = run.configure(model)
    known = {_key(p) for p in judge(run, model, default, line_usernames(sample_raw_config()))}
    configs = model_matrix(model_shape(run, model))
    hits = set(default.hits)
    found: dict[_Key, tuple[Problem, list[str]]] = {}
    for config in configs:
        outcome = configure_with(run, default, config.raw_config)
        hits |= outcome.hits
        for problem in judge(run, model, outcome, line_usernames(config.raw_config)):
            key = _key(problem)
            if key in known:
                continue
            label = shrink(run, model, default, config, key)
            labels = found.setdefault(key, (problem, []))[1]
            if label not in labels:
                labels.append(label)
    _report(run, model, configs, hits)
    return [_labelled(problem, labels) for problem, labels in found.values()]


def model_shape(run: TargetRun, model: str) -> ModelShape:
    """The capability of *model* and the values the target's templates compare parameters
    with: what its matrix is made of."""
    caps = run.capability(model)
    lines = caps.get("lines", caps.get("sip.lines", 2))
    keys = caps.get("function_keys", 0)
    return ModelShape(
        max_lines=lines if isinstance(lines, int) and lines > 0 else 2,
        function_keys=keys if isinstance(keys, int) and keys > 0 else 0,
        sccp=run.protocol(model) == "sccp",
        literals=_literals(run),
    )


def _literals(run: TargetRun) -> dict[str, set[str]]:
    if "literals" not in run.memo:
        env = branches.environment_of(run.plugin.obj)
        parsed = []
        if env is not None and env.loader is not None:
            for name in _coverage.shipped_templates(run):
                try:
                    source, filename, _ = env.loader.get_source(env, name)
                    parsed.append(env.parse(source, name, filename))
                except Exception:  # a broken template is the templates item's to report
                    continue
        run.memo["literals"] = template_values(parsed)
    return dict(run.memo["literals"])


def configure_with(run: TargetRun, default: ModelOutcome, raw: dict[str, Any]) -> ModelOutcome:
    """The device of *default* configured with *raw* (files written, served and judged as
    the ``configure`` item judges them)."""
    outcome = ModelOutcome(default.key, dict(default.device))
    outcome.files, outcome.problems = configure_and_fetch(
        run, dict(default.device), raw, outcome=outcome
    )
    return outcome


def judge(run: TargetRun, model: str, outcome: ModelOutcome, users: list[str]) -> list[Problem]:
    """What is wrong with one configuration of *model*: the plugin's errors, files not served
    as written, XML that does not parse (at its template line), pushed users missing."""
    # Kept lazy: the source map reads the checks' template readers (jinja2).
    from pytest_provd.sourcemap import at_template

    found = list(outcome.problems)
    for name, data in sorted(outcome.files.items()):
        shown = f"{run.target.plugin_id}/var/tftpboot/{name}"
        found += [at_template(run.target, p, data) for p in xml_problems_of(shown, data)]
    if outcome.files and run.protocol(model) == "sip":
        text = b"\n".join(outcome.files.values())
        room = run.capability(model).get("lines", len(users))
        # A phone has room for as many lines as its capability says; more are not written.
        for user in users[: max(1, room if isinstance(room, int) else len(users))]:
            if user.encode() not in text:
                found.append(
                    Problem(
                        run.where,
                        f"SIP user {user} pushed for {model} appears in none of the generated "
                        f"files ({', '.join(sorted(outcome.files))})",
                        fix="check the template's sip_lines loop",
                    )
                )
    return found


def shrink(
    run: TargetRun, model: str, default: ModelOutcome, config: MatrixConfig, key: _Key
) -> str:
    """The label of the first variant of *config* that alone gives the problem *key* (the
    one found for another model first), else *config*'s own label."""
    if len(config.variants) == 1:
        return config.label
    memo: dict[tuple[str, _Key], str] = run.memo.setdefault("shrunk", {})
    known = memo.get((config.label, key))
    order = sorted(config.variants, key=lambda v: v.label != known)
    for variant in order:
        alone = single(variant)
        outcome = configure_with(run, default, alone.raw_config)
        if key in {_key(p) for p in judge(run, model, outcome, line_usernames(alone.raw_config))}:
            memo[(config.label, key)] = variant.label
            return variant.label
    return config.label


def _key(problem: Problem) -> _Key:
    """What makes two problems the same defect: the place, else the message."""
    if problem.line is not None:
        return (str(problem.path), problem.line, "")
    return (str(problem.path), None, problem.message)


def _labelled(problem: Problem, labels: list[str]) -> Problem:
    more = labels[1 : 1 + _MAX_LABELS]
    also = f" (also under {', '.join(more)}" if more else ""
    if len(labels) > 1 + _MAX_LABELS:
        also += f" and {len(labels) - 1 - _MAX_LABELS} more"
    also += ")" if more else ""
    return replace(problem, message=f"config {labels[0]}: {problem.message}{also}")


def _report(run: TargetRun, model: str, configs: list[MatrixConfig], hits: set[Any]) -> None:
    """Coverage on the item's report, and the configs and missed branches in its section."""
    item = current_item()
    if item is None:
        return
    lines = [f"{model}: the default config and {len(configs)} matrix configs:"]
    lines += [f"  {config.label}" for config in configs]
    if not run.instrumented:
        lines.append("branch coverage not measured: the plugin compiles its templates its own way")
        item.add_report_section("call", "provd matrix", "\n".join(lines))
        return
    payload = _coverage.coverage_payload(run, hits)
    _coverage.keep(item, payload)
    taken, total, missed = _coverage.coverage_lines(payload)
    count = len(payload["templates"])
    lines.append(f"branches {taken}/{total} in {count} rendered template(s)")
    if missed:
        lines.append("not reached by any config:")
        lines += [f"  {text}" for text in missed[: _coverage.MAX_LISTED]]
    item.add_report_section("call", "provd matrix", "\n".join(lines))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Carry the matrix items' coverage on their reports and join it (on the controller
    under xdist) for the summary."""
    provd = session.config.stash.get(session_key, None)
    name = "provd-branch-summary"
    if provd is not None and not session.config.pluginmanager.has_plugin(name):
        session.config.pluginmanager.register(_coverage.BranchSummary(provd), name)


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``<model>::matrix`` for every model of the target."""
    run = target_run(session, target)
    for model in target_models(target):
        plan.add_model(model, ItemSpec("matrix", "provd_load", partial(check_matrix, run, model)))
