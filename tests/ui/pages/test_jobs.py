"""The jobs page: every job with its next run and last outcome; pause, resume, cancel, run now."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from assistant.jobs.rules import new_job
from assistant.jobs.triggers import parse_trigger
from assistant.keys import JOBS, STORE
from assistant.store import jobs
from assistant.store.tables import Reply
from tests.api import transcript
from tests.conftest import AppClient
from tests.ui.dashboard import HasApp, add_chat, post


async def add_job(client: HasApp, text: str = "water the plants", every: str = "1d") -> int:
    """A reminder in the API chat `anna`, added through the running job service (so it is armed)."""
    chat = await add_chat(client.app[STORE], "api", "api:anna")
    spec = parse_trigger(None, every, None, "UTC", datetime.now(UTC))
    job = await client.app[JOBS].add(new_job(chat.id or 0, "reminder", text, spec, 3600.0, "test"))
    assert job.id is not None
    return job.id


async def test_the_page_lists_jobs_with_their_next_run(client: AppClient) -> None:
    job = await add_job(client, "<b>water</b> the plants")
    page = await (await client.get("/ui/jobs")).text()
    assert f'id="job-{job}"' in page
    assert "&lt;b&gt;water&lt;/b&gt; the plants" in page
    assert "every day" in page or "every 1 day" in page or "1d" in page
    assert f'action="/ui/jobs/{job}/pause"' in page


async def test_pause_and_resume_reach_the_scheduler(client: AppClient) -> None:
    job = await add_job(client)
    timer = client.app[JOBS].timer
    status, location, _ = await post(client, f"/ui/jobs/{job}/pause")
    assert (status, location) == (303, "/ui/jobs")
    stored = await jobs.get(client.app[STORE], job)
    assert stored is not None
    assert stored.paused
    assert not timer.scheduler.get_job(str(job))  # type: ignore[attr-defined]
    page = await (await client.get("/ui/jobs")).text()
    assert "Paused: #" in page
    assert f'action="/ui/jobs/{job}/resume"' in page
    await post(client, f"/ui/jobs/{job}/resume")
    stored = await jobs.get(client.app[STORE], job)
    assert stored is not None
    assert not stored.paused
    assert timer.scheduler.get_job(str(job))  # type: ignore[attr-defined]


async def test_cancel_hides_the_job_unless_asked(client: AppClient) -> None:
    job = await add_job(client)
    await post(client, f"/ui/jobs/{job}/cancel")
    assert f'id="job-{job}"' not in await (await client.get("/ui/jobs")).text()
    assert f'id="job-{job}"' in await (await client.get("/ui/jobs?cancelled=1")).text()
    status, _, _ = await post(client, f"/ui/jobs/{job}/pause")
    assert status == 303
    assert "There is no job" in await (await client.get("/ui/jobs")).text()


async def test_run_now_sends_the_reminder_and_keeps_the_schedule(client: AppClient) -> None:
    job = await add_job(client, "stretch")
    before = await jobs.get(client.app[STORE], job)
    assert before is not None
    await post(client, f"/ui/jobs/{job}/run")
    after = await jobs.get(client.app[STORE], job)
    assert after is not None
    assert after.next_run_at == before.next_run_at
    assert after.last_due_at == before.last_due_at
    assert after.last_run_at is not None
    replies = await client.app[STORE].read(lambda s: list(s.exec(select(Reply))))
    assert [r.text for r in replies] == ["Reminder: stretch"]
    texts = [m["text"] for m in await transcript(client, "anna")]
    assert texts == ["Reminder: stretch"]


async def test_an_unknown_action_or_id_is_not_found(client: AppClient) -> None:
    job = await add_job(client)
    status, _, _ = await post(client, f"/ui/jobs/{job}/explode")
    assert status == 404
    status, _, _ = await post(client, "/ui/jobs/abc/pause")
    assert status == 404
    status, _, _ = await post(client, "/ui/jobs/999/pause")
    assert status == 303
