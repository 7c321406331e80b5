"""Teams against the fake Ollama: bounded concurrency, failures, cancellation, limits, models, notices."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from assistant.agent.model import OllamaModel, model_options
from assistant.agent.tools import ToolContext, ToolError, ToolRegistry
from assistant.settings import Settings
from assistant.store import Store
from assistant.store.columns import utcnow
from assistant.store.tables import Chat, Run
from assistant.team.app import OllamaModels
from assistant.team.roles import Role
from assistant.team.service import MEMBER_TIMEOUT, MODEL_DOWN, OVER_BUDGET, TEAM_TIMEOUT, Limits, Swarm
from assistant.team.tools import Delegate, nested
from tests.fakes.ollama import FakeOllama, Step
from tests.team.responder import TeamResponder, results

LIMITS = Limits(
    concurrency=2,
    max_tasks=5,
    max_depth=1,
    budget_s=30,
    max_tokens=100_000,
    progress_after_s=30,
    num_ctx=4096,
)


class Echo:
    name = "echo"
    description = "Say the text back."
    parameters: Mapping[str, Any] = {"type": "object", "properties": {"text": {"type": "string"}}}

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str:
        return str(args.get("text", ""))


def role(name: str, **changes: Any) -> Role:
    return dataclasses.replace(Role(name, f"the {name}", f"You are the {name}. Do the task."), **changes)


ROLES = {r.name: r for r in (role("researcher", tools=("echo",)), role("writer"), role("critic"))}


@dataclasses.dataclass
class Rig:
    swarm: Swarm
    fake: FakeOllama
    team: TeamResponder
    store: Store
    ctx: ToolContext
    notices: list[tuple[int, str]]

    async def delegate(self, *tasks: tuple[str, str]) -> list[dict[str, Any]]:
        args = {"tasks": [{"role": r, "task": t} for r, t in tasks]}
        return results((await Delegate(self.swarm).call(args, self.ctx)).text)

    async def runs(self) -> list[Run]:
        return await self.store.read(lambda s: list(s.exec(select(Run).order_by(col(Run.id)))))


@pytest.fixture
async def rig(tmp_path: Path, fake: FakeOllama) -> AsyncIterator[Rig]:
    team = TeamResponder()
    fake.responder = team
    fake.models["small:1b"] = ["completion", "tools"]
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    await store.write(lambda s: s.add(Chat(channel="api", address="api:anna")))
    main = OllamaModel(model_options(Settings(ollama_url=fake.url)))
    models = OllamaModels(main)
    notices: list[tuple[int, str]] = []

    async def notify(chat_id: int, text: str) -> None:
        notices.append((chat_id, text))

    tools = ToolRegistry([Echo()])
    swarm = Swarm(store, tools, dict(ROLES), models, LIMITS, notify, nested)
    ctx = ToolContext(1, "api:api:anna", ZoneInfo("UTC"), utcnow())
    yield Rig(swarm, fake, team, store, ctx, notices)
    await models.close()
    await main.close()
    await store.close()


async def test_members_answer_labelled_by_role_and_are_recorded(rig: Rig) -> None:
    found = await rig.delegate(("researcher", "find flights"), ("writer", "draft a note"))
    assert found == [
        {"task": 1, "role": "researcher", "status": "done", "answer": "researcher did: find flights"},
        {"task": 2, "role": "writer", "status": "done", "answer": "writer did: draft a note"},
    ]
    first = rig.fake.chat_requests[0]
    assert first["messages"][0]["content"].startswith("You are the ")
    runs = await rig.runs()
    assert [(r.role, r.status, r.depth, r.model) for r in runs] == [
        ("researcher", "done", 1, "qwen3:4b"),
        ("writer", "done", 1, "qwen3:4b"),
    ]
    assert all(r.prompt_tokens == 10 and r.eval_tokens == 5 and r.duration_ms is not None for r in runs)
    assert all(r.turn_started_at == rig.ctx.now for r in runs)


@pytest.mark.parametrize("concurrency", [1, 2, 3])
async def test_concurrency_is_bounded(rig: Rig, concurrency: int) -> None:
    rig.swarm.limits = dataclasses.replace(LIMITS, concurrency=concurrency)
    rig.fake.delay_s = 0.1
    found = await rig.delegate(*[("writer", f"part {n}") for n in range(5)])
    assert [entry["status"] for entry in found] == ["done"] * 5
    assert rig.fake.max_in_flight == concurrency


async def test_a_failing_and_a_slow_member_leave_the_others_answers(rig: Rig) -> None:
    rig.swarm.roles["critic"] = role("critic", timeout_s=0.2)
    rig.team.steps["researcher"] = Step(status=500, error="out of memory")
    rig.team.steps["critic"] = Step(content="late", delay_s=2)
    found = await rig.delegate(("researcher", "a"), ("writer", "b"), ("critic", "c"))
    assert [(e["role"], e["status"], e.get("error")) for e in found] == [
        ("researcher", "failed", MODEL_DOWN),
        ("writer", "done", None),
        ("critic", "timeout", MEMBER_TIMEOUT),
    ]
    assert found[1]["answer"] == "writer did: b"
    assert [r.status for r in await rig.runs()] == ["failed", "done", "timeout"]


async def test_the_whole_call_has_a_time_budget(rig: Rig) -> None:
    rig.swarm.limits = dataclasses.replace(LIMITS, budget_s=0.3, concurrency=1)
    rig.team.steps["writer"] = Step(content="slow", delay_s=0.2)
    found = await rig.delegate(("writer", "a"), ("writer", "b"), ("writer", "c"))
    assert [e["status"] for e in found] == ["done", "timeout", "timeout"]
    assert found[2]["error"] == TEAM_TIMEOUT


async def test_the_token_budget_stops_further_calls(rig: Rig) -> None:
    rig.swarm.limits = dataclasses.replace(LIMITS, max_tokens=20, concurrency=1)
    found = await rig.delegate(("writer", "a"), ("writer", "b"), ("writer", "c"))
    assert [e["status"] for e in found] == ["done", "done", "over_budget"]
    assert found[2]["error"] == OVER_BUDGET
    assert len(rig.fake.chat_requests) == 2  # 15 tokens each: the second call crosses the line


def ours(tasks: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """The tasks that are not the fake server's own (it serves each open connection in a task)."""
    return {t for t in tasks if getattr(t.get_coro(), "__qualname__", "") != "RequestHandler.start"}


