"""SIGKILL at each step of a turn, timed by what the fakes and the store can see, then a restart:
each function runs one fault once and returns its tally."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.faults.person import Conversation, Person
from tests.faults.rig import TOOL_MARK, Rig
from tests.faults.tally import Tally


async def until(condition: Callable[[], bool], timeout_s: float = 20) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def after_accept(rig: Rig, person: Person, chat: int) -> None:
    """Killed with a message acknowledged and waiting in its lane behind a turn with the model."""
    rig.model.held.clear()
    await person.say(chat, f"c{chat}-m0")
    await until(lambda: rig.ollama.in_flight > 0)
    await person.say(chat, f"c{chat}-m1")
    await rig.kill()
    rig.model.held.set()


async def before_model(rig: Rig, person: Person, chat: int) -> None:
    """Killed while the model holds the turn's request, before it has answered."""
    rig.model.held.clear()
    await person.say(chat, f"c{chat}-m0")
    await until(lambda: rig.ollama.in_flight > 0)
    await rig.kill()
    rig.model.held.set()


async def during_tool(rig: Rig, person: Person, chat: int) -> None:
    """Killed while a tool runs (web search held by the search server), after the turn's first
    tool already had its effect (a reminder): the replayed turn must not make a second one."""
    rig.search.delay_s = 3
    attempts = rig.search.attempts
    await person.say(chat, f"c{chat}-m0 {TOOL_MARK}")
    await until(lambda: rig.search.attempts > attempts)
    await rig.kill()
    rig.search.delay_s = 0


async def after_commit(rig: Rig, person: Person, chat: int) -> None:
    """Killed with the reply committed to the outbox and not yet delivered (the provider is
    refusing sends, so the kill cannot land inside a successful one)."""
    rig.graph.failing = True
    attempts = rig.graph.text_attempts
    await person.say(chat, f"c{chat}-m0")
    await until(lambda: rig.graph.text_attempts > attempts)
    await rig.kill()
    rig.graph.failing = False


SEND_DELAY_S = 1.0


async def during_send(rig: Rig, person: Person, chat: int) -> None:
    """Killed while the provider holds the reply's send request. The provider goes on and accepts
    it, and Hearth never learns it did: the documented window, so the restart sends it again."""
    rig.graph.delay_s = SEND_DELAY_S
    attempts = rig.graph.text_attempts
    await person.say(chat, f"c{chat}-m0")
    await until(lambda: rig.graph.text_attempts > attempts)
    await rig.kill()
    rig.graph.delay_s = 0


Step = Callable[[Rig, Person, int], Awaitable[None]]
STEPS: list[tuple[str, Step]] = [
    ("SIGKILL: message accepted", after_accept),
    ("SIGKILL: before the model answers", before_model),
    ("SIGKILL: during a tool", during_tool),
    ("SIGKILL: after the reply commit", after_commit),
    ("SIGKILL: during a send", during_send),
]
# How long after a kill a send the provider took may still be the one Hearth did not record.
WINDOW_S = SEND_DELAY_S + 1.0


async def kill_points(tmp: Path) -> list[Tally]:
    """Every step of STEPS in its own chat, one after the other in one run of Hearth: each kill,
    a restart, and that chat's replies delivered before the next step begins. One tally a step;
    the tool's step also counts its reminders (one is right)."""
    async with Rig(tmp, chats=len(STEPS)) as rig:
        person = Person(rig)
        await rig.start()
        for chat, (_, step) in enumerate(STEPS):
            await step(rig, person, chat)
            await rig.start()
            await rig.settle(t for t in person.acked if t.startswith(f"c{chat}-"))
        books = await rig.books()
    tallies = []
    for chat, (fault, _) in enumerate(STEPS):
        texts = [t for t in person.acked if t.startswith(f"c{chat}-")]
        tallies.append(books.tally(fault, texts, chat, WINDOW_S))
        tallies[-1].kills = 1
    tool = tallies[2]
    tool.effects_twice = max(books.jobs - 1, 0)
    if books.jobs == 0:
        tool.notes.append("the tool's effect is missing")
    return tallies


async def storm(tmp: Path, kills: int = 4, chats: int = 4, seed: int | None = None) -> Tally:
    """Messages in several chats, a SIGKILL every 1 to 4 s and a restart each time, `kills` times
    (at least 1); the model and the provider each take a moment, so kills land at every step of
    turns."""
    rng = random.Random(seed)
    async with Rig(tmp, chats=chats) as rig:
        rig.ollama.delay_s, rig.graph.delay_s = 0.1, 0.05
        await rig.start()
        async with Conversation(rig) as talk:
            for _ in range(kills - 1):
                await asyncio.sleep(rng.uniform(1.0, 4.0))
                await rig.restart()
            await asyncio.sleep(rng.uniform(1.0, 4.0))
            texts = await talk.end()
        # The last kill comes once the person has gone quiet: only recovery can finish the work.
        await rig.restart()
        await rig.settle(texts, timeout_s=120)
        # Generous: on a loaded machine the record of a send can trail the provider's answer.
        tally = (await rig.books()).tally("SIGKILL at random moments", texts, window_s=3.0)
        tally.notes.append(f"{talk.person.redeliveries} webhook redeliveries")
        return tally
