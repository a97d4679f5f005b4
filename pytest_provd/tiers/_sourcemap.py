"""The tiers' side of :mod:`pytest_provd.rendering.sourcemap`: problems of generated files
(configured in process, or fetched by an emulated phone) moved to the template line that
wrote them."""

from __future__ import annotations

import copy
import re
from typing import Any

from pytest_provd.problems import Problem
from pytest_provd.tiers._run import TargetRun, configure_and_fetch
from pytest_provd.tiers._wire import Booted, wire_run

_PHONE_ERROR = re.compile(r"(?P<name>[^:]+):(?P<line>\d+): (?P<message>.*)", re.DOTALL)


def at_templates(run: TargetRun, problems: list[Problem], data: bytes) -> list[Problem]:
    """*problems* of the generated *data*, each at the template line behind it."""
    from pytest_provd.rendering.sourcemap import at_template  # lazy: jinja2 and the checks

    return [at_template(run.target, problem, data) for problem in problems]


def fetched_problems(run: TargetRun, booted: Booted) -> list[Problem]:
    """The phone's well-formedness errors, each at the template line behind it: the file it
    fetched is matched to the render that made it when provd configured the device (in this
    process for the embedded backend; else the device is configured again here with the raw
    config the backend gives for it, and the lines are matched)."""
    from pytest_provd.rendering.sourcemap import (  # lazy: jinja2, the checks
        at_template,
        matching_line,
    )

    found = []
    for error in booted.state.wellformed_errors:
        match = _PHONE_ERROR.fullmatch(error)
        if match is None:
            where, _, message = error.partition(": ")
            found.append(Problem(f"{run.target.plugin_id}: {where}", message))
            continue
        name, line = match["name"], int(match["line"])
        problem = Problem(f"{run.target.plugin_id}: {name}", match["message"], line)
        data = booted.state.files.get(name)
        located = problem
        if data is not None and _renders_here(run):
            located = at_template(run.target, problem, data)
        elif data is not None:
            # Not by content: another model's render of this process may have given the
            # same bytes (Snom models whose templates differ elsewhere), and would be named.
            again = _configured_here(run, booted, name)
            if again is not None:
                here = matching_line(_lines(data), _lines(again), line)
                located = at_template(run.target, problem, again, here)
        found.append(located)
    return found


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines()


def _renders_here(run: TargetRun) -> bool:
    """Whether provd's renders for the booted phones were recorded in this process (the
    embedded backend's are: it runs the plugin here)."""
    return getattr(wire_run(run).backend, "name", "") == "embedded"


def _configured_here(run: TargetRun, booted: Booted, name: str) -> bytes | None:
    """File *name* as this process's copy of the plugin writes it for the booted device."""
    wire = wire_run(run)
    device = dict(booted.recorded or {})
    config_id = device.get("config")
    raw_config = getattr(wire.client, "raw_config", None)
    if not config_id or raw_config is None or run.load():
        return None
    try:
        raw: dict[str, Any] = copy.deepcopy(raw_config(config_id))
    except Exception:  # the backend cannot say: the problem stays where the phone saw it
        return None
    files, _ = configure_and_fetch(run, device, raw, verify=False)
    return files.get(name)
