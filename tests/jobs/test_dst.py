"""Cron jobs through the service across DST changes in Europe/Berlin and America/New_York."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from assistant.store import Store
from tests.jobs.scheduling import FakeClock, Harness, due_times, open_store, replies


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_store(tmp_path / "h.db")
    yield store
    await store.close()


def local(text: str, zone: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone", "start", "cron", "expected_utc"),
    [
        # 08:00 local stays 08:00 local: 07:00Z in CET, 06:00Z in CEST (spring forward 29 Mar).
        ("Europe/Berlin", "2026-03-27T12:00", "0 8 * * *", ["03-28 07:00", "03-29 06:00", "03-30 06:00"]),
        # ... and back again on 25 Oct.
        ("Europe/Berlin", "2026-10-23T12:00", "0 8 * * *", ["10-24 06:00", "10-25 07:00", "10-26 07:00"]),
        # 02:30 does not exist on 29 Mar: due at the first instant after the gap, 03:00 CEST.
        ("Europe/Berlin", "2026-03-28T12:00", "30 2 * * *", ["03-29 01:00", "03-30 00:30"]),
        # 02:30 occurs twice on 25 Oct: once, at the first (CEST) occurrence.
        ("Europe/Berlin", "2026-10-24T12:00", "30 2 * * *", ["10-25 00:30", "10-26 01:30"]),
        # New York springs forward on 8 Mar and falls back on 1 Nov.
        ("America/New_York", "2026-03-06T12:00", "0 8 * * *", ["03-07 13:00", "03-08 12:00", "03-09 12:00"]),
        ("America/New_York", "2026-03-07T12:00", "30 2 * * *", ["03-08 07:00", "03-09 06:30"]),
        ("America/New_York", "2026-10-31T12:00", "30 1 * * *", ["11-01 05:30", "11-02 06:30"]),
    ],
)
async def test_daily_cron_across_a_change(
    store: Store, zone: str, start: str, cron: str, expected_utc: list[str]
) -> None:
    h = Harness(store, FakeClock(local(start, zone)))
    chat_id = await h.chat(timezone=zone)
    await h.add(chat_id, cron=cron, timezone=zone)
    await h.run_until(h.clock.now + timedelta(days=len(expected_utc), hours=-1))
    assert due_times(await replies(store, chat_id)) == expected_utc


async def test_hourly_cron_does_not_fire_twice_in_the_repeated_hour(store: Store) -> None:
    h = Harness(store, FakeClock(local("2026-10-25T00:10", "Europe/Berlin")))
    chat_id = await h.chat()
    await h.add(chat_id, cron="0 * * * *", timezone="Europe/Berlin")
    await h.run_until(h.clock.now + timedelta(hours=4))
    # 01:00 CEST, 02:00 CEST, (02:00 CET, 01:00Z, skipped), 03:00 CET
    assert due_times(await replies(store, chat_id)) == ["10-24 23:00", "10-25 00:00", "10-25 02:00"]


async def test_every_is_elapsed_time_across_a_change(store: Store) -> None:
    h = Harness(store, FakeClock(local("2026-03-28T08:00", "Europe/Berlin")))
    chat_id = await h.chat()
    await h.add(chat_id, every="1d", timezone="Europe/Berlin")
    await h.run_until(h.clock.now + timedelta(days=2))
    assert due_times(await replies(store, chat_id)) == ["03-29 07:00", "03-30 07:00"]
