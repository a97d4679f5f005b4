"""The ``hostile-values`` item: hostile values in every string parameter of provd's raw config
schema (hypothesis, derandomized) never break a generated XML file nor the plugin.

What a parameter may hold comes from the schema (:mod:`pytest_provd.provd.domain.rawschema`):
free text (display names, passwords, user names, labels, credentials, certificates) gets XML and
Jinja metacharacters, unicode and long values; addresses get host names and IPv4 addresses;
extensions get dial strings; enums, locales and timezones get the values provd accepts (the
timezones with half-hour and southern offsets).  The probe varies the matrix's rich config
(backup and outbound proxies, syslog, DNS, TLS: every optional string parameter present) when
it is well-formed for the probe's model, else the sample config; a failure names the
parameters that differ from it.
"""

from __future__ import annotations

import copy
import importlib.metadata
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_provd import tree
from pytest_provd.problems import Problem
from pytest_provd.rendering.matrix import LOCALES, TIMEZONES, build, model_matrix, sample_raw_config
from pytest_provd.session import ProvdSession
from pytest_provd.suite import ItemSpec, TargetPlan, target_models
from pytest_provd.tiers._run import TargetRun, configure_and_fetch, target_run, xml_problems
from pytest_provd.tiers.matrix import model_shape

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

HOSTILE_DEVICE_INDEX = 9000
"""The device index of the probe device, apart from the configure items' (1, 2, ...)."""

HOSTILE_SEED = int(
    "2c874ade15dbcb847b04caf3e90697c966a256157dd84e1d8d2a2ef4049644a78f855822cbffadab105c9fb36e44924a",
    16,
)
"""The examples' seed.  Pinned: derandomized alone, hypothesis seeds from the probe's source
text, and an edit of it would change the examples (and so the verdicts)."""

HOSTILE_LINES = ("1", "2")
"""The lines whose parameters vary (the others keep the base config's)."""
HOSTILE_KEYS = ("1", "2", "3")
OTHERS = 4
"""Parameters an example changes besides line 1's display name and password."""
_ALWAYS = ("sip_lines.1.display_name", "sip_lines.1.password")
_SIZES = ("lines", "funckeys")
EXTENSIONS = frozenset(("number", "voicemail", "value"))
"""Dial strings besides the ``exten_*`` parameters: a line's number and voicemail, a key's value."""
ZONES = ("America/St_Johns", "Asia/Kolkata", "UTC", *TIMEZONES)
"""Besides the matrix's timezones: half-hour offsets (with and without DST) and UTC."""
_HOST = r"[a-z]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]([a-z0-9-]{0,20}[a-z0-9])?){0,3}"


def check_hostile(run: TargetRun, examples: int = 25) -> list[Problem]:
    """Hostile values of every string parameter (hypothesis) never break a generated XML
    file nor make the plugin fail."""
    problems = run.load()
    if problems:
        return problems
    # Kept lazy: the server stack is only needed when this item runs.
    from pytest_provd.provd.plugins import renders
    from pytest_provd.rendering.sourcemap import at_template

    models = target_models(run.target) or ["?"]
    device = run.device(models[0], HOSTILE_DEVICE_INDEX)
    base = _base_config(run, models[0], device)

    def broken(changes: dict[str, Any], traced: bool = False) -> list[tuple[Problem, bytes | None]]:
        # Only breakage counts here; missing or unserved files are the configure item's job.
        raw = applied(base, changes)
        # Renders are recorded (to trace a broken line to its template) only when asked:
        # copying what each render was given costs a third of it.
        with renders.recording(traced):
            files, problems = configure_and_fetch(run, dict(device), raw, verify=False)
        found: list[tuple[Problem, bytes | None]] = [(p, None) for p in problems]
        for file_name, data in files.items():
            found += [(p, data) for p in xml_problems(file_name, data)]
        return found

    # The first example (in hypothesis's order) that breaks a file, as a hypothesis run
    # stopping at its first failure finds it.
    failing = next((c for c in hostile_examples(base, examples) if broken(c)), None)
    if failing is None:
        return []
    changes = blamed(base, failing, broken)
    detail = f" ({describe(base, changes)})"
    # Traced to their template lines (only these: tracing renders again).
    located = [
        p if data is None else at_template(run.target, p, data)
        for p, data in broken(changes, traced=True)
    ]
    return [replace(p, message=p.message + detail) for p in located]


