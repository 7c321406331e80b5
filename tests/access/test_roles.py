"""Roles over real webhooks: what a member may do, a revoked member's jobs, owner-only commands, the
SMS owner's PIN."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from assistant.keys import CLOCK, JOBS, STORE
from assistant.settings import Secret, Settings
from assistant.store import jobs
from assistant.store.tables import Job
from tests.access.attacker import BATTERY
from tests.access.people import MEMBER, MEMBER_ADDRESS, OWNER, pair, say, start, to
from tests.channels.webhooks import OWNER_SMS, post_twilio, twilio_form, twilio_settings, until
from tests.conftest import MakeClient
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama
from tests.fakes.twilio import TwilioFake
from tests.sandbox.docker_env import TEST_SKILLS_DIR


def call(name: str, **arguments: object) -> str:
    return f"call:{name} {json.dumps(arguments)}"


def offered(fake: FakeOllama) -> set[str]:
    return {t["function"]["name"] for t in fake.chat_requests[-1].get("tools") or []}


@pytest.mark.docker
async def test_a_member_is_offered_only_the_member_tools_and_refused_the_rest(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake, fake: FakeOllama, test_image: str
) -> None:
    client = await start(aiohttp_client, settings, graph, skills_dir=TEST_SKILLS_DIR, worker_image=test_image)
    await pair(client, graph)
    await say(client, MEMBER, call("delegate", tasks=[{"role": "writer", "task": "x"}]))
    await until(lambda: to(graph, MEMBER)[-1].startswith("tool said"))
    tools = offered(fake)
    await say(client, MEMBER, call("beacon", url="http://example.org/"))
    await until(lambda: to(graph, MEMBER)[-1].count("not permitted") == 1 and len(to(graph, MEMBER)) == 4)
    answers = to(graph, MEMBER)[-2:]
    assert "delegate" not in tools
    assert "beacon" not in tools
    assert {"remember", "schedule_task", "get_time"} <= tools
    assert all("not permitted: " in answer for answer in answers)
    BATTERY.record(
        "a member calls owner-only tools (`delegate`, an egress skill)",
        "not offered to the model; a call anyway is refused as not permitted",
        f"offered: {len(tools)} member tools, neither of them; both calls refused",
    )


async def test_a_member_stays_within_the_job_caps(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake
) -> None:
    client = await start(aiohttp_client, settings, graph)
    await pair(client, graph)
    await say(client, MEMBER, call("schedule_reminder", text="spam", every="1m"))
    await until(lambda: "at most every 15 minutes" in to(graph, MEMBER)[-1])
    eleven = " ".join(call("schedule_reminder", text=f"r{n}", every="1d") for n in range(11))
    await say(client, MEMBER, eleven)
    await until(lambda: "the most allowed" in to(graph, MEMBER)[-1])
    stored = await client.app[STORE].read(lambda s: list(s.exec(select(Job))))
    assert len(stored) == 10
    BATTERY.record(
        "a member asks for a reminder every minute, then for 11 daily ones",
        "refused below 15 minutes; at most 10 active jobs",
        f"every 1m refused; {len(stored)} jobs kept, the 11th refused",
    )


async def test_a_revoked_members_jobs_pause_and_never_fire(
    aiohttp_client: MakeClient, settings: Settings, graph: GraphFake
) -> None:
    client = await start(aiohttp_client, settings, graph)
    await pair(client, graph)
    due = (client.app[CLOCK]() + timedelta(seconds=1)).isoformat()
    await say(client, MEMBER, call("schedule_reminder", text="ping the owner", at=due))
    await until(lambda: '"scheduled"' in to(graph, MEMBER)[-1])
    await say(client, OWNER, f"/revoke {MEMBER_ADDRESS}")
    await until(lambda: to(graph, OWNER)[-1].startswith("Revoked"))
    job = await jobs.get(client.app[STORE], 1)
    assert job is not None
    assert job.paused
    # Resumed by mistake: the fire-time check still finds no access, and pauses it again.
    await jobs.update(client.app[STORE], 1, paused=False, next_run_at=client.app[CLOCK]())
    fired = await client.app[JOBS].fire(1)
    again = await jobs.get(client.app[STORE], 1)
    assert again is not None
    assert not fired
    assert again.paused
    assert not any("Reminder: ping the owner" in t for t in to(graph, MEMBER))
    BATTERY.record(
        "a revoked member's reminder comes due (and is even resumed by mistake)",
        "paused at revocation; refused and paused again when it fires",
        "paused on /revoke; fire() ran nothing and paused it again; nothing delivered",
    )


async def test_status_is_the_owners(aiohttp_client: MakeClient, settings: Settings, graph: GraphFake) -> None:
    client = await start(aiohttp_client, settings, graph)
    await pair(client, graph)
    await say(client, MEMBER, "/status")
    await say(client, OWNER, "/status")
    await until(lambda: to(graph, MEMBER)[-1] == "Only my owner can see that.")
    await until(lambda: bool(to(graph, OWNER)) and to(graph, OWNER)[-1].startswith("Model: "))


async def test_an_sms_owner_must_end_with_the_pin(
    aiohttp_client: MakeClient, settings: Settings, twilio_api: TwilioFake, fake: FakeOllama
) -> None:
    from assistant.app import create_app

    changes = twilio_settings(settings, twilio_api, sms_owner_pin=Secret("2468"))
    client = await aiohttp_client(create_app(changes))
    for text in ("/status", "hello there 2468", "/status 2468"):
        assert (await post_twilio(client, twilio_form(text, OWNER_SMS))).status == 200

    def texts() -> list[str]:
        return [str(m.get("Body")) for m in twilio_api.sent]

    await until(lambda: len(texts()) >= 3)
    assert texts()[0] == "End owner messages sent by SMS with your PIN."
    assert texts()[1] == "echo: hello there"
    assert texts()[2].startswith("Model: ")
    assert "2468" not in json.dumps(fake.chat_requests)


async def test_a_role_stops_at_its_tokens_per_day(make_client: MakeClient, settings: Settings) -> None:
    from tests.api import send, wait_handled

    # The fake model spends 15 tokens a call (10 prompt, 5 answer).
    (settings.data_dir / "policy.toml").write_text("[owner]\ntokens_per_day = 25\n")
    client = await make_client()
    answers = []
    for text in ("one", "two", "three"):
        view = await wait_handled(client, await send(client, "ann", text))
        answers.append((view["status"], view["replies"][0]["text"]))
    assert answers[:2] == [("handled", "echo: one"), ("handled", "echo: two")]
    assert answers[2] == (
        "limited",
        "You have used today's allowance of the assistant's model; I'll answer again tomorrow.",
    )
