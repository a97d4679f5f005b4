"""UTC offset and daylight-saving rule of a named timezone.

The information comes from the POSIX TZ rule stored at the end of each compiled zone file
(what Python's zoneinfo reads), so results follow the system's tz database.

Quirk kept from provd (see ``pytest_provd/compat/QUIRKS.md``, ``tz-dst-as-string``):
``dst["as_string"]`` is not the rule text but ``str()`` of the rule object provd parsed for
that zone name, ``"<zoneinfo._zoneinfo._TZStr object at 0x...>"``.  It equals only the value
of the same zone name (``US/Central`` and ``America/Chicago`` differ though their rules are
the same), and every new ``NativeTimezoneInfoDB()`` gives every zone a new one.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypedDict


class TimezoneNotFoundError(Exception):
    """The timezone name is unknown (or its rule could not be read)."""


class Time:
    """A signed duration in seconds with the unit views templates use."""

    def __init__(self, raw_seconds: int) -> None:
        self._raw_seconds = raw_seconds

    @property
    def as_seconds(self) -> int:
        return self._raw_seconds

    @property
    def as_minutes(self) -> int:
        return self._raw_seconds // 60

    @property
    def as_hours(self) -> int:
        return self._raw_seconds // 3600

    @property
    def as_hms(self) -> list[int]:
        """[h, m, s] of the absolute value; the first non-zero item carries the sign."""
        total = abs(self._raw_seconds)
        parts = [total // 3600, total // 60 % 60, total % 60]
        if self._raw_seconds < 0:
            for i, value in enumerate(parts):
                if value:
                    parts[i] = -value
                    break
        return parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, self.__class__) and other._raw_seconds == self._raw_seconds

    __hash__ = None  # type: ignore[assignment]  # mutable-looking value type, like provd's

    def __repr__(self) -> str:
        return f"Time({self._raw_seconds})"


class DSTChangeDict(TypedDict):
    month: int
    day: str
    time: Time


class DSTRuleDict(TypedDict):
    start: DSTChangeDict
    end: DSTChangeDict
    save: Time
    as_string: str


class TimeZoneInfoDict(TypedDict):
    utcoffset: Time
    dst: DSTRuleDict | None


# --- POSIX TZ rule parsing -------------------------------------------------------------

_NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]+>)"
_OFFSET = r"[+-]?\d{1,3}(?::\d{1,2}(?::\d{1,2})?)?"
_RULE_RE = re.compile(
    rf"\A(?P<std>{_NAME})(?P<stdoff>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dstoff>{_OFFSET})?(?:,(?P<start>[^,]+),(?P<end>[^,]+))?)?\Z"
)
_DATE_RE = re.compile(
    r"\A(?:M(?P<m>\d{1,2})\.(?P<w>\d)\.(?P<d>\d)|J(?P<j>\d{1,3})|(?P<n>\d{1,3}))"
    rf"(?:/(?P<time>{_OFFSET}))?\Z"
)
_DEFAULT_CHANGE_TIME = 2 * 3600


def _seconds(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    fields = [int(f) for f in text.lstrip("+-").split(":")]
    fields += [0] * (3 - len(fields))
    return sign * (fields[0] * 3600 + fields[1] * 60 + fields[2])


def _rule_day(spec: re.Match[str], year: int) -> datetime:
    """Midnight (naive, local) of the day a transition rule designates in *year*."""
    if spec["m"] is not None:
        month, week, weekday = int(spec["m"]), int(spec["w"]), int(spec["d"])
        if not (1 <= month <= 12 and 1 <= week <= 5 and 0 <= weekday <= 6):
            raise ValueError(f"bad M rule {spec.group(0)!r}")
        first_weekday, length = calendar.monthrange(year, month)
        # calendar counts Monday=0, POSIX counts Sunday=0.
        first_match = 1 + (weekday - (first_weekday + 1)) % 7
        day = first_match + 7 * (week - 1)
        while day > length:  # week 5 means "the last one"
            day -= 7
        return datetime(year, month, day)
    if spec["j"] is not None:
        # Jn: 1..365, February 29th never counted.
        n = int(spec["j"])
        if not 1 <= n <= 365:
            raise ValueError(f"bad J rule {spec.group(0)!r}")
        when = datetime(year, 1, 1) + timedelta(days=n - 1)
        if calendar.isleap(year) and n >= 60:
            when += timedelta(days=1)
        return when
    n = int(spec["n"])
    if not 0 <= n <= 365:
        raise ValueError(f"bad day rule {spec.group(0)!r}")
    return datetime(year, 1, 1) + timedelta(days=n)


def _change(spec_text: str, year: int) -> datetime:
    spec = _DATE_RE.match(spec_text)
    if spec is None:
        raise ValueError(f"bad transition rule {spec_text!r}")
    seconds = _seconds(spec["time"]) if spec["time"] else _DEFAULT_CHANGE_TIME
    return _rule_day(spec, year) + timedelta(seconds=seconds)


def _week_of_month(when: datetime) -> int:
    # Monday-based week numbers (strftime %W) relative to the month's first day.
    return int(when.strftime("%W")) - int(when.replace(day=1).strftime("%W")) + 1


def _change_dict(when: datetime) -> DSTChangeDict:
    return {
        "month": when.month,
        "day": f"W{_week_of_month(when)}.{when.isoweekday()}",
        "time": Time(when.hour * 3600 + when.minute * 60 + when.second),
    }


def info_from_posix_rule(rule: str, year: int | None = None) -> TimeZoneInfoDict:
    """Offset and DST description of a POSIX TZ rule such as ``CET-1CEST,M3.5.0,M10.5.0/3``."""
    m = _RULE_RE.match(rule)
    if m is None:
        raise ValueError(f"unparsable TZ rule {rule!r}")
    std = -_seconds(m["stdoff"])
    if m["dst"] is None:
        return {"utcoffset": Time(std), "dst": None}
    dst = -_seconds(m["dstoff"]) if m["dstoff"] else std + 3600
    if m["start"] is None:
        raise ValueError(f"TZ rule {rule!r} names a DST zone without transition dates")
    year = year if year is not None else datetime.now(tz=UTC).year
    start, end = _change(m["start"], year), _change(m["end"], year)
    return {
        "utcoffset": Time(std),
        "dst": {
            "start": _change_dict(start),
            "end": _change_dict(end),
            "save": Time(dst - std),
            "as_string": rule,
        },
    }


def _zone_file(name: str) -> bytes | None:
    for base in zoneinfo.TZPATH:
        path = Path(base) / name
        if path.is_file():
            return path.read_bytes()
    try:
        from importlib import resources

        package, _, leaf = ("tzdata.zoneinfo/" + name).rpartition("/")
        return resources.files(package.replace("/", ".")).joinpath(leaf).read_bytes()
    except (ImportError, OSError, ValueError):
        return None


@cache
def _footer_rule(name: str) -> str | None:
    if name not in _available():
        return None
    data = _zone_file(name)
    if not data or not data.startswith(b"TZif"):
        return None
    lines = data.rstrip(b"\n").rsplit(b"\n", 1)
    if len(lines) != 2:
        return None
    try:
        return lines[1].decode("ascii")
    except UnicodeDecodeError:
        return None


@lru_cache(maxsize=1)
def _available() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class _TZStr:
    """Stands for the rule object provd keeps per zone name: only its identity is seen."""


# Named as the object provd calls str() on, so the text plugins see has the same form.
_TZStr.__module__ = "zoneinfo._zoneinfo"


class NativeTimezoneInfoDB:
    """Timezone information read from the system tz database.

    Like provd's, every instance shares one table of per-zone rule objects, rebuilt when an
    instance is created: ``as_string`` values obtained before no longer match.
    """

    _rule_objects: dict[str, _TZStr] = {}

    def __init__(self) -> None:
        # provd re-parses every zone into the shared class-level table; new objects, new text.
        type(self)._rule_objects.clear()

    def get_timezone_info(self, timezone_name: str) -> TimeZoneInfoDict:
        rule = _footer_rule(timezone_name) if isinstance(timezone_name, str) else None
        if not rule:
            raise TimezoneNotFoundError(timezone_name)
        try:
            info = info_from_posix_rule(rule)
        except ValueError as e:
            raise TimezoneNotFoundError(f"{timezone_name}: {e}") from None
        if info["dst"] is not None:
            info["dst"]["as_string"] = dst_rule_text(timezone_name)
        return info


def dst_rule_text(timezone_name: str) -> str:
    """What provd gives as ``dst["as_string"]`` for *timezone_name* now (see the docstring)."""
    token = NativeTimezoneInfoDB._rule_objects.setdefault(timezone_name, _TZStr())
    return object.__repr__(token)


TextTimezoneInfoDB = NativeTimezoneInfoDB


class DefaultTimezoneInfoDB:
    """Falls back to a default timezone for unknown names."""

    def __init__(self, default_tz: str, db: Any) -> None:
        self.db = db
        self.default = db.get_timezone_info(default_tz)

    def get_timezone_info(self, timezone_name: str) -> TimeZoneInfoDict:
        try:
            return self.db.get_timezone_info(timezone_name)  # type: ignore[no-any-return]
        except TimezoneNotFoundError:
            return self.default  # type: ignore[no-any-return]


_DB = NativeTimezoneInfoDB()
get_timezone_info = _DB.get_timezone_info


def week_start_on_monday(weekday: int) -> int:
    """Sunday-first weekday number (1=Sunday) to Monday-first (1=Monday, 7=Sunday)."""
    return (weekday + 5) % 7 + 1
