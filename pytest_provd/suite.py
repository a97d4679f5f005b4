"""The generated suite: one collector per selected target, one item per check or phone verdict.

Node ids read ``wazo-snom-10.1.215.13::pkgs-db``, ``wazo-snom-10.1.215.13::models[D785]`` and
``wazo-snom-10.1.215.13::D785::provision``.  A family with something to say about itself
gets family-level items before its targets: ``wazo_snom::build.py`` (build.py cannot be
executed), ``wazo_snom::unbuilt[v10_1_300_1]``, ``wazo_snom::removed[wazo-snom-10.1.200.1]``.
Each item runs a function returning the problems it found; a non-empty list fails the item with
one line per problem (file:line [section]: message (fix: ...)) and no Python traceback, since
the defect is in the plugin tree, not in the test.

What a target's items are is asked of every plugin through the
:func:`~pytest_provd.hookspecs.pytest_provd_plan_target` hook; the tiers of
:mod:`pytest_provd.tiers` answer it, and any other pytest plugin may add items too.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import TerminalRepr

from pytest_provd import tree
from pytest_provd.facts import recording
from pytest_provd.problems import Problem, ProvdCheckFailed, SourceError
from pytest_provd.report.failures import distinct, failure_repr, source_error_repr
from pytest_provd.session import ProvdSession, session_key
from pytest_provd.tree.selection import FamilyChecks

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
    """One generated check (of a target, or of a family as a whole when *target* is None)."""

    def __init__(
        self, *, runner: Runner, tier: str, target: tree.Target | None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.target = target
        self.tier = tier
        self.add_marker(_mark(tier))
        self.add_marker(_mark("provd"))

    def runtest(self) -> None:
        """Run the check; fail with its problems."""
        with recording(self):
            problems = list(self.runner())
        if problems:
            raise ProvdCheckFailed(distinct(problems, self.name, self.config))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | TerminalRepr:
        """Problems one per line, the first one in short summaries; other exceptions keep
        pytest's usual report."""
        if isinstance(excinfo.value, ProvdCheckFailed):
            return failure_repr(self.nodeid, excinfo.value.problems, self.config)
        if isinstance(excinfo.value, SourceError):
            return source_error_repr(self.nodeid, excinfo.value, self.config)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Point at the target's build.py line in reports."""
        # pytest -v rewrites a domain that ends the node id as a dotted Python path
        # ("wazo-snom-10::1::215::13::D785"); the trailing space keeps ids as they are.
        if self.target is None:
            return self.path, None, self.nodeid + " "
        return self.target.build_py, self.target.build_py_line - 1, self.nodeid + " "


_MARKS: dict[str, pytest.MarkDecorator] = {}


def _mark(name: str) -> pytest.MarkDecorator:
    """``pytest.mark.<name>``, made once: thousands of items carry the same few marks."""
    found = _MARKS.get(name)
    if found is None:
        found = _MARKS[name] = getattr(pytest.mark, name)
    return found


class FamilyItem(ProvdItem):
    """A check of a family as a whole, pointing at *where* (build.py or a version dir)."""

    def __init__(self, *, where: Path, line: int | None, **kwargs: Any) -> None:
        super().__init__(target=None, **kwargs)
        self.where = where
        self.line = line

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Point at the file the family item is about."""
        return self.where, None if self.line is None else self.line - 1, self.nodeid + " "


class FamilyCollector(pytest.Collector):
    """The family-level items of one family (``<family>::build.py`` and the like)."""

    def __init__(self, *, checks: FamilyChecks, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.checks = checks

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """``build.py``, then ``unbuilt[<dir>]`` per dir, then ``removed[<plugin id>]``."""
        family, root = self.checks.family, self.checks.family.path.parent.parent
        children: list[pytest.Item | pytest.Collector] = []

        def add(name: str, where: Path, line: int | None, runner: Runner) -> None:
            children.append(
                FamilyItem.from_parent(
                    self, name=name, runner=runner, tier="provd_static", where=where, line=line
                )
            )

        if self.checks.problems:
            problems = [_relative(p, root) for p in self.checks.problems]
            add("build.py", family.build_py, problems[0].line, _found(problems))
        for version_dir in self.checks.unbuilt:
            add(
                f"unbuilt[{version_dir.name}]",
                version_dir / tree.PLUGIN_INFO,
                None,
                functools.partial(_unbuilt, family, version_dir, root),
            )
        for removal in self.checks.removed:
            assert removal.problem is not None
            problem = _relative(removal.problem, root)
            add(f"removed[{removal.plugin_id}]", family.build_py, None, _found([problem]))
        return children


def _found(problems: list[Problem]) -> Runner:
    """A runner reporting what discovery or the base comparison found (the family item's
    verdict is decided when the tree is read)."""
    return lambda: problems


def _relative(problem: Problem, root: Path) -> Problem:
    """*problem* with its path as the maintainer knows it (``plugins/<family>/...``)."""
    try:
        shown = Path(problem.path).relative_to(root).as_posix()
    except ValueError:
        return problem
    return dataclasses.replace(problem, path=shown)


def _unbuilt(family: tree.Family, version_dir: Path, root: Path) -> list[Problem]:
    if version_dir not in family.unbuilt_dirs():
        return []
    shown = version_dir.relative_to(root).as_posix()
    return [
        Problem(
            shown,
            f"holds a plugin-info but no @target in {family.name}/build.py builds it",
            fix=(
                "add a target or remove the directory (or, to keep it unbuilt on purpose, "
                f"add {shown}/{tree.UNBUILT_MARKER} saying why)"
            ),
        )
    ]


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


def iter_collectors(
    pytest_session: pytest.Session,
) -> Iterator[FamilyCollector | TargetCollector]:
    """Per family, its family-level collector (if it has items), then one collector per
    selected target of it; children of *pytest_session*."""
    session = pytest_session.config.stash.get(session_key, None)
    if session is None:
        return
    by_family: dict[str, list[tree.Target]] = {}
    for target in session.targets:
        by_family.setdefault(target.family.name, []).append(target)
    checks = {c.family.name: c for c in session.families}
    for name in sorted(set(by_family) | set(checks)):
        if name in checks:
            yield FamilyCollector.from_parent(
                pytest_session, name=name, nodeid=name, checks=checks[name]
            )
        for target in by_family.get(name, []):
            yield TargetCollector.from_parent(
                pytest_session, name=target.plugin_id, nodeid=target.plugin_id, target=target
            )
