"""Tests for standard cron parsing, wall-clock matching and plain-words rendering."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.jobs.cron import describe_cron, next_wall_match, parse_cron


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("0 9 * * 0", "weekdays", {0}),
        ("0 9 * * 7", "weekdays", {0}),
        ("0 9 * * sun", "weekdays", {0}),
        ("0 9 * * SUN", "weekdays", {0}),
        ("0 9 * * mon-fri", "weekdays", {1, 2, 3, 4, 5}),
        ("0 9 * * 5-7", "weekdays", {5, 6, 0}),
        ("0 9 * * sat-sun", "weekdays", {6, 0}),
        ("0 9 * * */2", "weekdays", {0, 2, 4, 6}),
        ("0 9 * * 1,3,fri", "weekdays", {1, 3, 5}),
        ("0 9 * jan,jul *", "months", {1, 7}),
        ("0 9 * jan-mar *", "months", {1, 2, 3}),
        ("*/15 9 * * *", "minutes", {0, 15, 30, 45}),
        ("5/20 9 * * *", "minutes", {5, 25, 45}),
        ("0 8-18/5 * * *", "hours", {8, 13, 18}),
        ("0 9 1,15,31 * *", "days", {1, 15, 31}),
        ("  0   9 * *  * ", "hours", {9}),
    ],
)
def test_fields_read_as_standard_cron(text: str, field: str, expected: set[int]) -> None:
    assert getattr(parse_cron(text), field) == expected


@pytest.mark.parametrize(
    ("text", "days_restricted", "weekdays_restricted"),
    [
        ("0 9 * * *", False, False),
        ("0 9 13 * *", True, False),
        ("0 9 * * fri", False, True),
        ("0 9 13 * fri", True, True),
        ("0 9 */2 * mon", False, True),  # Vixie cron: a field starting with * is unrestricted
    ],
)
def test_restriction_follows_the_leading_star(
    text: str, days_restricted: bool, weekdays_restricted: bool
) -> None:
    expr = parse_cron(text)
    assert (expr.days_restricted, expr.weekdays_restricted) == (
        days_restricted,
        weekdays_restricted,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 8 * *", "has 4 fields; expected 5"),
        ("0 8 * * * *", "has 6 fields; expected 5"),
        ("", "has 0 fields"),
        ("60 * * * *", "minute field '60' is not valid: 60 is outside 0-59"),
        ("0 24 * * *", "hour field '24' is not valid: 24 is outside 0-23"),
        ("0 0 0 * *", "day-of-month field '0' is not valid: 0 is outside 1-31"),
        ("0 0 32 * *", "day-of-month field '32'"),
        ("0 0 * 13 *", "month field '13' is not valid: 13 is outside 1-12"),
        ("0 0 * foo *", "'foo' is not a month value; names jan..dec"),
        ("0 0 * * 8", "day-of-week field '8' is not valid: 8 is outside 0-7"),
        ("0 0 * * funday", "'funday' is not a day-of-week value; names sun..sat"),
        ("0 0 * * fri-mon", "the range 'fri-mon' runs backwards"),
        ("*/0 * * * *", "a step must be at least 1"),
        ("1-2-3 * * * *", "'1-2-3' is not a number, name, range or step"),
        ("*-5 * * * *", "'*' cannot start a range"),
        ("0 0 ? * *", "day-of-month field '?'"),
        ("0 0 L * *", "'l' is not a day-of-month value"),
        ("jan * * * *", "'jan' is not a minute value"),
        ("0 0 31 2 *", "never matches"),
        ("0 0 30,31 2 *", "never matches"),
        ("0 0 1,,2 * *", "'' is not a number"),
    ],
)
def test_invalid_expressions_say_which_field(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^cron ") as caught:
        parse_cron(text)
    assert message in str(caught.value)


def test_an_impossible_day_is_fine_when_the_weekday_can_match() -> None:
    # With both fields restricted either may match, so "Feb 31st or any Monday" is Mondays.
    expr = parse_cron("0 0 31 2 mon")
    assert next_wall_match(expr, datetime(2026, 2, 1)) == datetime(2026, 2, 2)


@pytest.mark.parametrize(
    ("text", "after", "expected"),
    [
        # 2026-11-27 is a Friday.
        ("0 9 * * 0", "2026-11-27 12:00", "2026-11-29 09:00"),
        ("0 9 * * 7", "2026-11-27 12:00", "2026-11-29 09:00"),
        ("0 9 * * sun", "2026-11-27 12:00", "2026-11-29 09:00"),
        ("0 9 * * 1", "2026-11-27 12:00", "2026-11-30 09:00"),
        ("0 7 * * mon-fri", "2026-11-27 08:00", "2026-11-30 07:00"),
        ("0 7 * * mon-fri", "2026-11-27 06:59", "2026-11-27 07:00"),
        ("0 7 * * mon-fri", "2026-11-27 07:00", "2026-11-30 07:00"),
        ("0 0 1 jan *", "2026-11-27 12:00", "2027-01-01 00:00"),
        ("0 0 29 2 *", "2026-11-27 12:00", "2028-02-29 00:00"),
        ("0 0 31 * *", "2026-11-27 12:00", "2026-12-31 00:00"),
        # Day of month OR day of week: the 13th or any Friday.
        ("0 9 13 * fri", "2026-11-01 00:00", "2026-11-06 09:00"),
        ("0 9 13 * fri", "2026-11-07 00:00", "2026-11-13 09:00"),
        ("0 9 13 * fri", "2026-11-13 09:00", "2026-11-20 09:00"),
        ("0 9 1 * mon", "2026-11-24 00:00", "2026-11-30 09:00"),
        ("0 9 1 * mon", "2026-11-30 09:00", "2026-12-01 09:00"),
        ("0 9 13 * *", "2026-11-01 00:00", "2026-11-13 09:00"),
        # `*/2` starts with a star, so it and Monday must both hold: odd-numbered Mondays.
        ("0 9 */2 * mon", "2026-11-01 00:00", "2026-11-09 09:00"),
        ("0 9 */2 * mon", "2026-11-09 09:00", "2026-11-23 09:00"),
        ("*/15 * * * *", "2026-11-27 12:07:30.5", "2026-11-27 12:15"),
        ("* * * * *", "2026-11-27 12:07:00", "2026-11-27 12:08"),
    ],
)
def test_next_wall_match_is_strictly_after(text: str, after: str, expected: str) -> None:
    found = next_wall_match(parse_cron(text), datetime.fromisoformat(after))
    assert found == datetime.fromisoformat(expected)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("0 8 * * *", "every day at 08:00"),
        ("0 7 * * 1-5", "every weekday at 07:00"),
        ("0 7 * * mon-fri", "every weekday at 07:00"),
        ("30 9 * * 0", "every Sunday at 09:30"),
        ("0 18 * * sun,sat,wed", "every Wednesday, Saturday and Sunday at 18:00"),
        ("0 8,20 * * *", "every day at 08:00 and 20:00"),
        ("15 * * * *", "every hour at :15"),
        ("0 9 1,15 * *", "on day 1 and 15 of every month at 09:00"),
        ("*/10 * * * *", "on the cron schedule '*/10 * * * *'"),
        ("0 9 * jan *", "on the cron schedule '0 9 * jan *'"),
        ("0 9 13 * fri", "on the cron schedule '0 9 13 * fri'"),
    ],
)
def test_describe_cron(text: str, words: str) -> None:
    assert describe_cron(parse_cron(text)) == words
