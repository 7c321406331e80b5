"""Tests for trigger parsing, due times across DST changes, and catch-up after downtime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from assistant.jobs.timer import SpecTrigger
from assistant.jobs.triggers import (
    CatchUp,
    TriggerError,
    TriggerSpec,
    catch_up,
    next_run,
    parse_trigger,
)

NOW_AT = datetime(2026, 3, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """An aware instant from ISO text with an offset."""
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None
    return parsed


def cron(expr: str, timezone: str) -> TriggerSpec:
    return parse_trigger(None, None, expr, timezone, NOW_AT)


@pytest.mark.parametrize(
    ("at_text", "every", "cron_text", "timezone", "message"),
    [
        (None, None, None, "UTC", "give exactly one of at, every or cron (got none)"),
        ("", "", "", "UTC", "(got none)"),
        ("2026-11-27T08:00", "1h", None, "UTC", "(got at, every)"),
        ("2026-11-27T08:00", "1h", "* * * * *", "UTC", "(got at, every, cron)"),
        ("tomorrow at 8", None, None, "UTC", "at 'tomorrow at 8' is not an ISO 8601 date and time"),
        ("2026-11-27", None, None, "UTC", "has a date but no time of day"),
        ("2026-02-28T08:00", None, None, "UTC", "is in the past"),
        ("2026-03-01T00:00Z", None, None, "UTC", "is in the past"),
        ("2026-03-01T01:00+02:00", None, None, "UTC", "is in the past"),
        ("0001-01-01T00:00+05:00", None, None, "UTC", "out of range"),
        (None, "30", None, "UTC", "every '30' is not an interval like 30m, 2h, 1d"),
        (None, "1.5h", None, "UTC", "is not an interval"),
        (None, "h", None, "UTC", "is not an interval"),
        (None, "30m2h", None, "UTC", "is not an interval"),
        (None, "-5m", None, "UTC", "is not an interval"),
        (None, "59s", None, "UTC", "shorter than the minimum of 1m"),
        (None, "0m", None, "UTC", "shorter than the minimum of 1m"),
        (None, "367d", None, "UTC", "longer than the maximum of 366d"),
        (None, None, "0 8 * * 8", "UTC", "cron day-of-week field '8' is not valid"),
        (None, None, "0 8 * *", "UTC", "has 4 fields; expected 5"),
        (None, "1h", None, "Mars/Olympus", "'Mars/Olympus' is not a known IANA timezone"),
        (None, "1h", None, "", "is not a known IANA timezone"),
        (None, "1h", None, "../etc/passwd", "is not a known IANA timezone"),
        (None, "1h", None, "Europe", "is not a known IANA timezone"),
        (None, "1h", None, "CEST", "is not a known IANA timezone"),
    ],
)
def test_parse_errors_say_what_is_wrong(
    at_text: str | None, every: str | None, cron_text: str | None, timezone: str, message: str
) -> None:
    with pytest.raises(TriggerError) as caught:
        parse_trigger(at_text, every, cron_text, timezone, NOW_AT)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("at_text", "timezone", "value"),
    [
        ("2026-11-27T08:00", "Europe/Berlin", "2026-11-27T08:00:00+01:00"),
        ("2026-11-27 08:00:00", "Europe/Berlin", "2026-11-27T08:00:00+01:00"),
        ("2026-11-27T08:00-05:00", "Europe/Berlin", "2026-11-27T14:00:00+01:00"),
        ("2026-11-27T08:00Z", "America/New_York", "2026-11-27T03:00:00-05:00"),
        ("2026-07-01T08:00", "Europe/Berlin", "2026-07-01T08:00:00+02:00"),
        # A naive time in the spring-forward gap is the first instant after it.
        ("2026-03-29T02:30", "Europe/Berlin", "2026-03-29T03:00:00+02:00"),
        ("2026-03-08T02:15", "America/New_York", "2026-03-08T03:00:00-04:00"),
        # A naive time that occurs twice is its first occurrence.
        ("2026-10-25T02:30", "Europe/Berlin", "2026-10-25T02:30:00+02:00"),
        ("2026-11-01T01:30", "America/New_York", "2026-11-01T01:30:00-04:00"),
        # An explicit offset picks the occurrence.
        ("2026-10-25T02:30+01:00", "Europe/Berlin", "2026-10-25T02:30:00+01:00"),
    ],
)
def test_at_is_stored_as_an_aware_instant_in_the_job_timezone(
    at_text: str, timezone: str, value: str
) -> None:
    spec = parse_trigger(at_text, None, None, timezone, NOW_AT)
    assert spec == TriggerSpec("at", value, timezone, NOW_AT)


@pytest.mark.parametrize(
    ("every", "value"),
    [
        ("30m", "30m"),
        ("2h", "2h"),
        ("1d", "1d"),
        ("90s", "1m30s"),
        ("1w", "1w"),
        ("1h30m", "1h30m"),
        ("90m", "1h30m"),
        (" 1H 30M ", "1h30m"),
        ("1w2d3h4m5s", "1w2d3h4m5s"),
        ("366d", "52w2d"),
    ],
)
def test_every_is_normalised(every: str, value: str) -> None:
    assert parse_trigger(None, every, None, "UTC", NOW_AT).value == value


def test_cron_is_normalised() -> None:
    assert cron("  0  8 * *  MON-FRI ", "Europe/Berlin").value == "0 8 * * mon-fri"


@pytest.mark.parametrize(
    ("expr", "timezone", "after", "expected"),
    [
        # Europe/Berlin springs forward on 2026-03-29: 02:00 CET becomes 03:00 CEST.
        ("0 8 * * *", "Europe/Berlin", "2026-03-28T09:00+01:00", "2026-03-29T08:00+02:00"),
        ("0 8 * * *", "Europe/Berlin", "2026-03-29T08:00+02:00", "2026-03-30T08:00+02:00"),
        ("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00+01:00", "2026-03-29T03:00+02:00"),
        ("30 2 * * *", "Europe/Berlin", "2026-03-29T03:00+02:00", "2026-03-30T02:30+02:00"),
        ("0 2 * * *", "Europe/Berlin", "2026-03-28T12:00+01:00", "2026-03-29T03:00+02:00"),
        ("0 * * * *", "Europe/Berlin", "2026-03-29T00:30+01:00", "2026-03-29T01:00+01:00"),
        ("0 * * * *", "Europe/Berlin", "2026-03-29T01:00+01:00", "2026-03-29T03:00+02:00"),
        ("0 * * * *", "Europe/Berlin", "2026-03-29T03:00+02:00", "2026-03-29T04:00+02:00"),
        ("*/15 * * * *", "Europe/Berlin", "2026-03-29T01:50+01:00", "2026-03-29T03:00+02:00"),
        ("*/15 * * * *", "Europe/Berlin", "2026-03-29T03:00+02:00", "2026-03-29T03:15+02:00"),
        # Europe/Berlin falls back on 2026-10-25: 03:00 CEST becomes 02:00 CET.
        ("0 8 * * *", "Europe/Berlin", "2026-10-24T09:00+02:00", "2026-10-25T08:00+01:00"),
        ("0 8 * * *", "Europe/Berlin", "2026-10-25T08:00+01:00", "2026-10-26T08:00+01:00"),
        ("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00+02:00", "2026-10-25T02:30+02:00"),
        ("30 2 * * *", "Europe/Berlin", "2026-10-25T02:30+02:00", "2026-10-26T02:30+01:00"),
        ("30 2 * * *", "Europe/Berlin", "2026-10-25T02:10+01:00", "2026-10-26T02:30+01:00"),
        ("0 * * * *", "Europe/Berlin", "2026-10-25T01:30+02:00", "2026-10-25T02:00+02:00"),
        ("0 * * * *", "Europe/Berlin", "2026-10-25T02:00+02:00", "2026-10-25T03:00+01:00"),
        ("*/30 * * * *", "Europe/Berlin", "2026-10-25T02:30+02:00", "2026-10-25T03:00+01:00"),
        ("*/30 * * * *", "Europe/Berlin", "2026-10-25T02:10+01:00", "2026-10-25T03:00+01:00"),
        # America/New_York springs forward on 2026-03-08: 02:00 EST becomes 03:00 EDT.
        ("0 8 * * *", "America/New_York", "2026-03-07T09:00-05:00", "2026-03-08T08:00-04:00"),
        ("30 2 * * *", "America/New_York", "2026-03-07T12:00-05:00", "2026-03-08T03:00-04:00"),
        ("30 2 * * *", "America/New_York", "2026-03-08T03:00-04:00", "2026-03-09T02:30-04:00"),
        ("0 * * * *", "America/New_York", "2026-03-08T01:00-05:00", "2026-03-08T03:00-04:00"),
        # America/New_York falls back on 2026-11-01: 02:00 EDT becomes 01:00 EST.
        ("0 8 * * *", "America/New_York", "2026-10-31T09:00-04:00", "2026-11-01T08:00-05:00"),
        ("30 1 * * *", "America/New_York", "2026-10-31T12:00-04:00", "2026-11-01T01:30-04:00"),
        ("30 1 * * *", "America/New_York", "2026-11-01T01:30-04:00", "2026-11-02T01:30-05:00"),
        ("0 * * * *", "America/New_York", "2026-11-01T00:30-04:00", "2026-11-01T01:00-04:00"),
        ("0 * * * *", "America/New_York", "2026-11-01T01:00-04:00", "2026-11-01T02:00-05:00"),
        ("0 * * * *", "America/New_York", "2026-11-01T01:00-05:00", "2026-11-01T02:00-05:00"),
        # Weekdays, names and the day-of-month OR day-of-week rule, in a zone.
        ("0 9 * * 0", "Europe/Berlin", "2026-11-27T12:00+01:00", "2026-11-29T09:00+01:00"),
        ("0 9 * * 7", "America/New_York", "2026-11-27T12:00-05:00", "2026-11-29T09:00-05:00"),
        ("0 7 * * mon-fri", "Europe/Berlin", "2026-11-27T07:00+01:00", "2026-11-30T07:00+01:00"),
        ("0 9 13 * fri", "Europe/Berlin", "2026-11-01T00:00+01:00", "2026-11-06T09:00+01:00"),
        ("0 9 13 * fri", "Europe/Berlin", "2026-11-07T00:00+01:00", "2026-11-13T09:00+01:00"),
    ],
)
def test_cron_due_times(expr: str, timezone: str, after: str, expected: str) -> None:
    due_at = next_run(cron(expr, timezone), at(after))
    assert due_at == at(expected)
    assert due_at is not None
    assert due_at.tzinfo is UTC


def test_a_cron_job_has_no_due_time_before_it_was_created() -> None:
    spec = parse_trigger(None, None, "0 8 * * *", "UTC", at("2026-11-27T09:00Z"))
    assert next_run(spec, at("2026-11-01T00:00Z")) == at("2026-11-28T08:00Z")


@pytest.mark.parametrize(
    ("every", "created", "after", "expected"),
    [
        ("30m", "2026-11-27T08:00Z", "2026-11-27T08:00Z", "2026-11-27T08:30Z"),
        ("30m", "2026-11-27T08:00Z", "2026-11-27T08:29:59Z", "2026-11-27T08:30Z"),
        ("30m", "2026-11-27T08:00Z", "2026-11-27T08:30Z", "2026-11-27T09:00Z"),
        ("30m", "2026-11-27T08:00Z", "2026-11-01T00:00Z", "2026-11-27T08:30Z"),
        ("1h30m", "2026-11-27T08:10Z", "2026-11-28T08:10Z", "2026-11-28T09:40Z"),
        # Anchored to creation: a restart at any moment finds the same grid.
        ("2h", "2026-11-27T08:07:13Z", "2026-11-30T00:00Z", "2026-11-30T00:07:13Z"),
        # `every 1d` is 24 real hours, so across a DST change it moves by an hour locally.
        ("1d", "2026-03-28T08:00+01:00", "2026-03-28T08:00+01:00", "2026-03-29T09:00+02:00"),
        ("1d", "2026-10-24T08:00+02:00", "2026-10-24T08:00+02:00", "2026-10-25T07:00+01:00"),
        ("1h", "2026-11-01T00:30-04:00", "2026-11-01T01:30-04:00", "2026-11-01T01:30-05:00"),
    ],
)
def test_interval_due_times(every: str, created: str, after: str, expected: str) -> None:
    spec = parse_trigger(None, every, None, "Europe/Berlin", at(created))
    assert next_run(spec, at(after)) == at(expected)


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ("2026-11-27T07:00+01:00", "2026-11-27T07:00Z"),
        ("2026-11-27T06:59:59.999999Z", "2026-11-27T07:00Z"),
        ("2026-11-27T08:00+01:00", None),
        ("2026-12-01T00:00Z", None),
    ],
)
def test_at_due_time(after: str, expected: str | None) -> None:
    spec = parse_trigger("2026-11-27T08:00", None, None, "Europe/Berlin", NOW_AT)
    assert next_run(spec, at(after)) == (at(expected) if expected else None)


def hourly(created: str = "2026-11-27T00:00Z") -> TriggerSpec:
    return parse_trigger(None, "1h", None, "UTC", at(created))


@pytest.mark.parametrize(
    ("spec", "last_due", "now", "grace_s", "expected"),
    [
        # Up to date: nothing passed.
        (hourly(), "2026-11-27T05:00Z", "2026-11-27T05:30Z", 3600, (None, 0, 0, None, "06:00")),
        # Down over one due time, back within the grace: it fires late.
        (hourly(), "2026-11-27T05:00Z", "2026-11-27T06:20Z", 3600, ("06:00", 0, 0, None, "07:00")),
        # A due time exactly now is fired now.
        (hourly(), "2026-11-27T05:00Z", "2026-11-27T06:00Z", 3600, ("06:00", 0, 0, None, "07:00")),
        # Beyond the grace: recorded as missed, nothing fires.
        (hourly(), "2026-11-27T05:00Z", "2026-11-27T07:30Z", 1200, (None, 0, 2, "07:00", "08:00")),
        # Older ones missed, the latest within the grace fires.
        (
            hourly(),
            "2026-11-27T05:00Z",
            "2026-11-27T09:10Z",
            1200,
            ("09:00", 0, 3, "08:00", "10:00"),
        ),
        # Several within a long grace fire once, as the latest.
        (hourly(), "2026-11-27T05:00Z", "2026-11-27T09:10Z", 86400, ("09:00", 3, 0, None, "10:00")),
        # Never handled: counted from creation.
        (
            hourly("2026-11-27T04:30Z"),
            None,
            "2026-11-27T06:40Z",
            3600,
            ("06:30", 0, 1, "05:30", "07:30"),
        ),
        (
            hourly("2026-11-27T04:30Z"),
            None,
            "2026-11-27T06:40Z",
            7200,
            ("06:30", 1, 0, None, "07:30"),
        ),
        # Grace exactly reached still fires.
        (hourly(), "2026-11-27T05:00Z", "2026-11-27T07:00Z", 3600, ("07:00", 1, 0, None, "08:00")),
    ],
)
def test_catch_up_table(
    spec: TriggerSpec,
    last_due: str | None,
    now: str,
    grace_s: float,
    expected: tuple[str | None, int, int, str | None, str | None],
) -> None:
    def clock(hhmm: str | None) -> datetime | None:
        return at(f"2026-11-27T{hhmm}Z") if hhmm else None

    late, coalesced, missed, last_missed, next_due = expected
    result = catch_up(spec, at(last_due) if last_due else None, at(now), grace_s)
    assert result == CatchUp(clock(late), coalesced, missed, clock(last_missed), clock(next_due))


def test_catch_up_for_a_passed_at() -> None:
    spec = parse_trigger("2026-11-27T08:00Z", None, None, "UTC", NOW_AT)
    within = catch_up(spec, None, at("2026-11-27T08:30Z"), 3600)
    beyond = catch_up(spec, None, at("2026-11-27T10:00Z"), 3600)
    fired = catch_up(spec, at("2026-11-27T08:00Z"), at("2026-11-27T10:00Z"), 3600)
    assert within == CatchUp(at("2026-11-27T08:00Z"), 0, 0, None, None)
    assert beyond == CatchUp(None, 0, 1, at("2026-11-27T08:00Z"), None)
    assert fired == CatchUp(None, 0, 0, None, None)


def test_catch_up_never_fires_a_due_time_twice() -> None:
    spec = cron("*/10 * * * *", "Europe/Berlin")
    first = catch_up(spec, at("2026-11-27T05:00Z"), at("2026-11-27T05:25Z"), 3600)
    again = catch_up(spec, first.handled_through, at("2026-11-27T05:26Z"), 3600)
    assert first.late_due_at == at("2026-11-27T05:20Z")
    assert first.handled_through == first.late_due_at
    assert again == CatchUp(None, 0, 0, None, at("2026-11-27T05:30Z"))


def test_catch_up_looks_back_a_bounded_time() -> None:
    spec = parse_trigger(None, "1m", None, "UTC", at("2025-01-01T00:00Z"))
    result = catch_up(spec, None, at("2026-11-27T00:00Z"), 0)
    assert result.late_due_at == at("2026-11-27T00:00Z")
    assert result.missed_count == 7 * 24 * 60 - 1


def test_spec_trigger_follows_next_run() -> None:
    trigger = SpecTrigger(cron("30 2 * * *", "Europe/Berlin"))
    now = at("2026-03-29T03:00+02:00")
    assert trigger.get_next_fire_time(None, now) == now
    assert trigger.get_next_fire_time(now, now) == at("2026-03-30T02:30+02:00")
    assert str(trigger) == "cron[30 2 * * * Europe/Berlin]"


async def test_spec_trigger_drives_an_apscheduler_job() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        spec = parse_trigger(None, "1h", None, "UTC", datetime.now(UTC) - timedelta(minutes=30))
        job = scheduler.add_job(print, SpecTrigger(spec), id="job-1")
        assert job.next_run_time == next_run(spec, datetime.now(UTC))
    finally:
        scheduler.shutdown(wait=False)
