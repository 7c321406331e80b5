"""Standard 5-field cron expressions: parsing, matching on wall-clock time, plain words."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from apscheduler.triggers.cron import CronTrigger

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_APS_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler counts from Monday
_DAY_WORDS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# The longest each month can be; February's 29th makes "0 0 29 2 *" valid (every leap year).
_MONTH_DAYS_MAX = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_ITEM = re.compile(r"(?P<first>\*|[a-z0-9]+)(?:-(?P<last>[a-z0-9]+))?(?:/(?P<step>[0-9]+))?", re.A)


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTH_NAMES, 1),
    _Field("day-of-week", 0, 7, DAY_NAMES, 0),
)


@dataclass(frozen=True)
class CronExpr:
    """A parsed expression. Weekdays count from 0 = Sunday (7 is folded into 0).

    `days_restricted`/`weekdays_restricted` follow Vixie cron: a field is restricted unless it
    starts with `*`. When both are restricted a day matches if EITHER matches (standard cron).
    """

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_restricted: bool
    weekdays_restricted: bool


def parse_cron(text: str) -> CronExpr:
    """Parse `minute hour day-of-month month day-of-week`; raise ValueError naming the bad field."""
    parts = text.lower().split()
    if len(parts) != 5:
        raise ValueError(
            f"cron expression {text!r} has {len(parts)} fields; expected 5: "
            "minute hour day-of-month month day-of-week"
        )
    sets = [_parse_field(spec, part) for spec, part in zip(_FIELDS, parts, strict=True)]
    minutes, hours, days, months, weekdays = sets
    restricted = [not part.startswith("*") for part in parts]
    expr = CronExpr(
        " ".join(parts),
        minutes,
        hours,
        days,
        months,
        frozenset(day % 7 for day in weekdays),
        days_restricted=restricted[2],
        weekdays_restricted=restricted[4],
    )
    if expr.days_restricted and not expr.weekdays_restricted and not _day_exists(expr):
        raise ValueError(f"cron expression {text!r} never matches: no such day in those months")
    return expr


def _day_exists(expr: CronExpr) -> bool:
    return any(min(expr.days) <= _MONTH_DAYS_MAX[month - 1] for month in expr.months)


def _parse_field(spec: _Field, text: str) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        try:
            values.update(_parse_item(spec, item))
        except ValueError as exc:
            raise ValueError(f"cron {spec.name} field {text!r} is not valid: {exc}") from None
    return frozenset(values)


def _parse_item(spec: _Field, item: str) -> range:
    match = _ITEM.fullmatch(item)
    if match is None:
        raise ValueError(f"{item!r} is not a number, name, range or step")
    first, last, step = match["first"], match["last"], match["step"]
    if first == "*":
        if last is not None:
            raise ValueError("'*' cannot start a range")
        # `*` for day-of-week is 0-6: with 7 included, `*/2` would also hit Sunday twice.
        low, high = spec.low, 6 if spec.names is DAY_NAMES else spec.high
    else:
        low = _value(spec, first, at_end=False)
        high = _value(spec, last, at_end=True) if last else (spec.high if step else low)
    if low > high:
        raise ValueError(f"the range {item!r} runs backwards")
    if step is not None and int(step) == 0:
        raise ValueError("a step must be at least 1")
    return range(low, high + 1, int(step or 1))


def _value(spec: _Field, token: str, *, at_end: bool) -> int:
    if token.isdigit():
        value = int(token)
    elif token in spec.names:
        value = spec.names.index(token) + spec.name_base
        # `sat-sun` means Saturday and Sunday, so a range ending on Sunday ends on 7.
        value = 7 if at_end and spec.names is DAY_NAMES and value == 0 else value
    else:
        allowed = f"; names {spec.names[0]}..{spec.names[-1]}" if spec.names else ""
        raise ValueError(f"{token!r} is not a {spec.name} value{allowed}")
    if not spec.low <= value <= spec.high:
        raise ValueError(f"{value} is outside {spec.low}-{spec.high}")
    return value


def next_wall_match(expr: CronExpr, wall: datetime) -> datetime | None:
    """The first naive wall-clock time strictly after naive `wall` that the expression matches.

    Matching runs on wall-clock time alone (no zone, so no DST): mapping a wall time to an
    instant is the caller's policy. APScheduler's CronTrigger, given UTC, does the field search.
    """
    start = wall.replace(tzinfo=UTC) + timedelta(microseconds=1)
    found = [t.get_next_fire_time(None, start) for t in _triggers(expr)]
    times = [time for time in found if time is not None]
    return min(times).replace(tzinfo=None) if times else None


@lru_cache(maxsize=4096)
def _triggers(expr: CronExpr) -> tuple[CronTrigger, ...]:
    """One trigger, or two whose earlier match is the standard day-of-month OR day-of-week rule."""
    if expr.days_restricted and expr.weekdays_restricted:
        return (_trigger(expr, expr.days, None), _trigger(expr, None, expr.weekdays))
    return (_trigger(expr, expr.days, expr.weekdays),)


def _trigger(expr: CronExpr, days: frozenset[int] | None, weekdays: frozenset[int] | None) -> CronTrigger:
    # Explicit ranges (and weekday names) sidestep from_crontab, where 3.x reads 0 as Monday.
    # Runs are folded into `a-b` because each list item costs CronTrigger a pass per search step.
    monday_first = frozenset((day + 6) % 7 for day in weekdays or range(7))
    return CronTrigger(
        month=_ranges(expr.months, 12, str),
        day=_ranges(days or frozenset(), 31, str),
        day_of_week=_ranges(monday_first, 7, lambda day: _APS_DAYS[day]),
        hour=_ranges(expr.hours, 24, str),
        minute=_ranges(expr.minutes, 60, str),
        second=0,
        timezone=UTC,
    )


def _ranges(values: frozenset[int], size: int, name: Callable[[int], str]) -> str:
    """`1,2,3,7` as `1-3,7`; every value (or none, meaning unrestricted) as `*`."""
    if len(values) in (0, size):
        return "*"
    runs: list[list[int]] = []
    for value in sorted(values):
        if runs and runs[-1][1] == value - 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return ",".join(name(a) if a == b else f"{name(a)}-{name(b)}" for a, b in runs)


def describe_cron(expr: CronExpr) -> str:
    """Plain words for common shapes ("every weekday at 07:00"), else the expression itself."""
    days, times = _describe_days(expr), _describe_times(expr)
    if days is None or times is None:
        return f"on the cron schedule '{expr.text}'"
    return times if days == "every day" and times.startswith("every") else f"{days} {times}"


def _describe_days(expr: CronExpr) -> str | None:
    if len(expr.months) != 12:
        return None
    if not expr.days_restricted and not expr.weekdays_restricted:
        return "every day"
    if expr.days_restricted and expr.weekdays_restricted:
        return None
    if expr.days_restricted:
        return f"on day {_and(str(d) for d in sorted(expr.days))} of every month"
    if expr.weekdays == frozenset(range(1, 6)):
        return "every weekday"
    order = sorted(expr.weekdays, key=lambda d: (d + 6) % 7)  # Monday first, as people list them
    return "every " + _and(_DAY_WORDS[d] for d in order)


def _describe_times(expr: CronExpr) -> str | None:
    if len(expr.hours) == 24 and len(expr.minutes) == 1:
        return f"every hour at :{min(expr.minutes):02d}"
    if len(expr.hours) * len(expr.minutes) > 4:
        return None
    return "at " + _and(f"{h:02d}:{m:02d}" for h in sorted(expr.hours) for m in sorted(expr.minutes))


def _and(items: Iterable[str]) -> str:
    words = list(items)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]
