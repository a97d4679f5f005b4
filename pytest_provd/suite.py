"""The generated suite: one collector per selected target, one item per check or phone verdict.

Node ids read ``wazo-snom-10.1.215.13::pkgs-db``, ``wazo-snom-10.1.215.13::models[D785]`` and
``wazo-snom-10.1.215.13::D785::provision``.  Each item runs a function returning the problems it
found; a non-empty list fails the item with one line per problem (file:line [section]: message
(fix: ...)) and no Python traceback, since the defect is in the plugin tree, not in the test.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem, SourceError
from pytest_provd.session import ProvdSession

TIERS = {
    "provd_static": "static checks of a plugin target (no server, no phone)",
    "provd_load": "the target loads in provd",
    "provd_provision": "emulated phones of each model boot and get their configuration",
    "provd_firmware": "firmware installs from pkgs.db and the phone upgrades",
    "provd_golden": "generated files equal the golden files",
}

Runner = Callable[[], Iterable[Problem]]


class ProvdCheckFailed(Exception):
    """The problems an item found; rendered without a traceback."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class ProvdItem(pytest.Item):
    """One generated check."""

    def __init__(self, *, runner: Runner, tier: str, target: tree.Target, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.target = target
        self.tier = tier
        self.add_marker(tier)
        self.add_marker("provd")

    def runtest(self) -> None:
        """Run the check; fail with its problems."""
        from pytest_provd.report import reporter as reporting

        token = reporting.running(self)
        try:
            problems = list(self.runner())
        finally:
            reporting.done(token)
        if problems:
            raise ProvdCheckFailed(problems)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        """Problems one per line; other exceptions keep pytest's usual report."""
        if isinstance(excinfo.value, ProvdCheckFailed):
            lines = [f"{self.nodeid}: {len(excinfo.value.problems)} problem(s)"]
            lines += [f"  {p}" for p in excinfo.value.problems]
            return "\n".join(lines)
        if isinstance(excinfo.value, SourceError):
            return f"{self.nodeid}: {excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Point at the target's build.py line in reports."""
        # pytest -v rewrites a domain that ends the node id as a dotted Python path
        # ("wazo-snom-10::1::215::13::D785"); the trailing space keeps ids as they are.
        return self.target.build_py, self.target.build_py_line - 1, self.nodeid + " "


class ModelCollector(pytest.Collector):
    """The per-model verdicts of one target (``<plugin-id>::<model>::<verdict>``)."""

    def __init__(self, *, specs: list[ItemSpec], target: tree.Target, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.specs = specs
        self.target = target

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """One item per verdict."""
        return [_item(self, spec, self.target) for spec in self.specs]


class TargetCollector(pytest.Collector):
    """Everything the gate checks about one build target."""

    def __init__(self, *, target: tree.Target, provd: ProvdSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target
        self.provd = provd

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """Static checks, then the per-model collectors of the dynamic tiers."""
        children: list[pytest.Item | pytest.Collector] = []
        plan = plan_target(self.provd, self.target)
        for spec in plan.items:
            children.append(_item(self, spec, self.target))
        for model, specs in plan.models.items():
            children.append(
                ModelCollector.from_parent(self, name=model, specs=specs, target=self.target)
            )
        return children


def _item(parent: pytest.Collector, spec: ItemSpec, target: tree.Target) -> ProvdItem:
    item: ProvdItem = ProvdItem.from_parent(
        parent, name=spec.name, runner=spec.runner, tier=spec.tier, target=target
    )
    return item


@dataclass
class ItemSpec:
    """What one generated item is called, its tier and what it runs."""

    name: str
    tier: str
    runner: Runner


@dataclass
class TargetPlan:
    """Items directly under the target, and per-model item groups."""

    items: list[ItemSpec]
    models: dict[str, list[ItemSpec]]


# Planners contribute items for a target; the dynamic tiers register theirs here too.
Planner = Callable[[ProvdSession, tree.Target, TargetPlan], None]
PLANNERS: list[Planner] = []


def planner(fun: Planner) -> Planner:
    """Register a function that adds items to every target's plan."""
    PLANNERS.append(fun)
    return fun


def plan_target(provd: ProvdSession, target: tree.Target) -> TargetPlan:
    """The full list of generated items for *target*."""
    plan = TargetPlan([], {})
    for fun in PLANNERS:
        fun(provd, target, plan)
    return plan


def target_models(target: tree.Target) -> list[str]:
    """Models a target claims, from entry.py MODELS and plugin-info capabilities, in order."""
    models: list[str] = []
    if target.source_dir is None:
        return models
    # entry.py names real models; capability keys may group them for display ("6920(w)"),
    # so they are the fallback when MODELS cannot be read statically.
    declared = _entry_models(target.source_dir / "entry.py")
    for model in declared or _capability_models(target.source_dir / "plugin-info"):
        if model not in models:
            models.append(model)
    return models


def _capability_models(path: Path) -> list[str]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return []
    caps = info.get("capabilities") if isinstance(info, dict) else None
    if not isinstance(caps, dict):
        return []
    out = []
    for key in caps:
        parts = [p.strip() for p in str(key).split(",")]
        if len(parts) == 3:
            out.append(parts[1])
    return out


def _entry_models(path: Path) -> list[str]:
    try:
        module = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    for node in module.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "MODELS" for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return []
            if isinstance(value, dict):
                value = list(value)
            if isinstance(value, list | tuple):
                return [str(v if not isinstance(v, tuple) else v[0]) for v in value]
    return []


def iter_collectors(session: pytest.Session, provd: ProvdSession) -> Iterator[TargetCollector]:
    """One collector per selected target, children of the session."""
    for target in provd.targets:
        yield TargetCollector.from_parent(
            session, name=target.plugin_id, nodeid=target.plugin_id, target=target, provd=provd
        )


@planner
def _build_item(provd: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    def run() -> list[Problem]:
        try:
            provd.build(target)
        except SourceError as exc:
            return [Problem(exc.path, exc.message, exc.line, fix="fix the build function")]
        return []

    plan.items.append(ItemSpec("build", "provd_static", run))


@planner
def _static_checks(provd: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    from pytest_provd.checks import CheckContext, iter_items

    ctx = CheckContext(
        target, base_ref=provd.options.base_ref, repo_root=provd.repo_root, builder=provd.build
    )
    for name, runner in iter_items(ctx):
        plan.items.append(ItemSpec(name, "provd_static", runner))
