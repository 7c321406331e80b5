"""Several real `hearth serve` replicas on one PostgreSQL database and one data directory, between a
fake Ollama and a fake Graph API; webhooks spread over them the way a load balancer would, and any
replica SIGKILLed and started again on its own port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import aiohttp
from sqlmodel import col, select

from assistant.store import Store, leases
from assistant.store.tables import Chat, Message, Reply
from tests.channels.webhooks import (
    APP_SECRET,
    GRAPH_TOKEN,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    meta_signature,
    wa_body,
    wa_message,
)
from tests.fakes.ollama import FakeOllama
from tests.faults.rig import Model, TimedGraph, address
from tests.faults.tally import Send, answered_texts
from tests.process import Server, free_port, hearth_env

START_TIMEOUT_S = 90.0


class Cluster:
    """`replicas` Hearth processes; replica i always listens on `ports[i]`. `env` takes extra settings."""

    def __init__(self, tmp: Path, database_url: str, replicas: int, chats: int, **env: str) -> None:
        self.tmp, self.database_url, self.chats = tmp, database_url, chats
        self.model = Model()
        self.ollama = FakeOllama(responder=self.model)
        self.graph = TimedGraph()
        self.ports = [free_port() for _ in range(replicas)]
        self.servers: list[Server | None] = [None] * replicas
        self.extra = env
        self.kills_at_s: list[float] = []
        self.acked: list[str] = []
        self._turn = 0

    async def __aenter__(self) -> Self:
        await self.ollama.start()
        await self.graph.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for server in self.servers:
            if server is not None and server.proc is not None and server.proc.returncode is None:
                await server.kill()
        await self.graph.close()
        await self.ollama.close()

    def env(self) -> dict[str, str]:
        return hearth_env(
            self.tmp / "data",
            self.ollama.url,
            HEARTH_DATABASE_URL=self.database_url,
            HEARTH_WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
            HEARTH_WHATSAPP_APP_SECRET=APP_SECRET,
            HEARTH_WHATSAPP_TOKEN=GRAPH_TOKEN,
            HEARTH_WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            HEARTH_WHATSAPP_API_URL=self.graph.url,
            HEARTH_OWNERS=",".join(f"whatsapp:+{address(c)}" for c in range(self.chats)),
            HEARTH_RATE_LIMIT_PER_MIN="100000",
            HEARTH_SEND_RETRY_S="0.2",
            HEARTH_DRAIN_TIMEOUT_S="2",
            HEARTH_LOG_LEVEL="info",
            **self.extra,
        )

    def url(self, replica: int) -> str:
        return f"http://127.0.0.1:{self.ports[replica]}"

    async def start(self, replica: int) -> None:
        server = Server(self.env(), self.tmp)
        server.port, server.url = self.ports[replica], self.url(replica)
        server.env["HEARTH_PORT"] = str(server.port)
        self.servers[replica] = server
        await server.start(ready_timeout_s=START_TIMEOUT_S)

    async def start_all(self) -> None:
        for replica in range(len(self.ports)):
            await self.start(replica)

    async def kill(self, replica: int) -> None:
        """SIGKILL: no drain, no cleanup; its leases stay in the table until they run out."""
        server = self.servers[replica]
        assert server is not None
        self.kills_at_s.append(time.monotonic())
        await server.kill()

    def pause(self, replica: int) -> None:
        """SIGSTOP: the replica does nothing, its connections stay open, until `resume`."""
        os.kill(self.pid(replica), signal.SIGSTOP)

    def resume(self, replica: int) -> None:
        os.kill(self.pid(replica), signal.SIGCONT)

    def pid(self, replica: int) -> int:
        server = self.servers[replica]
        assert server is not None
        assert server.proc is not None
        return server.proc.pid

    async def say(self, chat: int, text: str, timeout_s: float = 60, replica: int | None = None) -> None:
        """One WhatsApp message, posted the way Meta posts it to a load balancer: each try to the
        next replica (or always to `replica`), again and again (same message id) until one answers
        200."""
        body = wa_body(wa_message(text, wa_id=address(chat), user_id=None))
        headers = {"X-Hub-Signature-256": meta_signature(body), "Content-Type": "application/json"}
        async with asyncio.timeout(timeout_s), aiohttp.ClientSession() as http:
            while True:
                self._turn += 1
                to = self._turn % len(self.ports) if replica is None else replica
                url = f"{self.url(to)}/webhooks/whatsapp"
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.post(url, data=body, headers=headers) as response:
                        if response.status == 200:
                            self.acked.append(text)
                            return
                await asyncio.sleep(0.05)

    async def settle(self, texts: Iterable[str], timeout_s: float = 90, quiet_s: float = 1.0) -> None:
        """Wait until the provider has a reply for every text, then a little longer for any copy."""
        wanted = set(texts)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not wanted <= {t for s in self.graph.sends() for t in answered_texts(s.text)}:
                    await asyncio.sleep(0.1)
        await asyncio.sleep(quiet_s)

    async def leader_pid(self, timeout_s: float = 30) -> int:
        """The pid of the replica running the scheduler, once one does."""
        store = await Store.open(self.database_url)
        try:
            async with asyncio.timeout(timeout_s):
                while (name := await leases.leader(store)) is None:
                    await asyncio.sleep(0.1)
        finally:
            await store.close()
        return int(name.split(":")[-2])

    async def books(self) -> Books:
        """Kill every replica and read what the store and the provider hold."""
        for replica, server in enumerate(self.servers):
            if server is not None and server.proc is not None and server.proc.returncode is None:
                await self.kill(replica)
        store = await Store.open(self.database_url)
        try:
            chats = await store.read(lambda s: {c.id: c.address for c in s.exec(select(Chat))})
            messages = await store.read(lambda s: list(s.exec(select(Message))))
            replies = await store.read(lambda s: list(s.exec(select(Reply).order_by(col(Reply.id)))))
        finally:
            await store.close()
        return Books(chats, messages, replies, self.graph.sends())


@dataclass(frozen=True)
class Books:
    chats: dict[int | None, str]
    messages: list[Message]
    replies: list[Reply]
    sends: list[Send]

    def stored_order(self, chat: int) -> list[str]:
        """The texts the chat's stored replies answer, in the order the replies were written."""
        ours = {i for i, a in self.chats.items() if a == f"whatsapp:+{address(chat)}"}
        return [t for r in self.replies if r.chat_id in ours for t in answered_texts(r.text)]

    def sent_order(self, chat: int) -> list[str]:
        """The texts the provider's sends to the chat answer, in the order it took them, each once."""
        seen: dict[str, None] = {}
        for send in self.sends:
            if send.to == address(chat):
                seen.update(dict.fromkeys(answered_texts(send.text)))
        return list(seen)
