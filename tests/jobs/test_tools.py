"""The job tools answer from the stored row, say precisely what is wrong, and keep chats apart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assistant.agent.tools import ToolContext, ToolRegistry
from assistant.jobs.tools import tools
from assistant.store.inbox import get_chat
from tests.jobs.scheduling import FakeClock, Harness, open_store

NOW_AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    store = await open_store(tmp_path / "h.db")
    yield Harness(store, FakeClock(NOW_AT))
    await store.close()


async def call(h: Harness, name: str, args: dict[str, Any], chat_id: int, tz: str = "Europe/Berlin") -> Any:
    registry = ToolRegistry(tools(h.service, 3600))
    ctx = ToolContext(chat_id, "api:ann", ZoneInfo(tz), NOW_AT)
    return json.loads((await registry.run(name, args, ctx)).text)


async def test_schedule_reminder_answers_with_the_stored_job(h: Harness) -> None:
    chat_id = await h.chat()
    answer = await call(h, "schedule_reminder", {"text": "stand up", "cron": "0 9 * * MON-FRI"}, chat_id)
    assert answer == {
        "scheduled": {
            "id": 1,
            "kind": "reminder",
            "text": "stand up",
            "when": "every weekday at 09:00 (Europe/Berlin)",
            "next_run": "Fri 27 Nov 2026, 09:00 CET",
            "status": "scheduled",
            "last_outcome": None,
        }
    }
    assert h.timer.armed == {1: datetime(2026, 11, 27, 8, tzinfo=UTC)}


async def test_a_naive_at_is_in_the_person_s_timezone(h: Harness) -> None:
    chat_id = await h.chat()
    answer = await call(h, "schedule_task", {"prompt": "weather?", "at": "2026-11-27T20:00"}, chat_id)
    assert answer["scheduled"]["next_run"] == "Fri 27 Nov 2026, 20:00 CET"
    assert h.timer.armed == {1: datetime(2026, 11, 27, 19, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"text": "x", "cron": "0 8 * * 9"}, "cron day-of-week field '9' is not valid"),
        ({"text": "x", "at": "2026-11-26T08:00"}, "at '2026-11-26T08:00' is in the past"),
        ({"text": "x", "every": "1h", "timezone": "Mars/Base"}, "'Mars/Base' is not a known IANA timezone"),
        ({"text": "x"}, "give exactly one of at, every or cron (got none)"),
        ({"text": " ", "every": "1h"}, "the text is empty"),
        ({"text": "x", "cron": "0 8 30 2 *"}, "never matches: no such day in those months"),
        ({"text": 5, "every": "1h"}, "text must be a string"),
    ],
)
async def test_a_bad_request_is_a_precise_error(h: Harness, args: dict[str, Any], error: str) -> None:
    answer = await call(h, "schedule_reminder", args, await h.chat())
    assert error in answer["error"]
    assert h.timer.armed == {}


async def test_list_cancel_pause_resume(h: Harness) -> None:
    chat_id = await h.chat()
    await call(h, "schedule_reminder", {"text": "a", "every": "1h"}, chat_id)
    paused = await call(h, "pause_job", {"id": 1}, chat_id)
    assert paused["paused"]["status"] == "paused"
    assert h.timer.armed == {}
    resumed = await call(h, "resume_job", {"id": "#1"}, chat_id)
    assert resumed["resumed"]["next_run"] == "Fri 27 Nov 2026, 09:00 CET"
    listed = await call(h, "list_jobs", {}, chat_id)
    assert [job["id"] for job in listed["jobs"]] == [1]
    assert (await call(h, "cancel_job", {"id": 1}, chat_id))["cancelled"]["status"] == "cancelled"
    assert (await call(h, "list_jobs", {}, chat_id))["jobs"] == []


@pytest.mark.parametrize("name", ["cancel_job", "pause_job", "resume_job"])
async def test_another_chat_s_job_is_unknown(h: Harness, name: str) -> None:
    mine, theirs = await h.chat("api:ann"), await h.chat("api:bob")
    await call(h, "schedule_reminder", {"text": "a", "every": "1h"}, mine)
    answer = await call(h, name, {"id": 1}, theirs)
    assert answer == {"error": "there is no job 1 in this chat; list_jobs shows the ids"}
    assert (await call(h, "list_jobs", {}, theirs))["jobs"] == []


async def test_an_id_that_is_not_a_number(h: Harness) -> None:
    answer = await call(h, "cancel_job", {"id": "soon"}, await h.chat())
    assert answer == {"error": "id must be the number of a job, as list_jobs shows it"}


async def test_set_timezone(h: Harness) -> None:
    chat_id = await h.chat()
    answer = await call(h, "set_timezone", {"timezone": "America/New_York"}, chat_id)
    assert answer["timezone"] == "America/New_York"
    assert (await get_chat(h.store, chat_id)).timezone == "America/New_York"
    bad = await call(h, "set_timezone", {"timezone": "Atlantis"}, chat_id)
    assert "'Atlantis' is not an IANA time zone name" in bad["error"]