def hostile_examples(base: dict[str, Any], examples: int) -> list[dict[str, Any]]:
    """The *examples* changes hypothesis draws for *base* (seeded, derandomized), in its
    order; kept in the build cache, keyed by everything they are drawn from: this module's
    source (the strategies and seed), what the strategies are made of, hypothesis's version."""
    from pytest_provd.tree import memo  # lazy: build cache

    plan = field_plan(base)
    key = memo.content_key(
        "hostile-examples",
        Path(__file__).read_bytes(),
        json.dumps(plan),
        importlib.metadata.version("hypothesis"),
        str(examples),
    )
    found: list[dict[str, Any]] = memo.remembered(
        "hostile-examples", key, lambda: _drawn(plan, examples)
    )
    return found


def _drawn(plan: list[tuple[str, str, list[str]]], examples: int) -> list[dict[str, Any]]:
    """The examples of :func:`changes_of` a seeded, derandomized hypothesis run draws."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    drawn: list[dict[str, Any]] = []

    # Seeded: the gate (and baselines recorded from it) must give the same verdict twice.
    # No shrinking: with a strategy per parameter it would configure thousands of times;
    # the parameters to blame are found by the caller, one configure each.
    @seed(HOSTILE_SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
    )
    @given(changes=_strategy(plan))
    def probe(changes: dict[str, Any]) -> None:
        drawn.append(changes)

    probe()
    return drawn


def blamed(
    base: dict[str, Any],
    changes: dict[str, Any],
    broken: Callable[[dict[str, Any]], list[Any]],
) -> dict[str, Any]:
    """The changes of a failing example that break the config alone (each tried on its
    own), else all of them (it takes several together)."""
    alone = {
        dotted: value
        for dotted, value in sorted(changes.items())
        if value != _at(base, dotted) and broken({dotted: value})
    }
    return alone or changes


def _base_config(run: TargetRun, model: str, device: dict[str, Any]) -> dict[str, Any]:
    """The matrix's rich config when *model* renders it well-formed, else the sample."""
    # Its parameters, not its size: the lines and keys beyond those varied only cost time.
    rich = build(
        v for v in model_matrix(model_shape(run, model))[0].variants if v.axis not in _SIZES
    )
    files, problems = configure_and_fetch(run, dict(device), copy.deepcopy(rich), verify=False)
    if problems or any(xml_problems(name, data) for name, data in files.items()):
        return sample_raw_config()  # the matrix item says what breaks the rich config
    return rich


def changes_of(base: dict[str, Any]) -> SearchStrategy[dict[str, Any]]:
    """Changes to *base*: ``{dotted parameter: value}``.  Every example changes line 1's
    display name and password and a few other string parameters of the schema that *base*
    has (drawing all of them each time would cost more than configuring)."""
    return _strategy(field_plan(base))


