"""`hearth doctor --model`: the probe conversations through the real agent, with the real tools on a
throwaway database, against the configured model; a table, a score, and the first-turn time."""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from assistant.agent.builtins import GetTime
from assistant.agent.model import Model, ModelReply, OllamaModel, model_options
from assistant.agent.more import MoreTools
from assistant.agent.offer import Offer
from assistant.agent.tools import Result, Tool, ToolContext, ToolError, ToolRegistry
from assistant.agent.turn import Agent, TurnInput
from assistant.jobs import tools as job_tools
from assistant.jobs.rules import new_job
from assistant.jobs.service import JobService
from assistant.jobs.triggers import TriggerSpec, parse_trigger
from assistant.memory.factbook import FactBook
from assistant.memory.tools import fact_tools
from assistant.ops.probes import PROBES, Probe, Seen, got
from assistant.settings import Settings
from assistant.store import Store
from assistant.store.columns import utcnow
from assistant.store.tables import Chat, Job

DEFAULT_THRESHOLD = 0.75
GOOD_MODELS = ("qwen3:8b", "qwen3:4b", "qwen2.5:7b", "llama3.1:8b")


class NoTimer:
    """Jobs made during the check are never armed: nothing fires."""

    def put(self, job_id: int, spec: TriggerSpec, next_at: datetime) -> None: ...

    def later(self, job_id: int, at: datetime) -> None: ...

    def drop(self, job_id: int) -> None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Flaky:
    """get_time that fails its first call, as a busy service might: the model should try again."""

    def __init__(self, tool: Tool) -> None:
        self.tool, self.calls = tool, 0
        self.name, self.description, self.parameters = tool.name, tool.description, tool.parameters

    async def call(self, args: Mapping[str, Any], ctx: ToolContext) -> str | Result:
        self.calls += 1
        if self.calls == 1:
            raise ToolError("the clock service did not answer in time; try the call again")
        return await self.tool.call(args, ctx)


