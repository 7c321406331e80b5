"""Teams inside the running app: the lead delegates, the turn records its runs, /status and `hearth runs`."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from sqlmodel import select

from assistant.keys import STORE
from assistant.store import runs
from assistant.store.tables import Reply
from assistant.team.cli import render_list, render_tree
from tests.api import send, wait_handled
from tests.conftest import AppClient, MakeClient
from tests.fakes.ollama import FakeOllama, Step
from tests.process import hearth_env, run_hearth
from tests.team.responder import TeamResponder

TASKS = [{"role": "writer", "task": "draft a note to Anna"}, {"role": "critic", "task": "check the note"}]


async def test_the_lead_answers_with_its_team_and_the_turn_records_the_tree(
    client: AppClient, fake: FakeOllama
) -> None:
    fake.responder = TeamResponder(tasks=TASKS)
    view = await wait_handled(client, await send(client, "anna", "write to Anna and check it"))
    reply = view["replies"][0]["text"]
    assert reply.startswith("lead: ")
    entries = json.loads(reply.removeprefix("lead: "))["results"]
    assert [(e["role"], e["answer"]) for e in entries] == [
        ("writer", "writer did: draft a note to Anna"),
        ("critic", "critic did: check the note"),
    ]
    store = client.app[STORE]
    (summary,) = await runs.recent(store)
    assert summary.members == 2
    found = await runs.for_turn(store, summary.turn.id or 0)
    assert found is not None
    writer, critic, lead = found.runs  # members are written as they start, the lead when its turn closes
    assert (lead.role, lead.turn_id, lead.tool_calls[0]["name"]) == (runs.LEAD, summary.turn.id, "delegate")
    assert {writer.parent_id, critic.parent_id} == {lead.id}
    tree = render_tree(found)
    assert tree[1] == "  message: write to Anna and check it"
    assert tree[2].startswith("├─ writer  done  qwen3:4b")
    assert tree[3] == "│  task: draft a note to Anna"
    assert tree[4].startswith("└─ critic  done")
    assert "helpers 2  ok" in render_list([summary])[0]


async def test_a_slow_team_tells_the_person_once_and_shows_in_status(
    make_client: MakeClient, fake: FakeOllama
) -> None:
    client = await make_client(progress_after_s=0.1)
    responder = TeamResponder(tasks=TASKS)
    responder.steps["writer"] = Step(content="slow draft", delay_s=0.8)
    fake.responder = responder
    message_id = await send(client, "anna", "write to Anna")
    while ("writer", "qwen3:4b") not in responder.seen:
        await asyncio.sleep(0.01)
    status = await wait_handled(client, await send(client, "someone-else", "/status"))
    assert re.search(r"Teams at work: 1 \([12] of 2 helpers running\)", status["replies"][0]["text"])
    await wait_handled(client, message_id)
    replies = await client.app[STORE].read(lambda s: list(s.exec(select(Reply).where(Reply.chat_id == 1))))
    notices = [r.text for r in replies if r.meta.get("kind") == "notice"]
    assert notices == ["Working on it: 2 helpers are on this, so it will take a little longer."]


async def test_status_says_when_no_team_is_at_work(client: AppClient) -> None:
    view = await wait_handled(client, await send(client, "anna", "/status"))
    assert view["replies"][0]["text"].endswith("Teams at work: none")


async def test_hearth_runs_list_and_show(tmp_path: Path, fake: FakeOllama) -> None:
    fake.responder = TeamResponder(tasks=TASKS[:1])
    env = hearth_env(tmp_path / "data", fake.url)
    code, _, err = await run_hearth("chat", env=env, cwd=tmp_path, stdin=b"write to Anna\n")
    assert code == 0, err
    code, out, err = await run_hearth("runs", "list", env=env, cwd=tmp_path)
    assert code == 0, err
    assert "helpers 1  ok" in out
    code, out, err = await run_hearth("runs", "show", "1", env=env, cwd=tmp_path)
    assert code == 0, err
    assert "└─ writer  done" in out
    code, out, _ = await run_hearth("runs", "show", "99", env=env, cwd=tmp_path)
    assert (code, out.strip()) == (1, "hearth: there is no turn 99")
