"""The static rules of the "Managing Plugins" procedure, one check per rule.

:data:`CHECKS` maps a check name (the test id suffix) to a :class:`Check`.  A plain check
returns the problems of a target; a per-model check (``models``) is run once per model and
named ``models[<MODEL>]``.  :func:`iter_items` yields ``(item name, runner)`` pairs ready to
become test items::

    ctx = CheckContext(target, base_ref="origin/master", builder=session.build)
    for name, run in iter_items(ctx):
        problems = run()
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pytest_provd.checks._base import CheckContext
from pytest_provd.checks._facts import target_facts
from pytest_provd.checks.entry import check_entry, check_model, entry_models, model_ids
from pytest_provd.checks.firmware import check_firmware_consistency
from pytest_provd.checks.pkgs_db import check_pkgs_db
from pytest_provd.checks.plugin_info import check_plugin_info
from pytest_provd.checks.templates import check_templates
from pytest_provd.checks.version_bump import check_version_bump
from pytest_provd.problems import Problem

__all__ = [
    "CHECKS",
    "Check",
    "CheckContext",
    "check_entry",
    "check_firmware_consistency",
    "check_model",
    "check_pkgs_db",
    "check_plugin_info",
    "check_templates",
    "check_version_bump",
    "entry_models",
    "iter_items",
    "model_ids",
    "run_check",
    "target_facts",
]

Runner = Callable[[], list[Problem]]


@dataclass(frozen=True)
class Check:
    """A registered static check.

    ``run(ctx)`` for plain checks; ``run_model(ctx, model)`` for per-model ones (then the
    items are ``<name>[<model>]``, models from :func:`model_ids`).  ``needs_base_ref`` checks
    produce no item without ``--provd-base-ref``.
    """

    name: str
    description: str
    run: Callable[[CheckContext], list[Problem]] | None = None
    run_model: Callable[[CheckContext, str], list[Problem]] | None = None
    needs_base_ref: bool = False

    @property
    def per_model(self) -> bool:
        """True for checks run once per model."""
        return self.run_model is not None

    def item_names(self, ctx: CheckContext) -> list[str]:
        """The test-item names this check contributes for *ctx*'s target."""
        if self.needs_base_ref and not ctx.base_ref:
            return []
        if self.per_model:
            return [f"{self.name}[{model}]" for model in model_ids(ctx)]
        return [self.name]


CHECKS: dict[str, Check] = {
    check.name: check
    for check in (
        Check(
            "plugin-info",
            "plugin-info is valid JSON with version, description and well-formed capabilities",
            run=check_plugin_info,
        ),
        Check("entry", "entry.py compiles and declares MODELS/VERSION statically", run=check_entry),
        Check(
            "models",
            "each model is in MODELS and plugin-info (a misnamed pair said once), and "
            "has its per-model template where base.tpl would render otherwise",
            run_model=check_model,
        ),
        Check(
            "firmware-consistency",
            "entry.py, plugin-info, pkgs.db and the build target agree on the firmware version",
            run=check_firmware_consistency,
        ),
        Check(
            "pkgs-db",
            "pkgs.db parses and its packages, files and installs are consistent",
            run=check_pkgs_db,
        ),
        Check(
            "templates",
            "every template compiles with jinja2 as provd configures it and its includes exist",
            run=check_templates,
        ),
        Check(
            "version-bump",
            "built output changed since the base ref => plugin-info version increased",
            run=check_version_bump,
            needs_base_ref=True,
        ),
    )
}


def run_check(name: str, ctx: CheckContext, model: str | None = None) -> list[Problem]:
    """Run the check *name* (``models`` needs *model*)."""
    check = CHECKS[name]
    if check.run_model is not None:
        if model is None:
            raise ValueError(f"check {name!r} is per model: pass model=")
        return check.run_model(ctx, model)
    assert check.run is not None
    return check.run(ctx)


def iter_items(ctx: CheckContext) -> Iterator[tuple[str, Runner]]:
    """``(item name, runner)`` for every check item of *ctx*'s target, in registry order."""
    for check in CHECKS.values():
        if check.needs_base_ref and not ctx.base_ref:
            continue
        if check.per_model:
            for model in model_ids(ctx):
                yield f"{check.name}[{model}]", _bind(check.name, ctx, model)
        else:
            yield check.name, _bind(check.name, ctx, None)


def _bind(name: str, ctx: CheckContext, model: str | None) -> Runner:
    def run() -> list[Problem]:
        return run_check(name, ctx, model)

    return run
