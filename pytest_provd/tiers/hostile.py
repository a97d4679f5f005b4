"""The ``hostile-values`` item: display names and passwords with XML/Jinja metacharacters,
unicode and long values (hypothesis, derandomized) never break a generated XML file."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan, target_models
from pytest_provd.tiers._run import TargetRun, configure_and_fetch, target_run, xml_problems

HOSTILE_DEVICE_INDEX = 9000
"""The device index of the probe device, apart from the configure items' (1, 2, ...)."""

HOSTILE_SEED = int(
    "2c874ade15dbcb847b04caf3e90697c966a256157dd84e1d8d2a2ef4049644a78f855822cbffadab105c9fb36e44924a",
    16,
)
"""The examples' seed.  Pinned: derandomized alone, hypothesis seeds from the probe's source
text, and an edit of it would change the examples (and so the verdicts).  This is the seed the
probe had when it was first recorded in baselines."""


def check_hostile(run: TargetRun, examples: int = 25) -> list[Problem]:
    """Hostile display names and passwords (hypothesis) never break a generated XML file."""
    problems = run.load()
    if problems:
        return problems
    # Kept lazy: hypothesis and the server stack are only needed when this item runs.
    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis import strategies as st

    from pytest_provd.provd.plugins.rawconfig import sample_raw_config
    from pytest_provd.sourcemap import at_template

    models = target_models(run.target) or ["?"]
    device = run.device(models[0], HOSTILE_DEVICE_INDEX)
    hostile = st.text(
        # No lone surrogates: no JSON body from provd's REST API can carry one to a plugin.
        alphabet=st.sampled_from(list("&<>\"'{}%#\\é€漢 \t"))
        | st.characters(min_codepoint=32, exclude_categories=["Cs"]),
        min_size=1,
        max_size=80,
    ) | st.sampled_from(["{{ 7*7 }}", "]]>", "<![CDATA[", "&amp;", "x" * 300, "'; --"])
    last_failure: list[tuple[Problem, bytes | None]] = []

    # Seeded: the gate (and baselines recorded from it) must give the same verdict twice.
    @seed(HOSTILE_SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(name=hostile, password=hostile)
    def probe(name: str, password: str) -> None:
        raw = sample_raw_config()
        raw["sip_lines"]["1"]["display_name"] = name
        raw["sip_lines"]["1"]["password"] = password
        # Only breakage counts here; missing or unserved files are the configure item's job.
        files, problems = configure_and_fetch(run, dict(device), raw, verify=False)
        broken: list[tuple[Problem, bytes | None]] = [(p, None) for p in problems]
        for file_name, data in files.items():
            broken += [(p, data) for p in xml_problems(file_name, data)]
        if broken:
            detail = f" (display_name={name!r}, password={password!r})"
            last_failure[:] = [(replace(p, message=p.message + detail), data) for p, data in broken]
            raise AssertionError("hostile value broke a generated file")

    try:
        probe()
    except AssertionError:
        # Hypothesis re-runs the shrunk example last: its problems are the ones to show,
        # traced to their template lines (only these: tracing renders again).
        return [p if data is None else at_template(run.target, p, data) for p, data in last_failure]
    return []


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``hostile-values``, once per target."""
    run = target_run(session, target)
    plan.add(ItemSpec("hostile-values", "provd_load", lambda: check_hostile(run)))
