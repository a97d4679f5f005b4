"""Per model: ``matrix`` (the model configured under every config of its matrix: no plugin
error, every XML file well-formed, every pushed SIP user in the files, every file served as
written), with the branch coverage of its templates.

The ``configure``, ``wellformed``, ``golden`` and ``provision`` items judge the sample config
(the default); this item judges what the other configs of :func:`pytest_provd.rendering.matrix.
model_matrix` add.  A problem the default config has too is left to the items that judge the
default.  Each problem names the config it appears under: a packed config's problem is tried
again under each of its variants alone, and named by the first that reproduces it
(``config funckeys=park: ...``), else by the packed config's label.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import jinja2
import pytest

from pytest_provd import tree
from pytest_provd.facts import current_item
from pytest_provd.problems import Problem
from pytest_provd.rendering import branches
from pytest_provd.rendering.literals import compared_values, valid_values
from pytest_provd.rendering.matrix import (
    MatrixConfig,
    ModelShape,
    build,
    line_usernames,
    model_matrix,
    sample_raw_config,
    single,
)
from pytest_provd.session import ProvdSession, session_key
from pytest_provd.suite import ItemSpec, TargetPlan, target_models
from pytest_provd.tiers import _coverage
from pytest_provd.tiers._run import ModelOutcome, TargetRun, configure_and_fetch, target_run
from pytest_provd.tiers._run import xml_problems as xml_problems_of
from pytest_provd.tree import memo

_Key = tuple[str, int | None, str]
_MAX_LABELS = 3
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Found:
    """A problem of one configuration; *data* is the generated file an XML problem is in
    (traced to its template line when reported)."""

    problem: Problem
    data: bytes | None = None

    @property
    def key(self) -> _Key:
        """What makes two problems the same defect: the place, else the message (of an XML
        problem: the file and the parser's message, whatever the line it is at)."""
        problem = self.problem
        if self.data is not None:
            return (str(problem.path), None, _DIGITS.sub("#", problem.message))
        if problem.line is not None:
            return (str(problem.path), problem.line, "")
        return (str(problem.path), None, problem.message)


@dataclass(frozen=True)
class _Judge:
    """How one model's configurations are judged (worked out once per item)."""

    run: TargetRun
    model: str
    default: ModelOutcome
    room: int  # lines the model has room for
    sip: bool


def check_matrix(run: TargetRun, model: str) -> list[Problem]:
    """*model* configured under each config of its matrix; new problems, each with its config."""
    problems = run.load()
    if problems:
        return problems
    default = run.configure(model)
    room = run.capability(model).get("lines", 2)
    judge = _Judge(run, model, default, room if isinstance(room, int) else 2, _sip(run, model))
    known = {f.key for f in judged(judge, default, line_usernames(sample_raw_config()))}
    configs = model_matrix(model_shape(run, model))
    hits = set(default.hits)
    found: dict[_Key, tuple[Found, list[str]]] = {}
    queue = list(configs)
    while queue:
        config = queue.pop(0)
        outcome, results = configure_judged(
            judge, config, lambda k: k not in known and k not in found
        )
        hits |= outcome.hits
        culprits = set()
        for result in results:
            if result.key in known:
                continue
            labels = found.setdefault(result.key, (result, []))[1]
            # Found under an earlier config by a variant this one has too: that variant.
            again = [v.label for v in config.variants if v.label in labels]
            label = again[0] if again else shrink(judge, config, result.key)
            culprits.add(label)
            if label not in labels:
                labels.append(label)
        # A parser stops at a file's first error: without the variants that broke it, the
        # config may show what they hid.  Each pass drops at least one variant.
        rest = tuple(v for v in config.variants if v.label not in culprits)
        if culprits and rest and len(rest) < len(config.variants):
            queue.append(MatrixConfig(rest, build(rest)))
    _report(run, model, configs, hits)
    return [_labelled(run, result, labels) for result, labels in found.values()]


def _sip(run: TargetRun, model: str) -> bool:
    return run.protocol(model) == "sip"


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
        found: dict[str, set[str]] = {}
        if env is not None and env.loader is not None:
            for name in _coverage.shipped_templates(run):
                try:
                    source, filename, _ = env.loader.get_source(env, name)
                    values = _compared(env, name, source, filename)
                except Exception:  # a broken template is the templates item's to report
                    continue
                for axis, some in values.items():
                    found.setdefault(axis, set()).update(some)
        run.memo["literals"] = valid_values(found)
    return dict(run.memo["literals"])


def _compared(env: Any, name: str, source: str, filename: str | None) -> dict[str, set[str]]:
    """The values template *name* compares parameters with (kept by its source: parsing
    every template of every target again costs more than the rest of the matrix setup)."""

    def compute() -> dict[str, list[str]]:
        parsed = env.parse(source, name, filename)
        return {axis: sorted(values) for axis, values in compared_values(parsed).items()}

    from pytest_provd.provd.plugins import codecache  # lazy: a static-only run has no server stack

    options = codecache.stable_options(env, name)
    analysis = codecache.module_digest(compared_values.__module__)
    if options is None or analysis is None:
        return {axis: set(values) for axis, values in compute().items()}
    key = memo.content_key("literals", jinja2.__version__, options, analysis, name, source)
    return {axis: set(values) for axis, values in memo.remembered("literals", key, compute).items()}


def configure_with(run: TargetRun, default: ModelOutcome, raw: dict[str, Any]) -> ModelOutcome:
    """The device of *default* configured with *raw* (files written, served and judged as
    the ``configure`` item judges them)."""
    outcome = ModelOutcome(default.key, dict(default.device))
    outcome.files, outcome.problems = configure_and_fetch(
        run, dict(default.device), raw, outcome=outcome
    )
    return outcome


def configure_judged(
    judge: _Judge, config: MatrixConfig, traced: Callable[[_Key], bool] | None = None
) -> tuple[ModelOutcome, list[Found]]:
    """*config* configured and judged.  Its renders are recorded (to trace a broken line to
    its template) only when a file came out broken with a problem *traced* says will be
    reported from it: the configure is then run again."""
    # Kept lazy: the server stack is only needed once a plugin is configured.
    from pytest_provd.provd.plugins import renders

    users = line_usernames(config.raw_config)
    with renders.paused():
        outcome = configure_with(judge.run, judge.default, config.raw_config)
    found = judged(judge, outcome, users)
    if traced is not None and any(f.data is not None and traced(f.key) for f in found):
        outcome = configure_with(judge.run, judge.default, config.raw_config)
        found = judged(judge, outcome, users)
    return outcome, found


def judged(judge: _Judge, outcome: ModelOutcome, users: list[str]) -> list[Found]:
    """What is wrong with one configuration: the plugin's errors, files not served as
    written, XML that does not parse, pushed users missing from the files."""
    found = [Found(p) for p in outcome.problems]
    for name, data in sorted(outcome.files.items()):
        shown = f"{judge.run.target.plugin_id}/var/tftpboot/{name}"
        found += [Found(p, data) for p in xml_problems_of(shown, data)]
    if outcome.files and judge.sip:
        text = b"\n".join(outcome.files.values())
        # A phone has room for as many lines as its capability says; more are not written.
        pushed = users[: max(1, judge.room)]
        missing = [n for n, user in enumerate(pushed, 1) if user.encode() not in text]
        if missing and not judge.run.takes_no_line(judge.model, text, pushed):
            names = ", ".join(pushed[n - 1] for n in missing)
            message = (
                f"SIP user(s) {names} (line(s) {_ranges(missing)} of the {len(pushed)} pushed, "
                f"within the {judge.room} lines of the capability) of {judge.model} appear in "
                f"none of the generated files ({', '.join(sorted(outcome.files))})"
            )
            found.append(Found(Problem(judge.run.where, message, fix=_USERS_FIX)))
    return found


def _ranges(numbers: list[int]) -> str:
    """``1, 13-16`` for [1, 13, 14, 15, 16]."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


_USERS_FIX = "check the template's sip_lines loop and the lines the plugin gives the model"


def shrink(judge: _Judge, config: MatrixConfig, key: _Key) -> str:
    """The label of the first variant of *config* (in its order) that alone gives the problem
    *key*, else *config*'s own label.  Nothing is carried over from another model: the label
    must not depend on which items ran before in this process."""
    if len(config.variants) == 1:
        return config.label
    for variant in config.variants:
        _, results = configure_judged(judge, single(variant))
        if key in {r.key for r in results}:
            return variant.label
    return config.label


def _labelled(run: TargetRun, result: Found, labels: list[str]) -> Problem:
    """The problem at its template line, named by the configs it appears under."""
    problem = result.problem
    if result.data is not None:
        # Kept lazy: the source map reads the checks' template readers (jinja2).
        from pytest_provd.rendering.sourcemap import at_template

        problem = at_template(run.target, problem, result.data)
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


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker, once every item ran and reported: no failure summary (see
    :func:`pytest_provd.tiers._schedule.quiet_worker`)."""
    if hasattr(session.config, "workerinput"):
        from pytest_provd.tiers._schedule import quiet_worker  # lazy: xdist

        quiet_worker(session.config)


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``<model>::matrix`` for every model of the target."""
    run = target_run(session, target)
    for model in target_models(target):
        plan.add_model(model, ItemSpec("matrix", "provd_load", partial(check_matrix, run, model)))