class Timed:
    """The model, timing the first request of each conversation and noting its tool specs' size."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.first_s: float | None = None
        self.first_tokens = 0
        self.first_spec_chars = 0

    @property
    def name(self) -> str:
        return self.model.name

    async def chat(
        self, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]] | None
    ) -> ModelReply:
        started = time.perf_counter()
        reply = await self.model.chat(messages, tools)
        if self.first_s is None:
            self.first_s = time.perf_counter() - started
            self.first_tokens = reply.prompt_tokens
            self.first_spec_chars = len(json.dumps(list(tools or [])))
        return reply


@dataclass(frozen=True)
class Row:
    probe: Probe
    got: str
    ok: bool
    first_s: float
    first_tokens: int
    first_spec_chars: int


async def _chat(store: Store, number: int, zone: str) -> int:
    def add(session: Session) -> int:
        chat = Chat(channel="doctor", address=f"probe-{number}", timezone=zone, created_at=utcnow())
        session.add(chat)
        session.flush()
        assert chat.id is not None
        return chat.id

    return await store.write(add)


async def _timezone(store: Store, chat_id: int) -> str | None:
    return await store.read(lambda s: (s.get(Chat, chat_id) or Chat(channel="", address="")).timezone)


async def run_probe(
    store: Store, model: Model, probe: Probe, number: int, settings: Settings, use_tools: bool
) -> Row:
    """One probe in a fresh chat: its jobs set up, one turn, then what the store holds."""
    zone, now = str(settings.timezone), utcnow()
    chat_id = await _chat(store, number, zone)
    service = JobService(store, clock=utcnow, notify=lambda _: None, wake=lambda: None, timer=NoTimer())
    for text, cron in probe.jobs:
        await service.add(
            new_job(chat_id, "reminder", text, parse_trigger(None, None, cron, zone, now), 3600, "doctor")
        )
    clock: Tool = Flaky(GetTime()) if probe.flaky else GetTime()
    book = FactBook(store)
    registry = ToolRegistry([clock, *job_tools.tools(service, settings.job_grace_s), *fact_tools(book)])
    offer = Offer(settings.tool_specs_max_chars)
    registry.add(MoreTools(offer, registry))
    timed = Timed(model)
    agent = Agent(
        timed,
        registry,
        num_ctx=settings.num_ctx,
        max_steps=settings.max_steps,
        use_tools=use_tools,
        offer=offer,
    )
    context = ToolContext(chat_id, f"doctor:probe-{number}", settings.timezone, now)
    result = await agent.answer(TurnInput([], [probe.message], context))
    seen = Seen(
        calls=result.tool_calls,
        text=result.text,
        jobs=await _jobs(store, chat_id),
        facts=[fact.text for fact in await book.all(chat_id)],
        timezone=await _timezone(store, chat_id),
        now=now,
        flaky_calls=clock.calls if isinstance(clock, Flaky) else 0,
    )
    return Row(
        probe, got(seen), probe.check(seen), timed.first_s or 0.0, timed.first_tokens, timed.first_spec_chars
    )


async def _jobs(store: Store, chat_id: int) -> list[Job]:
    """Every job of the chat, cancelled ones too, so a cancel can be seen."""
    query = select(Job).where(Job.chat_id == chat_id).order_by(col(Job.id))
    return await store.read(lambda s: list(s.exec(query)))


async def run_all(settings: Settings, probes: Sequence[Probe] = PROBES) -> list[Row]:
    """Every probe against the configured model; ModelUnavailable or ModelMissing when it cannot answer."""
    model = OllamaModel(model_options(settings))
    try:
        info = await model.info()
        model.thinking = "thinking" in info.capabilities
        with tempfile.TemporaryDirectory(prefix="hearth-modelcheck-") as folder:
            store = await Store.open(f"sqlite:///{Path(folder) / 'probes.db'}")
            try:
                return [
                    await run_probe(store, model, p, n, settings, info.tools) for n, p in enumerate(probes, 1)
                ]
            finally:
                await store.close()
    finally:
        await model.close()


def table(rows: Sequence[Row]) -> list[str]:
    lines = [f"{'probe':<20} {'expected':<40} {'got':<60} pass", "-" * 126]
    lines += [
        f"{r.probe.name:<20} {r.probe.expected:<40} {r.got:<60} {'yes' if r.ok else 'NO'}" for r in rows
    ]
    return lines


def summary(rows: Sequence[Row], model: str, threshold: float) -> tuple[list[str], bool]:
    """The score, the first-turn time, and (below the threshold) what to try instead."""
    passed = sum(row.ok for row in rows)
    share = passed / len(rows) if rows else 0.0
    first = rows[0] if rows else None
    lines = [f"score: {passed}/{len(rows)} ({share:.0%}) for {model}; passing needs {threshold:.0%}"]
    if first is not None:
        median = statistics.median(row.first_s for row in rows)
        lines.append(
            f"first turn: {first.first_s:.2f} s for the first request of a conversation "
            f"({first.first_tokens} prompt tokens, {first.first_spec_chars} characters of tool specs); "
            f"median first request over the probes {median:.2f} s"
        )
    ok = share >= threshold
    if not ok:
        others = [name for name in GOOD_MODELS if name != model]
        suggestion = ", ".join(others[:-1]) + f" or {others[-1]}"
        lines.append(
            f"{model} often gets Hearth's tools wrong; try a model good at tools, such as {suggestion}"
        )
    return lines, ok


async def run(settings: Settings, threshold: float = DEFAULT_THRESHOLD) -> int:
    """Print the table and the score; 0 when the score reaches `threshold`."""
    print(f"checking {settings.model} at {settings.ollama_url} with {len(PROBES)} conversations…", flush=True)
    rows = await run_all(settings)
    lines, ok = summary(rows, settings.model, threshold)
    print("\n".join([*table(rows), "", *lines]))
    return 0 if ok else 1