def field_plan(base: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    """The string parameters of *base* an example may change, each with the kind of values
    it draws (``choices`` with their list, ``host``, ``url``, ``dial`` or ``text``)."""
    from pytest_provd.provd.domain.rawschema import line_parameter_types, parameter_types

    fields: dict[str, tuple[str, list[str]]] = {}
    for name, types in sorted(parameter_types().items()):
        if types == (str,) and name in base:
            fields[name] = _kind(name, base[name])
    for number in HOSTILE_LINES:
        line = base.get("sip_lines", {}).get(number, {})
        for name, types in sorted(line_parameter_types().items()):
            if types == (str,) and name in line:
                fields[f"sip_lines.{number}.{name}"] = _kind(name, line[name])
    for number in HOSTILE_KEYS:
        key = base.get("funckeys", {}).get(number, {})
        for name in ("label", "value"):
            if name in key:
                fields[f"funckeys.{number}.{name}"] = _kind(name, key[name])
    return [(name, kind, choices) for name, (kind, choices) in fields.items()]


def _strategy(plan: list[tuple[str, str, list[str]]]) -> SearchStrategy[dict[str, Any]]:
    from hypothesis import strategies as st  # lazy: hypothesis is imported when drawing

    fields = {name: _values(kind, choices) for name, kind, choices in plan}
    always = [name for name in _ALWAYS if name in fields]
    others = sorted(set(fields) - set(always))
    chosen = (
        st.lists(st.sampled_from(others), max_size=OTHERS, unique=True) if others else st.just([])
    )
    return chosen.flatmap(
        lambda names: st.fixed_dictionaries({n: fields[n] for n in [*always, *sorted(names)]})
    )


def _kind(name: str, current: Any) -> tuple[str, list[str]]:
    """What values other than *current* the schema lets *name* hold."""
    from pytest_provd.provd.domain.rawschema import enum_choices

    enums = enum_choices()
    choices: tuple[str, ...] = ()
    if name in enums or name in ("dtmf_mode", "srtp_mode"):
        choices = enums.get(name) or enums[f"sip_{name}"]
    elif name in ("locale", "timezone"):
        choices = LOCALES if name == "locale" else ZONES
    if choices:
        return "choices", [c for c in choices if c != current]
    if name == "ip" or name.endswith("_ip"):
        return "host", []
    if name == "http_base_url":
        return "url", []
    if name in EXTENSIONS or name.startswith("exten_"):
        return "dial", []
    return "text", []


def _values(kind: str, choices: list[str]) -> SearchStrategy[Any]:
    """The strategy of a :func:`field_plan` kind."""
    from hypothesis import strategies as st

    if kind == "choices":
        return st.sampled_from(choices)
    if kind == "host":
        hosts = st.from_regex(_HOST, fullmatch=True) | st.sampled_from(["127.0.0.1", "10.0.0.1"])
        return hosts | st.just("a" * 63 + "." + "b" * 63 + ".example")
    if kind == "url":
        hosts = st.from_regex(_HOST, fullmatch=True)
        ports = st.integers(min_value=1, max_value=65535)
        return st.builds("http://{}:{}/prov".format, hosts, ports)
    if kind == "dial":
        return st.from_regex(r"[0-9*#+]{1,40}", fullmatch=True)
    return hostile_text()


def hostile_text() -> SearchStrategy[str]:
    """Text with XML and Jinja metacharacters, unicode and long values."""
    from hypothesis import strategies as st

    return st.text(
        # No lone surrogates: no JSON body from provd's REST API can carry one to a plugin.
        alphabet=st.sampled_from(list("&<>\"'{}%#\\é€漢 \t"))
        | st.characters(min_codepoint=32, exclude_categories=["Cs"]),
        min_size=1,
        max_size=80,
    ) | st.sampled_from(["{{ 7*7 }}", "]]>", "<![CDATA[", "&amp;", "x" * 300, "'; --"])


def applied(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """*base* with *changes* (dotted parameter names) made."""
    raw = copy.deepcopy(base)
    for dotted, value in changes.items():
        *path, name = dotted.split(".")
        node = raw
        for part in path:
            node = node[part]
        node[name] = value
    return raw


def describe(base: dict[str, Any], changes: dict[str, Any]) -> str:
    """``display_name='<'`` for each parameter the example changed (sorted)."""
    changed = [
        f"{dotted}={value!r}"
        for dotted, value in sorted(changes.items())
        if value != _at(base, dotted)
    ]
    return ", ".join(changed) or "the base config"


def _at(raw: dict[str, Any], dotted: str) -> Any:
    node: Any = raw
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


@pytest.hookimpl(tryfirst=True)
def pytest_provd_plan_target(session: ProvdSession, target: tree.Target, plan: TargetPlan) -> None:
    """``hostile-values``, once per target."""
    run = target_run(session, target)
    plan.add(ItemSpec("hostile-values", "provd_load", lambda: check_hostile(run)))
