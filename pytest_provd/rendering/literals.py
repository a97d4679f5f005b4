"""Values a plugin's templates compare raw-config parameters with (``sip_srtp_mode ==
'required'``, ``'1' in sip_lines``, ``locale == 'ja_JP'``), by matrix axis, kept when provd's
raw config schema allows them: the values that matter to the templates' branches."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from typing import Any

from jinja2 import nodes

MAX_LINES = 100
"""The most lines a template's ``'N' in sip_lines`` may ask for."""

_AXIS_OF = {
    "sip_transport": "transport",
    "sip_srtp_mode": "srtp",
    "srtp_mode": "srtp",
    "sip_dtmf_mode": "dtmf",
    "dtmf_mode": "dtmf",
    "locale": "locale",
    "timezone": "tz",
}


def template_values(templates: Iterable[nodes.Template]) -> dict[str, set[str]]:
    """Values the templates compare raw-config parameters with, by axis (only the ones
    provd's schema allows are used: see :func:`valid_literal`)."""
    found: dict[str, set[str]] = {}
    for template in templates:
        for axis, values in compared_values(template).items():
            found.setdefault(axis, set()).update(values)
    return valid_values(found)


def compared_values(template: nodes.Template) -> dict[str, set[str]]:
    """Values one template compares parameters with, by axis, valid or not."""
    found: dict[str, set[str]] = {}
    for compare in template.find_all(nodes.Compare):
        operands = [compare.expr, *(op.expr for op in compare.ops)]
        names = [_parameter(o) for o in operands]
        consts = [c for o in operands for c in _constants(o)]
        ops = {op.op for op in compare.ops}
        if "in" in ops or "notin" in ops:
            if (
                isinstance(compare.expr, nodes.Const)
                and _parameter(compare.ops[0].expr) == "sip_lines"
            ):
                found.setdefault("lines", set()).add(str(compare.expr.value))
        for name in names:
            axis = _AXIS_OF.get(name or "")
            if axis is not None:
                found.setdefault(axis, set()).update(str(c) for c in consts)
    return found


def valid_values(found: dict[str, set[str]]) -> dict[str, set[str]]:
    """*found* without the values provd's schema does not allow, nor axes left empty."""
    valid = {axis: {v for v in values if valid_literal(axis, v)} for axis, values in found.items()}
    return {axis: values for axis, values in valid.items() if values}


def _parameter(node: nodes.Node) -> str | None:
    """The raw-config parameter *node* reads: ``sip_transport``, ``line['dtmf_mode']``."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return str(node.arg.value)
    if isinstance(node, nodes.Getattr):
        return node.attr
    return None


def _constants(node: nodes.Node) -> list[Any]:
    if isinstance(node, nodes.Const):
        return [node.value]
    if isinstance(node, nodes.List | nodes.Tuple):
        return [item.value for item in node.items if isinstance(item, nodes.Const)]
    return []


def valid_literal(axis: str, value: str) -> bool:
    """Whether provd's schema lets *axis* take *value*."""
    if axis == "lines":
        return value.isdigit() and 0 < int(value) <= MAX_LINES
    if axis == "tz":
        try:
            zoneinfo.ZoneInfo(value)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            return False
        return True
    from pytest_provd.provd.domain.errors import RawConfigError  # lazy: see sample_raw_config
    from pytest_provd.provd.domain.rawschema import validate_raw_config

    parameter = {"srtp": "sip_srtp_mode", "dtmf": "sip_dtmf_mode"}.get(axis, axis)
    try:
        validate_raw_config({parameter: value})
    except RawConfigError:
        return False
    return True
