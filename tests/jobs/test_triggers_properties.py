"""Property tests: due times move strictly forward and parsing fails only with TriggerError."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.jobs.triggers import TriggerError, next_run, parse_trigger

# Zones with a variety of transitions: 1 h, 30 min (Lord Howe), at midnight (Santiago, Havana),
# southern-hemisphere summers, none at all, and a 24-hour jump (Apia skipped 2011-12-30).
ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Asia/Kolkata",
    "Pacific/Apia",
    "Africa/Casablanca",
    "Europe/London",
)
CREATED_AT = datetime(2000, 1, 1, tzinfo=UTC)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def field(low: int, high: int, names: tuple[str, ...] = ()) -> st.SearchStrategy[str]:
    number = st.integers(low, high)
    name = st.sampled_from(names) if names else number.map(str)
    single = st.one_of(number.map(str), name)
    ranges = st.tuples(number, number).map(lambda pair: f"{min(pair)}-{max(pair)}")
    step = st.integers(1, high - low + 1)
    items = st.one_of(
        st.just("*"),
        step.map(lambda s: f"*/{s}"),
        single,
        ranges,
        st.tuples(ranges, step).map(lambda pair: f"{pair[0]}/{pair[1]}"),
    )
    return st.lists(items, min_size=1, max_size=3).map(",".join)


CRONS = st.tuples(
    field(0, 59),
    field(0, 23),
    field(1, 28),  # days every month has, so the expression always matches somewhere
    field(1, 12, MONTHS),
    field(0, 7, DAYS),
).map(" ".join)
ANY_AFTER = st.datetimes(datetime(2000, 1, 2), datetime(2037, 12, 31), timezones=st.just(UTC))


@lru_cache
def transitions(timezone: str) -> tuple[datetime, ...]:
    """The instants in 2026 where the zone's offset changes (found to the hour)."""
    zone, start = ZoneInfo(timezone), datetime(2026, 1, 1, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(366 * 24)]
    return tuple(
        b for a, b in pairwise(hours) if a.astimezone(zone).utcoffset() != b.astimezone(zone).utcoffset()
    )


@st.composite
def zone_and_after(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone, and an instant that is often within a few hours of one of its DST changes."""
    timezone = draw(st.sampled_from(ZONES))
    changes = transitions(timezone)
    if not changes or draw(st.booleans()):
        return timezone, draw(ANY_AFTER)
    offset = timedelta(seconds=draw(st.integers(-4 * 3600, 4 * 3600)))
    return timezone, draw(st.sampled_from(changes)) + offset


@settings(deadline=None, max_examples=300)
@given(expr=CRONS, zone_after=zone_and_after())
def test_next_run_is_strictly_after_and_stable(expr: str, zone_after: tuple[str, datetime]) -> None:
    timezone, after = zone_after
    spec = parse_trigger(None, None, expr, timezone, CREATED_AT)
    due_at = next_run(spec, after)
    assert due_at is not None
    assert due_at > after
    assert next_run(spec, due_at - timedelta(microseconds=1)) == due_at


@settings(deadline=None, max_examples=300)
@given(expr=CRONS, zone_after=zone_and_after())
def test_consecutive_due_times_are_distinct_and_ordered(expr: str, zone_after: tuple[str, datetime]) -> None:
    timezone, after = zone_after
    spec = parse_trigger(None, None, expr, timezone, CREATED_AT)
    first = next_run(spec, after)
    assert first is not None
    second = next_run(spec, first)
    assert second is not None
    assert second > first


MAYBE_TEXT = st.one_of(st.none(), st.text(max_size=40))


@settings(max_examples=500)
@given(
    at=MAYBE_TEXT,
    every=MAYBE_TEXT,
    cron=MAYBE_TEXT,
    timezone=st.one_of(st.sampled_from(ZONES), st.text(max_size=40)),
)
def test_parse_trigger_returns_or_raises_trigger_error(
    at: str | None, every: str | None, cron: str | None, timezone: str
) -> None:
    with contextlib.suppress(TriggerError):
        parse_trigger(at, every, cron, timezone, CREATED_AT)


@settings(max_examples=300)
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.text(alphabet="0123456789-:T+Z. W", max_size=30),
        st.datetimes().map(datetime.isoformat),
        st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    )
)
def test_any_at_text_parses_or_raises_trigger_error(text: str) -> None:
    try:
        spec = parse_trigger(text, None, None, "Europe/Berlin", CREATED_AT)
    except TriggerError:
        return
    assert next_run(spec, CREATED_AT) == datetime.fromisoformat(spec.value)


@settings(max_examples=300)
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.text(alphabet="0123456789wdhms ", max_size=12),
        st.text(alphabet="0123456789*/-, abcdefghijklmnopqrstuvwxyz", max_size=30),
    )
)
def test_any_every_or_cron_text_parses_or_raises_trigger_error(text: str) -> None:
    for every, cron in ((text, None), (None, text)):
        with contextlib.suppress(TriggerError):
            parse_trigger(None, every, cron, "UTC", CREATED_AT)
