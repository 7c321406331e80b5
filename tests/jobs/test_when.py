"""Tests for how triggers and instants read for people."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.jobs.triggers import parse_trigger
from assistant.jobs.when import describe, describe_interval, format_when

NOW_AT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "timezone", "text"),
    [
        ("2026-11-27T07:00Z", "Europe/Berlin", "Fri 27 Nov 2026, 08:00 CET"),
        ("2026-07-03T06:05Z", "Europe/Berlin", "Fri 3 Jul 2026, 08:05 CEST"),
        ("2026-11-27T13:00Z", "America/New_York", "Fri 27 Nov 2026, 08:00 EST"),
        ("2026-11-27T23:30Z", "Asia/Kolkata", "Sat 28 Nov 2026, 05:00 IST"),
        ("2026-11-27T08:00+01:00", "UTC", "Fri 27 Nov 2026, 07:00 UTC"),
    ],
)
def test_format_when(instant: str, timezone: str, text: str) -> None:
    assert format_when(datetime.fromisoformat(instant), timezone) == text


@pytest.mark.parametrize(
    ("interval_s", "text"),
    [
        (60, "every minute"),
        (1800, "every 30 minutes"),
        (3600, "every hour"),
        (5400, "every 1 hour 30 minutes"),
        (86_400, "every day"),
        (172_800, "every 2 days"),
        (604_800, "every week"),
        (90, "every 1 minute 30 seconds"),
    ],
)
def test_describe_interval(interval_s: int, text: str) -> None:
    assert describe_interval(interval_s) == text


@pytest.mark.parametrize(
    ("at", "every", "cron", "text"),
    [
        ("2026-11-27T08:00", None, None, "once, Fri 27 Nov 2026, 08:00 CET"),
        (None, "2h", None, "every 2 hours (Europe/Berlin)"),
        (None, None, "0 7 * * 1-5", "every weekday at 07:00 (Europe/Berlin)"),
        (None, None, "*/5 * * * *", "on the cron schedule '*/5 * * * *' (Europe/Berlin)"),
    ],
)
def test_describe(at: str | None, every: str | None, cron: str | None, text: str) -> None:
    assert describe(parse_trigger(at, every, cron, "Europe/Berlin", NOW_AT)) == text
