"""A hand-driven clock and a channel that fails as told, for driving the outbox sender through a
real app: messages go in through the inbox, replies come out of the channel."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlmodel import Session, col, select

from assistant.app import create_app
from assistant.channels import SendError
from assistant.keys import ROUTER, STORE
from assistant.settings import Settings
from assistant.store import Store, inbox
from assistant.store.tables import Chat, Reply
from assistant.types import Address, Inbound, Outbound
from tests.conftest import AppClient, MakeClient


class Clock:
    """Time stands still until a test moves it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Flaky:
    """A channel that fails as told, then records what it delivered, to whom.

    `failures` are raised one per attempt (None: that attempt succeeds), `always` on every attempt
    once they run out; a send of
    a text in `hold` waits until `gate` is set.
    """

    name = "flaky"

    def __init__(self) -> None:
        self.failures: list[SendError | None] = []
        self.always: SendError | None = None
        self.sent: list[str] = []
        self.to: list[tuple[str, str]] = []  # (address, text) of every delivery
        self.attempts = 0
        self.delivered = asyncio.Event()
        self.hold: set[str] = set()
        self.gate = asyncio.Event()
        self.holding = asyncio.Event()

    async def send(self, reply: Outbound) -> str | None:
        if reply.text in self.hold:
            self.holding.set()
            await self.gate.wait()
        self.attempts += 1
        failure = self.failures.pop(0) if self.failures else None
        if failure is not None:
            raise failure
        if self.always is not None:
            raise self.always
        self.sent.append(reply.text)
        self.to.append((str(reply.to), reply.text))
        self.delivered.set()
        return f"p-{len(self.sent)}"

    def per_chat(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for address, text in self.to:
            found.setdefault(address, []).append(text)
        return found

    def duplicates(self) -> Counter[tuple[str, str]]:
        """(address, text) pairs delivered more than once: a reply sent twice to its chat."""
        return Counter({k: n for k, n in Counter(self.to).items() if n > 1})


async def start(
    aiohttp_client: MakeClient, settings: Settings, channel: Flaky, clock: Clock | None = None
) -> AppClient:
    """A real app with the flaky channel (and the HTTP API), on `clock` when one is given."""
    app = create_app(settings, channels=[channel], **({"clock": clock} if clock else {}))
    return await aiohttp_client(app)


async def say(app: web.Application, text: str, who: str = "+15550001", at: datetime | None = None) -> int:
    """A message from `who` on the flaky channel, stored as a webhook would; the chat's id."""
    now = at or datetime.now(UTC)
    message = Inbound("flaky", f"{who}-{text}-{now.timestamp()}", Address("sms", who), text, now)
    [accepted] = await inbox.accept(app[STORE], [message], now)
    app[ROUTER].notify(accepted.chat_id)
    return accepted.chat_id


async def until(condition: Callable[[], object], timeout_s: float = 5) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.01)


async def replies(app: web.Application) -> list[Reply]:
    query = select(Reply).order_by(col(Reply.id))
    return await app[STORE].read(lambda s: list(s.exec(query)))


async def until_reply(app: web.Application, check: Callable[[Reply], bool], timeout_s: float = 5) -> Reply:
    async with asyncio.timeout(timeout_s):
        while True:
            found = [r for r in await replies(app) if check(r)]
            if found:
                return found[0]
            await asyncio.sleep(0.01)


async def hold_replies(app: web.Application, channel: str, count: int, at: datetime) -> int:
    """`count` pending replies for a chat on `channel`, as a process serving it would have left them
    (reminders of a terminal chat, or a provider since taken out of .env); the chat's id."""
    return await hold_replies_in(app[STORE], channel, count, at)


async def hold_replies_in(store: Store, channel: str, count: int, at: datetime) -> int:
    def write(session: Session) -> int:
        chat = Chat(channel=channel, address=f"{channel}:someone", created_at=at)
        session.add(chat)
        session.flush()
        assert chat.id is not None
        session.add_all(Reply(chat_id=chat.id, text=f"held {n}", created_at=at) for n in range(count))
        return chat.id

    return await store.write(write)
