"""A real `hearth serve` between a fake Ollama and a fake Graph API, posted to the way Meta posts
webhooks, killed with SIGKILL and started again on the same port whenever a fault asks."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from sqlmodel import func, select

from assistant.store import Store
from assistant.store.tables import Chat, Job, Message, Reply
from tests.channels.webhooks import APP_SECRET, GRAPH_TOKEN, PHONE_NUMBER_ID, VERIFY_TOKEN
from tests.fakes.base import Failure
from tests.fakes.graph import GraphFake
from tests.fakes.ollama import FakeOllama
from tests.fakes.ollama_wire import Step
from tests.fakes.searxng import SearxngFake
from tests.faults.tally import SEPARATOR, Send, Tally, answered_texts, count
from tests.process import Server, free_port, hearth_env

TOOL_MARK = "use-tools"
STALL_S = 30.0
START_TIMEOUT_S = 90.0
SCHEDULE = {"name": "schedule_reminder", "arguments": {"text": "water the plants", "every": "1d"}}
SEARCH = {"name": "web_search", "arguments": {"query": "lisbon weather"}}


class TimedGraph(GraphFake):
    """The fake Graph API, noting when it accepted each send; while `failing`, every request gets a
    500. `text_attempts` counts the requests that try to send a text (not read receipts)."""

    def __init__(self) -> None:
        super().__init__(token=GRAPH_TOKEN)
        self.accepted_at_s: list[float] = []
        self.failing = False
        self.text_attempts = 0

    async def failure_or_none(self) -> web.Response | None:
        if self.failing:
            self.attempts += 1
            return self.error_response(Failure(500, message="Service temporarily unavailable"))
        return await super().failure_or_none()

    async def _messages(self, request: web.Request) -> web.Response:
        if (await request.json()).get("type") == "text":
            self.text_attempts += 1
        return await super()._messages(request)

    def _accept(self, body: dict[str, Any], match: Any) -> web.Response:
        before = len(self.sent)
        response = super()._accept(body, match)
        if len(self.sent) > before:
            self.accepted_at_s.append(time.monotonic())
        return response

    def sends(self) -> list[Send]:
        return [
            Send(s.get("text", {}).get("body", ""), at, str(s.get("to", "")))
            for s, at in zip(self.sent, self.accepted_at_s, strict=True)
        ]


def _recent_texts(messages: list[dict[str, Any]]) -> tuple[list[str], bool]:
    """The user texts after the model's last answer, and whether tools answered since."""
    answers = [i for i, m in enumerate(messages) if m.get("role") == "assistant" and not m.get("tool_calls")]
    recent = messages[(answers[-1] + 1 if answers else 0) :]
    texts = [str(m.get("content", "")) for m in recent if m.get("role") == "user"]
    return texts, any(m.get("role") == "tool" for m in recent)


class Model:
    """What the fake Ollama answers: `r<N>: <texts>`, or tool calls for a text marked TOOL_MARK.
    While `held` is clear, requests wait (the model is thinking) until it is set."""

    def __init__(self) -> None:
        self.numbers = itertools.count(1)
        self.held = asyncio.Event()
        self.held.set()
        self.stall_every = 0  # when above 0, every n-th answer goes silent after its first chunk
        self.answers = 0

    async def __call__(self, body: dict[str, Any]) -> Step:
        await self.held.wait()
        self.answers += 1
        if self.stall_every and self.answers % self.stall_every == 0:
            return Step(content="a partial answer that never ends", stall_after_s=STALL_S)
        texts, tools_answered = _recent_texts(body.get("messages") or [])
        if not tools_answered and any(TOOL_MARK in t for t in texts):
            return Step(tool_calls=[SCHEDULE, SEARCH])
        return Step(content=f"r{next(self.numbers)}: " + SEPARATOR.join(texts))


def address(chat: int) -> str:
    return f"1555000{chat:04d}"


