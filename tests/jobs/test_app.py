"""The scheduler inside the real app: the agent sets a reminder that later arrives; commands; failures."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from assistant.jobs.rules import new_job
from assistant.jobs.triggers import parse_trigger
from assistant.keys import CLOCK, JOBS, STORE
from assistant.store import jobs
from assistant.store.tables import Job
from assistant.store.views import find_chat
from tests.api import send, transcript, wait_handled
from tests.conftest import AppClient
from tests.fakes.ollama import FakeOllama


async def said(client: AppClient, chat: str, wanted: str, wait_s: float = 5.0) -> list[str]:
    """The assistant's lines in the chat, once one of them contains `wanted` (or the wait runs out)."""
    texts: list[str] = []
    for _ in range(int(wait_s / 0.05)):
        texts = [e["text"] for e in await transcript(client, chat) if e["role"] == "assistant"]
        if any(wanted in text for text in texts):
            break
        await asyncio.sleep(0.05)
    return texts


async def job_when(client: AppClient, job_id: int, done: str, wait_s: float = 5.0) -> Job:
    for _ in range(int(wait_s / 0.05)):
        job = await jobs.get(client.app[STORE], job_id)
        assert job is not None
        if job.last_outcome == done:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {done}")


async def test_the_agent_sets_a_reminder_that_later_reaches_the_chat(client: AppClient) -> None:
    due_at = client.app[CLOCK]() + timedelta(seconds=1.5)
    args = {"text": "stretch your legs", "at": due_at.isoformat()}
    view = await wait_handled(client, await send(client, "ann", "call:schedule_reminder " + json.dumps(args)))
    answer = view["replies"][0]["text"]
    assert answer.startswith("tool said: ")
    scheduled = json.loads(answer.removeprefix("tool said: "))["scheduled"]
    assert scheduled["id"] == 1
    assert scheduled["status"] == "scheduled"
    texts = await said(client, "ann", "Reminder: stretch your legs")
    assert texts[-1] == "Reminder: stretch your legs"
    job = await jobs.get(client.app[STORE], 1)
    assert job is not None
    assert job.last_due_at == due_at
    assert job.last_outcome == "ok"


async def test_jobs_and_cancel_commands(client: AppClient) -> None:
    await wait_handled(
        client, await send(client, "bo", 'call:schedule_reminder {"text": "tea", "every": "2h"}')
    )
    view = await wait_handled(client, await send(client, "bo", "/jobs"))
    assert view["replies"][0]["text"].startswith('#1 reminder "tea" every 2 hours (UTC); next ')
    view = await wait_handled(client, await send(client, "other", "/cancel 1"))
    assert view["replies"][0]["text"] == "There is no job 1 in this chat; /jobs lists them."
    view = await wait_handled(client, await send(client, "bo", "/cancel 1"))
    assert view["replies"][0]["text"].startswith('Cancelled: #1 reminder "tea"')
    view = await wait_handled(client, await send(client, "bo", "/jobs"))
    assert view["replies"][0]["text"].startswith("No reminders or tasks here.")


async def test_a_task_runs_through_the_agent(client: AppClient, fake: FakeOllama) -> None:
    job = await add_task(client, "ci", "is the build green?")
    await job_when(client, job, "ok")
    texts = await said(client, "ci", "is the build green?")
    assert texts[-1].startswith("echo: [Scheduled task 1, due ")
    assert texts[-1].endswith("] is the build green?")


async def test_a_task_while_the_model_is_down_is_retried_in_a_minute(
    client: AppClient, fake: FakeOllama
) -> None:
    job_id = await add_task(client, "dn", "summarise my mail")
    fake.down = True
    job = await job_when(client, job_id, "retrying")
    assert job.consecutive_failures == 1
    assert job.retry_at is not None
    assert job.last_run_at is not None
    assert timedelta(seconds=59) < job.retry_at - job.last_run_at < timedelta(seconds=61)


async def add_task(client: AppClient, chat: str, prompt: str) -> int:
    """A task due half a second from now, added as the agent's tool would add it."""
    await wait_handled(client, await send(client, chat, "hello"))
    found = await find_chat(client.app[STORE], "api", f"api:{chat}")
    assert found is not None
    assert found.id is not None
    now = client.app[CLOCK]()
    spec = parse_trigger((now + timedelta(seconds=0.5)).isoformat(), None, None, "UTC", now)
    job = await client.app[JOBS].add(new_job(found.id, "task", prompt, spec, 3600, "test"))
    assert job.id is not None
    return job.id
