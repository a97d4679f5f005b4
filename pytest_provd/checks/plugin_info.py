"""``plugin-info``: valid JSON, required keys, a parsable version, well-formed capabilities."""

from __future__ import annotations

import difflib
from typing import Any

from pytest_provd import versions
from pytest_provd.capabilities import split_capability_key
from pytest_provd.checks._base import CheckContext, find_line, load_plugin_info
from pytest_provd.problems import Problem

REQUIRED = ("version", "description", "capabilities")
OPTIONAL = (
    "description_fr",
    "vendor",
    "vendor.url",
    "vendor.description",
    "vendor.official",
    "plugin_iface_version_min",
)
# Learnt from the 114 targets of wazo-provd-plugins (826 capability entries).
INT_KEYS = ("lines", "function_keys", "expansion_modules")
BOOL_KEYS = ("high_availability", "switchboard", "multicell")
TYPES = (
    "deskphone",
    "ata",
    "dect",
    "wifidect",
    "conference",
    "doorphone",
    "gateway",
    "pager",
    "generic",
    "softphone",
)
PROTOCOLS = ("sip", "sccp")
KNOWN_KEYS = (*INT_KEYS, *BOOL_KEYS, "type", "protocol")
ALIASES = {
    "ha": "high_availability",
    "expansions": "expansion_modules",
    "proto": "protocol",
    "sip.lines": "lines",
    "fkeys": "function_keys",
}


def check_plugin_info(ctx: CheckContext) -> list[Problem]:
    """Check the target's ``plugin-info`` file."""
    path = ctx.source_file("plugin-info") or ctx.built_dir() / "plugin-info"
    shown = ctx.rel(path)
    loaded = load_plugin_info(path)
    if isinstance(loaded, Problem):
        return [Problem(shown, loaded.message, loaded.line, fix=loaded.fix)]
    data, problems = loaded.data, []
    for key in REQUIRED:
        if key not in data:
            near = difflib.get_close_matches(key, [str(k) for k in data], n=1, cutoff=0.7)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append(
                Problem(shown, f"required key {key!r} is missing{hint}", 1, fix=f"add {key!r}")
            )
    version = data.get("version")
    if "version" in data:
        line = _key_line(loaded.text, "version")
        if not isinstance(version, str):
            problems.append(
                Problem(
                    shown,
                    f"version must be a string, not {version!r}",
                    line,
                    fix=f'write "version": "{version}"',
                )
            )
        else:
            try:
                versions.parse_version(version)
            except versions.VersionError as exc:
                problems.append(
                    Problem(
                        shown,
                        f"version {version!r} does not parse: {exc}",
                        line,
                        fix='use dotted numbers such as "0.4.01"',
                    )
                )
    if "description" in data and not (
        isinstance(data["description"], str) and data["description"].strip()
    ):
        problems.append(
            Problem(
                shown,
                "description must be a non-empty string",
                _key_line(loaded.text, "description"),
                fix="describe the plugin",
            )
        )
    caps = data.get("capabilities")
    if "capabilities" in data and not isinstance(caps, dict):
        problems.append(
            Problem(
                shown,
                "capabilities must be an object",
                _key_line(loaded.text, "capabilities"),
                fix='write "capabilities": {"Vendor, Model, Version": {...}}',
            )
        )
    elif isinstance(caps, dict):
        for key, value in caps.items():
            line = loaded.capability_lines.get(key)
            problems += _check_capability(shown, key, value, line, loaded.text)
    return problems


def _key_line(text: str, key: str) -> int | None:
    return find_line(text, f'"{key}"')


def _check_capability(
    shown: str, key: str, value: Any, key_line: int | None, text: str
) -> list[Problem]:
    problems = []
    line = key_line
    section = f"capabilities[{key!r}]"
    if key != "*" and split_capability_key(key) is None:
        problems.append(
            Problem(
                shown,
                f"capability key {key!r} is not of the form 'Vendor, Model, Version'",
                line,
                section,
                fix='write the key as "Vendor, Model, Version"',
            )
        )
    if not isinstance(value, dict):
        problems.append(
            Problem(
                shown,
                f"capability {key!r} must be an object, not {type(value).__name__}",
                line,
                section,
                fix='write {"lines": 1, ...}',
            )
        )
        return problems
    for name, item in value.items():
        line = find_line(text, f'"{name}"', key_line) if key_line else None
        if name in INT_KEYS:
            ok = isinstance(item, int) and not isinstance(item, bool) and item >= 0
            expected = "a non-negative integer"
        elif name in BOOL_KEYS:
            ok, expected = isinstance(item, bool), "true or false"
        elif name == "type":
            ok, expected = item in TYPES, f"one of {', '.join(TYPES)}"
        elif name == "protocol":
            ok, expected = item in PROTOCOLS, f"one of {', '.join(PROTOCOLS)}"
        else:
            near = ALIASES.get(name) or next(
                iter(difflib.get_close_matches(name, KNOWN_KEYS, n=1, cutoff=0.6)), None
            )
            hint = f"; did you mean {near!r}?" if near else ""
            problems.append(
                Problem(
                    shown,
                    f"capability {key!r} has unknown key {name!r}{hint}",
                    line,
                    section,
                    fix=f"rename it to {near!r}" if near else f"use one of {', '.join(KNOWN_KEYS)}",
                )
            )
            continue
        if not ok:
            near_values = TYPES if name == "type" else PROTOCOLS if name == "protocol" else ()
            close = difflib.get_close_matches(str(item), near_values, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Problem(
                    shown,
                    f"capability {key!r}: {name} is {item!r}, expected {expected}{hint}",
                    line,
                    section,
                    fix=f"set {name} to {expected}",
                )
            )
    return problems
