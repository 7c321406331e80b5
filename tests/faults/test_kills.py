"""SIGKILL at each step of a turn and at random moments: nothing lost, nothing answered or sent
twice, but for a send the provider took in the instant of the kill."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.kills import kill_points, storm
from tests.faults.tally import Tally


def assert_kept(tally: Tally) -> None:
    assert tally.messages > 0, tally
    assert tally.broken == 0, str(tally)
    assert not tally.notes or "not handled" not in " ".join(tally.notes), str(tally)


@pytest.mark.timeout(400)
async def test_a_kill_at_each_step_of_a_turn_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    tallies = await kill_points(tmp_path)
    for tally in tallies:
        assert_kept(tally)
    by_fault = {t.fault: t for t in tallies}
    assert by_fault["SIGKILL: message accepted"].messages == 2
    # The provider accepted the send Hearth was killed in: that one copy, and no other, may repeat.
    assert by_fault["SIGKILL: during a send"].sent_twice <= 1
    assert by_fault["SIGKILL: during a tool"].notes == []
    assert sum(t.sent_twice for t in tallies) == by_fault["SIGKILL: during a send"].sent_twice


@pytest.mark.timeout(400)
async def test_random_kills_across_chats_lose_nothing(tmp_path: Path) -> None:
    tally = await storm(tmp_path, kills=3, chats=4, seed=1)
    assert_kept(tally)
    # The sender serves chats side by side, so a kill can catch one accepted send in each chat.
    assert tally.sent_twice <= tally.kills * 4


@pytest.mark.long
@pytest.mark.timeout(1800)
async def test_random_kills_over_a_long_run_lose_nothing(tmp_path: Path) -> None:
    tally = await storm(tmp_path, kills=30, chats=6)
    assert_kept(tally)
    assert tally.sent_twice <= tally.kills * 6
