"""How triggers and instants read for people: "every weekday at 07:00 (Europe/Berlin)"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from assistant.jobs.cron import describe_cron, parse_cron
from assistant.jobs.triggers import TriggerSpec, interval_s

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNITS = (("week", 604_800), ("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1))


def format_when(at: datetime, timezone: str) -> str:
    """An aware instant as read in `timezone`: `Fri 27 Nov 2026, 08:00 CET` (English)."""
    local = at.astimezone(ZoneInfo(timezone))
    day, month = _DAYS[local.weekday()], _MONTHS[local.month - 1]
    return f"{day} {local.day} {month} {local.year}, {local:%H:%M} {local.tzname()}"


def describe(spec: TriggerSpec) -> str:
    """A trigger in plain words with its timezone: `every weekday at 07:00 (Europe/Berlin)`."""
    if spec.kind == "at":
        return f"once, {format_when(datetime.fromisoformat(spec.value), spec.timezone)}"
    if spec.kind == "every":
        return f"{describe_interval(interval_s(spec))} ({spec.timezone})"
    return f"{describe_cron(parse_cron(spec.value))} ({spec.timezone})"


def describe_interval(interval_s: int) -> str:
    """`every 30 minutes`, `every day`, `every 1 hour 30 minutes`."""
    parts = []
    for unit, unit_s in _UNITS:
        count, interval_s = divmod(interval_s, unit_s)
        if count:
            parts.append(f"{count} {unit}{'s' if count > 1 else ''}")
    if len(parts) == 1 and parts[0].startswith("1 "):
        return f"every {parts[0][2:]}"
    return "every " + " ".join(parts)
