"""Skills through the whole app and real Docker: the agent calls them, and hostile ones stall nothing."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from assistant.access.content import as_data, unwrapped
from assistant.settings import SKILLS_DIR
from tests.api import send, wait_handled
from tests.conftest import MakeClient
from tests.fakes.ollama import FakeOllama, Step
from tests.sandbox.docker_env import BASE_IMAGE, TEST_SKILLS_DIR

pytestmark = pytest.mark.docker


@pytest.mark.timeout(120)
async def test_the_agent_runs_the_python_skill_in_a_container(
    make_client: MakeClient, fake: FakeOllama, docker_client: object
) -> None:
    client = await make_client(skills_dir=SKILLS_DIR, worker_base_image=BASE_IMAGE)
    call = {"name": "python", "arguments": {"code": "print(sum(range(10)))"}}
    fake.push(Step(tool_calls=[call]), Step(content="The sum is 45."))
    view = await wait_handled(client, await send(client, "sk", "use python to add up 0..9"), wait_s=60)
    assert view["replies"][0]["text"] == "The sum is 45."
    tools = [t["function"]["name"] for t in fake.chat_requests[0]["tools"]]
    assert "python" in tools  # the skill the person's request needs is offered
    # Skill output is untrusted: it reaches the model cleaned and wrapped as data.
    assert fake.chat_requests[1]["messages"][-1]["content"] == as_data("45\n", "tool python")


@pytest.mark.timeout(120)
async def test_healthz_answers_while_hostile_skills_run(
    make_client: MakeClient, fake: FakeOllama, test_image: str
) -> None:
    client = await make_client(skills_dir=TEST_SKILLS_DIR, worker_image=test_image)
    attacks = ["spin", "fork_bomb", "memory", "flood"]

    def attacker(body: dict[str, Any]) -> Step:
        # Each chat's turn asks for its own attack, then answers: chats run at the same time.
        last, asked = body["messages"][-1], [m for m in body["messages"] if m["role"] == "user"][-1]
        n = int(asked["content"].removeprefix("attack "))
        if last["role"] == "tool":
            return Step(content=f"done {n}")
        return Step(tool_calls=[{"name": "hostile", "arguments": {"attack": attacks[n]}}])

    fake.responder = attacker
    message_ids = [await send(client, f"h{n}", f"attack {n}") for n in range(len(attacks))]
    slowest_s = 0.0
    while fake.in_flight or len(fake.chat_requests) < 2 * len(attacks):
        began = time.perf_counter()
        assert (await client.get("/healthz")).status == 200
        slowest_s = max(slowest_s, time.perf_counter() - began)
        await asyncio.sleep(0.05)
    views = [await wait_handled(client, m, wait_s=60) for m in message_ids]
    assert sorted(v["replies"][0]["text"] for v in views) == [f"done {n}" for n in range(len(attacks))]
    results = [r["messages"][-1] for r in fake.chat_requests if r["messages"][-1]["role"] == "tool"]
    assert len(results) == len(attacks)
    assert all("error" in json.loads(unwrapped(r["content"])) for r in results)
    assert slowest_s < 1.0
    fake.push(Step(tool_calls=[{"name": "hostile", "arguments": {"attack": "ping"}}]), Step(content="ok"))
    view = await wait_handled(client, await send(client, "h0", "again"), wait_s=60)
    assert view["replies"][0]["text"] == "ok"
