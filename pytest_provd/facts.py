"""Counts a generated item records for the run summary (models, files, phones, firmware).

The item running now is kept in a context variable, so a check deep in a tier records facts
without being handed the item.  Facts travel on ``item.user_properties`` under
:data:`FACTS_KEY`, which is how the reporter sees them under pytest-xdist too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import pytest

FACTS_KEY = "provd_facts"
NOTE_KEY = "provd_note"

_current_item: ContextVar[pytest.Item | None] = ContextVar("provd_current_item", default=None)


def add_facts(item: pytest.Item, **facts: int) -> None:
    """Record counts (models, files, firmware) for the summary of the item's target."""
    item.user_properties.append((FACTS_KEY, dict(facts)))


def record_facts(**facts: int) -> None:
    """:func:`add_facts` for the generated item running now (no-op outside one)."""
    item = _current_item.get()
    if item is not None:
        add_facts(item, **facts)


def record_note(text: str) -> None:
    """A line in the report sections of the generated item running now (no-op outside one):
    how the item judged what it judged when that is not the plain case; not a failure."""
    item = _current_item.get()
    if item is not None:
        item.add_report_section("call", "provd", text)
        item.user_properties.append((NOTE_KEY, text))


def current_item() -> pytest.Item | None:
    """The generated item running now (None outside one)."""
    return _current_item.get()


@contextmanager
def recording(item: pytest.Item) -> Iterator[None]:
    """Within the block, :func:`record_facts` records for *item*."""
    token = _current_item.set(item)
    try:
        yield
    finally:
        _current_item.reset(token)