async def test_cancelling_the_caller_cancels_every_member(rig: Rig) -> None:
    rig.team.steps["writer"] = Step(content="never", delay_s=30)
    before = asyncio.all_tasks()
    call = asyncio.create_task(rig.delegate(*[("writer", str(n)) for n in range(4)]))
    while rig.fake.in_flight < 2:
        await asyncio.sleep(0.01)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    for _ in range(100):
        if rig.fake.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert rig.fake.in_flight == 0
    assert ours(asyncio.all_tasks()) <= before | {asyncio.current_task()}
    assert rig.swarm.teams == {}
    assert [r.status for r in await rig.runs()] == ["cancelled", "cancelled"]


async def test_members_cannot_delegate_at_the_default_depth(rig: Rig) -> None:
    rig.swarm.roles["planner"] = role("planner", tools=("delegate", "echo"))
    await rig.delegate(("planner", "plan"))
    tools = [t["function"]["name"] for t in rig.fake.chat_requests[0]["tools"]]
    assert tools == ["echo"]
    with pytest.raises(ToolError, match="cannot hand work on"):
        await Delegate(rig.swarm, depth=1).call({"tasks": [{"role": "writer", "task": "x"}]}, rig.ctx)


async def test_a_deeper_limit_lets_members_delegate_and_records_the_tree(rig: Rig) -> None:
    rig.swarm.limits = dataclasses.replace(LIMITS, max_depth=2)
    rig.swarm.roles["planner"] = role("planner", tools=("delegate",))
    rig.team.steps["planner"] = Step(
        tool_calls=[{"name": "delegate", "arguments": {"tasks": [{"role": "writer", "task": "w"}]}}]
    )
    await rig.delegate(("planner", "plan"))
    tools = [t["function"]["name"] for t in rig.fake.chat_requests[0]["tools"]]
    assert tools == ["delegate"]
    planner, writer = await rig.runs()
    assert (planner.role, planner.depth, planner.parent_id) == ("planner", 1, None)
    assert (writer.role, writer.depth, writer.parent_id) == ("writer", 2, planner.id)
    assert planner.tool_calls[0]["name"] == "delegate"


async def test_more_tasks_than_allowed_is_an_error(rig: Rig) -> None:
    with pytest.raises(ToolError, match="at most 5 tasks"):
        await rig.delegate(*[("writer", str(n)) for n in range(6)])
    assert rig.fake.chat_requests == []


async def test_a_role_with_its_own_model_sends_that_model(rig: Rig) -> None:
    rig.swarm.roles["writer"] = role("writer", model="small:1b")
    await rig.delegate(("writer", "a"), ("critic", "b"))
    assert sorted(rig.team.seen) == [("critic", "qwen3:4b"), ("writer", "small:1b")]


async def test_a_role_whose_model_is_missing_fails_alone(rig: Rig) -> None:
    rig.swarm.roles["writer"] = role("writer", model="absent:70b")
    found = await rig.delegate(("writer", "a"), ("critic", "b"))
    assert [(e["status"], e.get("error")) for e in found] == [("failed", MODEL_DOWN), ("done", None)]


async def test_a_long_team_sends_one_progress_notice(rig: Rig) -> None:
    rig.swarm.limits = dataclasses.replace(LIMITS, progress_after_s=0.1)
    rig.team.steps["writer"] = Step(content="slow", delay_s=0.3)
    await rig.delegate(("writer", "a"), ("writer", "b"), ("critic", "c"))
    assert rig.notices == [(1, "Working on it: 3 helpers are on this, so it will take a little longer.")]


async def test_a_quick_team_sends_no_notice(rig: Rig) -> None:
    rig.swarm.limits = dataclasses.replace(LIMITS, progress_after_s=0.5)
    await rig.delegate(("writer", "a"))
    await asyncio.sleep(0.6)
    assert rig.notices == []
