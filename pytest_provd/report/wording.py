"""Plain words for what an emulated phone did, for the provision tiers' problems.

A provision problem reads as one sentence: what was expected, what the phone has, and what it
fetched (``line 1: expected user alice1001 ('Alice') registered; the phone has no line 1; it
fetched: a.xml (200, 1234 B), b.xml (404)``).  The first line of a problem is what short
summaries show and what a baseline fingerprints; details follow on the next lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

MAX_FETCHES_SHOWN = 8


class FetchLike(Protocol):
    """A phone's request (:class:`emulators.phone.Fetch`)."""

    proto: str
    path: str
    status: int
    size: int


class LineLike(Protocol):
    """A phone's SIP line (:class:`emulators.phone.Line`)."""

    username: str | None
    display_name: str | None


def fetched(fetches: Sequence[FetchLike]) -> str:
    """``it fetched: a.xml (200, 1234 B), b.xml (404)``, or ``it fetched nothing``."""
    if not fetches:
        return "it fetched nothing"
    # Each file once: a phone fetches its files again after a firmware upgrade.
    first: dict[tuple[str, int], FetchLike] = {}
    for fetch in fetches:
        first.setdefault((fetch.path, fetch.status), fetch)
    distinct = list(first.values())
    shown = [
        f"{f.path.lstrip('/')} ({f.status}, {f.size} B)"
        if f.status == 200
        else f"{f.path.lstrip('/')} ({f.status})"
        for f in distinct[:MAX_FETCHES_SHOWN]
    ]
    more = len(distinct) - MAX_FETCHES_SHOWN
    return "it fetched: " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _user(username: object, display_name: object) -> str:
    return f"user {username}" + (f" ({display_name!r})" if display_name else "")


def line_problem(
    model: str,
    number: str,
    pushed: Mapping[str, Any],
    line: LineLike | None,
    fetches: Sequence[FetchLike],
) -> str:
    """Line *number* of *model*'s phone is not the one pushed over REST, in one sentence."""
    if line is None:
        has = f"the phone has no line {number}"
    elif not line.username:
        named = f" (display name {line.display_name!r})" if line.display_name else ""
        has = f"the phone's line {number} has no user{named}"
    else:
        has = f"the phone has {_user(line.username, line.display_name)} on line {number}"
    expected = _user(pushed.get("username"), pushed.get("display_name"))
    return f"{model}: line {number}: expected {expected} registered; {has}; {fetched(fetches)}"


def call_manager_problem(
    model: str, pushed: str, got: str | None, fetches: Sequence[FetchLike]
) -> str:
    """An SCCP phone did not take the call manager pushed over REST, in one sentence."""
    has = f"the phone has {got!r}" if got else "the phone has none"
    return f"{model}: call manager 1: expected {pushed} pushed; {has}; {fetched(fetches)}"


def details(errors: Sequence[str], firmware_version: str) -> str:
    """The lines after a provision problem's sentence: the phone's firmware and errors."""
    lines = [f"the phone runs firmware {firmware_version or 'unknown'}"]
    lines += [f"the phone said: {error}" for error in errors]
    return "\n".join(lines)


def nothing_fetched(model: str, fetches: Sequence[FetchLike]) -> str:
    """A phone that fetched no file: there is nothing to check, and that is a failure."""
    return (
        f"{model}: the phone fetched no file successfully, so none could be checked; "
        f"{fetched(fetches)}"
    )