class Rig:
    """The fakes, the Hearth process and its history of kills; `env` takes extra HEARTH_ settings."""

    def __init__(self, tmp: Path, chats: int = 1, **env: str) -> None:
        self.tmp, self.chats = tmp, chats
        self.model = Model()
        self.ollama = FakeOllama(responder=self.model)
        self.graph = TimedGraph()
        self.search = SearxngFake()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_url = f"sqlite:///{tmp / 'data' / 'hearth.db'}"
        self.extra = env
        self.kills_at_s: list[float] = []
        self.server: Server | None = None

    async def __aenter__(self) -> Self:
        await self.ollama.start()
        await self.graph.start()
        await self.search.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.server is not None and self.server.proc is not None and self.server.proc.returncode is None:
            await self.server.kill()
        await self.search.close()
        await self.graph.close()
        await self.ollama.close()

    def _env(self) -> dict[str, str]:
        return hearth_env(
            self.tmp / "data",
            self.ollama.url,
            HEARTH_WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
            HEARTH_WHATSAPP_APP_SECRET=APP_SECRET,
            HEARTH_WHATSAPP_TOKEN=GRAPH_TOKEN,
            HEARTH_WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            HEARTH_WHATSAPP_API_URL=self.graph.url,
            HEARTH_SEARCH_URL=self.search.url,
            HEARTH_OWNERS=",".join(f"whatsapp:+{address(c)}" for c in range(self.chats)),
            HEARTH_RATE_LIMIT_PER_MIN="100000",
            HEARTH_SEND_RETRY_S="0.2",
            HEARTH_DRAIN_TIMEOUT_S="2",
            **self.extra,
        )

    async def start(self) -> None:
        """Start Hearth on the rig's port (the same one every time, as a webhook URL would be)."""
        server = Server(self._env(), self.tmp)
        server.port, server.url = self.port, self.url
        server.env["HEARTH_PORT"] = str(self.port)
        self.server = server
        # Generous: on a loaded machine importing Hearth alone can take many seconds.
        await server.start(ready_timeout_s=START_TIMEOUT_S)

    async def kill(self) -> None:
        """SIGKILL: no drain, no cleanup, whatever was in flight stays as it was."""
        assert self.server is not None
        self.kills_at_s.append(time.monotonic())
        await self.server.kill()

    async def restart(self) -> None:
        await self.kill()
        await self.start()

    async def books(self) -> Books:
        """Kill Hearth (a clean stop is not what is tested, and takes its drain time) and read what
        the store and the provider hold."""
        assert self.server is not None
        await self.server.kill()
        store = await Store.open(self.db_url)
        try:
            chats = await store.read(lambda s: {c.id: c.address for c in s.exec(select(Chat))})
            messages = await store.read(lambda s: list(s.exec(select(Message))))
            replies = await store.read(lambda s: list(s.exec(select(Reply))))
            jobs = await store.read(lambda s: s.exec(select(func.count()).select_from(Job)).one())
        finally:
            await store.close()
        return Books(chats, messages, replies, jobs, self.graph.sends(), list(self.kills_at_s))

    async def settle(self, texts: Iterable[str], timeout_s: float = 60, quiet_s: float = 0.5) -> None:
        """Wait until the provider has a reply for every text, then a little longer for any copy.
        After `timeout_s` give up quietly: what is missing shows in the tally as lost."""
        wanted = set(texts)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while not wanted <= self._provider_answered():
                    await asyncio.sleep(0.05)
        await asyncio.sleep(quiet_s)

    def _provider_answered(self) -> set[str]:
        return {text for send in self.graph.sends() for text in answered_texts(send.text)}


@dataclass(frozen=True)
class Books:
    """The rows and sends of a finished run, to be counted for all chats or one."""

    chats: dict[int | None, str]
    messages: list[Message]
    replies: list[Reply]
    jobs: int
    sends: list[Send]
    kills_at_s: list[float]

    def tally(
        self, fault: str, texts: Iterable[str], chat: int | None = None, window_s: float = 1.0
    ) -> Tally:
        """Count what became of `texts`, of chat number `chat` only when it is given."""
        to = None if chat is None else f"whatsapp:+{address(chat)}"
        ours = {i for i, a in self.chats.items() if to is None or a == to}
        replies = [r.text for r in self.replies if r.chat_id in ours]
        sends = [s for s in self.sends if to is None or s.to == address(chat or 0)]
        result = count(fault, texts, replies, sends, self.kills_at_s, window_s)
        pending = [m for m in self.messages if m.chat_id in ours and m.status != "handled"]
        if pending:
            result.notes.append(f"{len(pending)} messages not handled")
        return result
