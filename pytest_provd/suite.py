"""The generated suite: one collector per selected target, one item per check or phone verdict.

Node ids read ``wazo-snom-10.1.215.13::pkgs-db``, ``wazo-snom-10.1.215.13::models[D785]`` and
``wazo-snom-10.1.215.13::D785::provision``.  Each item runs a function returning the problems it
found; a non-empty list fails the item with one line per problem (file:line [section]: message
(fix: ...)) and no Python traceback, since the defect is in the plugin tree, not in the test.

What a target's items are is asked of every plugin through the
:func:`~pytest_provd.hookspecs.pytest_provd_plan_target` hook; the tiers of
:mod:`pytest_provd.tiers` answer it, and any other pytest plugin may add items too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_provd import tree
from pytest_provd.facts import recording
from pytest_provd.problems import Problem, ProvdCheckFailed, SourceError
from pytest_provd.session import ProvdSession, session_key

TIERS = {
    "provd_static": "static checks of a plugin target (no server, no phone)",
    "provd_load": "the target loads in provd",
    "provd_provision": "emulated phones of each model boot and get their configuration",
    "provd_firmware": "firmware installs from pkgs.db and the phone upgrades",
    "provd_golden": "generated files equal the golden files",
}

Runner = Callable[[], Iterable[Problem]]


@dataclass
class ItemSpec:
    """What one generated item is called, its tier and what it runs."""

    name: str
    tier: str
    runner: Runner


@dataclass
class TargetPlan:
    """Items directly under the target, and per-model item groups (in insertion order)."""

    items: list[ItemSpec] = field(default_factory=list)
    models: dict[str, list[ItemSpec]] = field(default_factory=dict)

    def add(self, spec: ItemSpec) -> None:
        """An item directly under the target."""
        self.items.append(spec)

    def add_model(self, model: str, spec: ItemSpec) -> None:
        """An item under the target's ``<model>`` collector."""
        self.models.setdefault(model, []).append(spec)


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
        with recording(self):
            problems = list(self.runner())
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

    def __init__(self, *, target: tree.Target, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """The target's own items, then one collector per model."""
        children: list[pytest.Item | pytest.Collector] = []
        plan = plan_target(self.config.stash[session_key], self.target)
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


def plan_target(session: ProvdSession, target: tree.Target) -> TargetPlan:
    """The full list of generated items for *target*, from every plugin's planner hook."""
    plan = TargetPlan()
    session.config.hook.pytest_provd_plan_target(session=session, target=target, plan=plan)
    return plan


def target_models(target: tree.Target) -> list[str]:
    """The models the per-model items of *target* run, in order.

    entry.py's models as :func:`pytest_provd.checks.entry_models` reads them (the reader of
    the ``entry`` and ``models[...]`` checks); when entry.py names none statically, the models
    of plugin-info's well-formed capability keys, which may group models for display
    (``6920(w)``).
    """
    # Kept lazy: pytest starts without the checks (jinja2, the pkgs.db parser).
    from pytest_provd.checks import entry_models, target_facts

    declared = entry_models(target)
    if declared:
        return list(dict.fromkeys(declared))
    info = target_facts(target).info
    return list(info.capability_models()) if info is not None else []


def iter_collectors(pytest_session: pytest.Session) -> Iterator[TargetCollector]:
    """One collector per selected target, children of *pytest_session*."""
    session = pytest_session.config.stash.get(session_key, None)
    for target in session.targets if session is not None else []:
        yield TargetCollector.from_parent(
            pytest_session, name=target.plugin_id, nodeid=target.plugin_id, target=target
        )
