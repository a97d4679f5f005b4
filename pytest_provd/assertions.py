"""Assertion helpers on emulated phones, with failure messages that show what the phone saw."""

from __future__ import annotations

from typing import Any

import pytest


def _state(phone_or_state: Any) -> Any:
    return getattr(phone_or_state, "state", phone_or_state)


def assert_provisioned(phone_or_state: Any) -> None:
    """The phone got at least one SIP line."""
    __tracebackhide__ = True
    state = _state(phone_or_state)
    if not state.provisioned:
        pytest.fail(f"phone was not provisioned\n{state.describe()}", pytrace=False)


def assert_line(phone_or_state: Any, number: int, **expected: Any) -> None:
    """Line *number* has the expected fields (username, password, display_name, registrar...)."""
    __tracebackhide__ = True
    state = _state(phone_or_state)
    line = state.lines.get(number)
    if line is None:
        pytest.fail(f"phone has no line {number}\n{state.describe()}", pytrace=False)
    diffs = [
        f"  {key}: expected {value!r}, phone has {getattr(line, key, None)!r}"
        for key, value in expected.items()
        if getattr(line, key, None) != value
    ]
    if diffs:
        pytest.fail(
            f"line {number} differs:\n" + "\n".join(diffs) + f"\n{state.describe()}", pytrace=False
        )


def assert_wellformed(phone_or_state: Any) -> None:
    """Every file the phone fetched parsed without error."""
    __tracebackhide__ = True
    state = _state(phone_or_state)
    if state.wellformed_errors:
        pytest.fail("malformed files:\n  " + "\n  ".join(state.wellformed_errors), pytrace=False)


def assert_setting(phone_or_state: Any, key: str, value: str) -> None:
    """A parsed setting has *value*."""
    __tracebackhide__ = True
    state = _state(phone_or_state)
    got = state.settings.get(key)
    if got != value:
        near = sorted(k for k in state.settings if key.lower() in k.lower())[:8]
        pytest.fail(
            f"setting {key!r}: expected {value!r}, phone has {got!r} (similar keys: {near})",
            pytrace=False,
        )


def xpath(phone_or_state: Any, filename: str, expr: str) -> list[Any]:
    """Evaluate XPath *expr* on an XML file the phone fetched."""
    from lxml import etree

    __tracebackhide__ = True
    state = _state(phone_or_state)
    if filename not in state.files:
        pytest.fail(
            f"phone did not fetch {filename}; it fetched {sorted(state.files)}", pytrace=False
        )
    result = etree.fromstring(state.files[filename]).xpath(expr)
    return list(result) if isinstance(result, list) else [result]
