"""Each quirk of real provd that the embedded provd reproduces, pinned (see
``pytest_provd/compat/QUIRKS.md``, one test per row)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from pytest_provd import compat

compat.activate()

from wazo_provd import tzinform  # noqa: E402

from pytest_provd.provd.plugins import twisted_bridge  # noqa: E402

# Twisted's reactor warns on import where service_identity is not installed (an interpreter
# with the real wazo_provd's pins): the environment's, not what these tests pin.
pytestmark = pytest.mark.filterwarnings(
    "ignore:You do not have a working installation of the service_identity module:UserWarning"
)

_RULE_OBJECT_TEXT = re.compile(r"\A<zoneinfo\._zoneinfo\._TZStr object at 0x[0-9a-f]+>\Z")


def _dst_text(zone: str) -> str:
    dst = tzinform.get_timezone_info(zone)["dst"]
    assert dst is not None, zone
    return dst["as_string"]


def test_tz_dst_as_string_is_the_text_of_a_per_zone_rule_object() -> None:
    """``tz-dst-as-string``: ``str()`` of provd's rule object, equal for one zone name only."""
    chicago = _dst_text("America/Chicago")
    assert _RULE_OBJECT_TEXT.match(chicago)
    assert _dst_text("America/Chicago") == chicago
    # Same POSIX rule (CST6CDT,M3.2.0,M11.1.0), other name: another object, another text.
    assert _dst_text("US/Central") != chicago
    assert "CST6CDT" not in chicago
    assert tzinform.get_timezone_info("Asia/Tokyo")["dst"] is None


def test_tz_dst_as_string_renewed_by_every_new_db() -> None:
    """provd re-parses every zone into a shared table when a TimezoneInfoDB is created."""
    before = _dst_text("Europe/Paris")
    # The old rule objects kept alive: a new one cannot reuse a freed one's address (and text).
    kept = dict(getattr(tzinform.NativeTimezoneInfoDB, "_rule_objects", {}))
    tzinform.NativeTimezoneInfoDB()
    after = _dst_text("Europe/Paris")
    assert after != before and _RULE_OBJECT_TEXT.match(after)
    assert tzinform.TextTimezoneInfoDB is tzinform.NativeTimezoneInfoDB
    assert kept


def _value_by_dst_text(table: dict[str, str], zone: str, default: str) -> str:
    """A plugin-style lookup (wazo_cisco_sccp/_sip, wazo_technicolor): offset, then the
    daylight-saving text, else the offset's no-DST entry, else its first entry."""
    by_offset: dict[int, dict[str | None, str]] = {}
    for name, value in table.items():
        info = tzinform.get_timezone_info(name)
        key = info["dst"]["as_string"] if info["dst"] else None
        by_offset.setdefault(info["utcoffset"].as_minutes, {})[key] = value
    info = tzinform.get_timezone_info(zone)
    entries = by_offset.get(info["utcoffset"].as_minutes)
    if entries is None:
        return default
    key = info["dst"]["as_string"] if info["dst"] else None
    if key not in entries:
        key = None if None in entries else next(iter(entries))
    return entries[key]


def test_tz_dst_lookup_gives_what_plugins_get_from_provd() -> None:
    """America/Chicago is not US/Central for such a table: it falls back to the offset's
    no-DST entry (Mexico City has had no DST since 2022), as on a real provd."""
    table = {"US/Central": "Central Standard/Daylight Time", "America/Mexico_City": "Mexico"}
    if tzinform.get_timezone_info("America/Mexico_City")["dst"] is not None:
        pytest.skip("this tz database still gives Mexico City a DST rule")
    assert _value_by_dst_text(table, "US/Central", "?") == "Central Standard/Daylight Time"
    assert _value_by_dst_text(table, "America/Chicago", "?") == "Mexico"


def test_time_values_are_unhashable() -> None:
    """provd's ``Time`` defines ``__eq__`` only: instances cannot be dict keys."""
    assert tzinform.Time(60) == tzinform.Time(60)
    with pytest.raises(TypeError):
        hash(tzinform.Time(60))


def test_call_from_thread_runs_on_the_entering_thread_after_the_worker() -> None:
    """``call-from-thread``: queued for provd's reactor thread, run once the thread is done."""
    from twisted.internet import reactor, threads

    entering = threading.current_thread()
    seen: list[tuple[str, Any]] = []

    def worker() -> str:
        reactor_any: Any = reactor
        reactor_any.callFromThread(lambda: seen.append(("call", threading.current_thread())))
        seen.append(("worker done", threading.current_thread()))
        return "ok"

    with twisted_bridge.inline_threads(5.0):
        result = twisted_bridge.resolve(threads.deferToThread(worker), 5.0)
    assert result == "ok"
    assert [what for what, _ in seen] == ["worker done", "call"]
    assert seen[0][1] is not entering and seen[1][1] is entering
