"""The database locked, the provider failing, the model stalling or down: every message answered
once and every reply delivered once when the fault is over."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.outages import database_locked, model_down, model_stalls, provider_down
from tests.faults.test_kills import assert_kept


@pytest.mark.timeout(300)
async def test_a_database_locked_for_10_s_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    tally = await database_locked(tmp_path, lock_s=10)
    assert_kept(tally)
    assert tally.sent_twice == 0


@pytest.mark.timeout(300)
async def test_a_provider_failing_for_a_while_gets_every_reply_once(tmp_path: Path) -> None:
    assert_kept(await provider_down(tmp_path, down_s=5))


@pytest.mark.long
@pytest.mark.timeout(900)
async def test_a_provider_failing_for_two_minutes_gets_every_reply_once(tmp_path: Path) -> None:
    assert_kept(await provider_down(tmp_path, down_s=120))


@pytest.mark.timeout(300)
async def test_a_model_stalling_mid_stream_never_leaks_a_partial_answer(tmp_path: Path) -> None:
    tally = await model_stalls(tmp_path)
    assert_kept(tally)
    # A partial answer the person saw would be a send the store has no reply for.
    assert tally.sent_twice == 0


@pytest.mark.timeout(300)
async def test_the_model_down_across_a_restart_answers_everything_once(tmp_path: Path) -> None:
    assert_kept(await model_down(tmp_path, down_s=8, retry_s=0.001))


@pytest.mark.long
@pytest.mark.timeout(900)
async def test_the_model_down_for_an_hour_of_retries_answers_everything_once(tmp_path: Path) -> None:
    assert_kept(await model_down(tmp_path, down_s=60, retry_s=0.00002))
