"""The person at the other end: WhatsApp messages through signed webhooks, redelivered the way Meta
redelivers them, in several chats at once."""

from __future__ import annotations

import asyncio
import itertools
from types import TracebackType
from typing import Self

import aiohttp

from tests.channels.webhooks import meta_signature, wa_body, wa_message
from tests.faults.rig import Rig, address


class Person:
    """Sends WhatsApp messages through signed webhooks the way Meta does: each one again and again
    (same message id) until Hearth answers 200, so a message Hearth never acknowledged is not lost
    but redelivered. `acked` lists the texts acknowledged, in order."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.acked: list[str] = []
        self.redeliveries = 0

    async def say(self, chat: int, text: str, timeout_s: float = 60) -> None:
        body = wa_body(wa_message(text, wa_id=address(chat), user_id=None))
        headers = {"X-Hub-Signature-256": meta_signature(body), "Content-Type": "application/json"}
        async with asyncio.timeout(timeout_s), aiohttp.ClientSession() as http:
            while True:
                try:
                    url = f"{self.rig.url}/webhooks/whatsapp"
                    async with http.post(url, data=body, headers=headers) as response:
                        if response.status == 200:
                            self.acked.append(text)
                            return
                except aiohttp.ClientError:
                    pass
                self.redeliveries += 1
                await asyncio.sleep(0.2)

    async def converse(self, chats: int, stop: asyncio.Event, gap_s: float = 0.25, label: str = "m") -> None:
        """Every chat at once, each sending a message every `gap_s` until `stop` is set; chat 1's
        texts are `c1-m0`, `c1-m1` … (with the label `m`)."""

        async def one(chat: int) -> None:
            for n in itertools.count():
                if stop.is_set():
                    return
                await self.say(chat, f"c{chat}-{label}{n}")
                await asyncio.sleep(gap_s)

        await asyncio.gather(*(one(c) for c in range(chats)))


class Conversation:
    """A Person talking in every chat in the background, from entering until `end()`."""

    def __init__(self, rig: Rig, gap_s: float = 0.25, label: str = "m") -> None:
        self.person = Person(rig)
        self.chats, self.gap_s, self.label = rig.chats, gap_s, label
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self.person.converse(self.chats, self._stop, self.gap_s, self.label))
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.end()

    async def end(self) -> list[str]:
        """Stop starting new messages; wait for those under way to be acknowledged; the texts."""
        self._stop.set()
        if self._task is not None:
            await self._task
        return self.person.acked
