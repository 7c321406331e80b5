"""What happens to a chat's pending messages: a command, or an agent turn; then the outbox."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from assistant.agent.tools import ToolContext, Trust
from assistant.agent.turn import Agent, TurnInput, TurnResult
from assistant.backoff import backoff_s
from assistant.commands import Commands
from assistant.errors import ModelMissing, ModelUnavailable
from assistant.media.outbound import Composed, Composer
from assistant.media.service import MediaService
from assistant.memory.service import Memory
from assistant.metrics import Metrics
from assistant.store import Store, inbox, jobs, rows, views
from assistant.store.tables import Chat, Message, Turn
from assistant.types import UNTRUSTED_META

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
HISTORY_LIMIT = 200
# Messages the model must not see again: still pending, or refused or rate-limited by access control.
MODEL_DOWN = (
    "The assistant's model is not available right now. "
    "I have your message and will answer as soon as it is back."
)
SORRY = "Sorry, something went wrong on my side and I could not answer that."


class Handled:
    """Futures keyed by message id, resolved when a turn closes that message."""

    def __init__(self) -> None:
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}

    @contextmanager
    def watch(self, message_id: int) -> Iterator[asyncio.Future[None]]:
        """Register before checking the database, so a turn closing in between is not missed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(message_id, []).append(future)
        try:
            yield future
        finally:
            waiters = self._waiters.get(message_id, [])
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._waiters.pop(message_id, None)

    def waiting(self) -> list[int]:
        """The message ids someone waits on now."""
        return list(self._waiters)

    def release(self) -> None:
        """Stop every wait now (the server is shutting down); the waiters read the status as it is."""
        self.fire(list(self._waiters))

    def fire(self, message_ids: Iterable[int]) -> None:
        for message_id in message_ids:
            for future in self._waiters.pop(message_id, []):
                if not future.done():
                    future.set_result(None)


@dataclass(frozen=True)
class TurnEnd:
    """What listeners hear once a turn is recorded: `status` is "handled", "failed" or "deferred"."""

    turn: Turn
    messages: Sequence[Message]
    status: str
    result: TurnResult | None = None


Listener = Callable[[TurnEnd], Awaitable[None]]
# Runs inside the transaction that records a closed turn (the turn has its id by then).
Recorder = Callable[[Session, TurnEnd], None]


@dataclass(frozen=True)
class Screened:
    """The messages that go on past access control, and the role their chat acts with."""

    messages: list[Message]
    role: str = "owner"


class Screen(Protocol):
    """Runs before commands and the agent (access control); returns the messages that go on."""

    async def screen(self, chat: Chat, batch: list[Message]) -> Screened: ...


class Pipeline:
    """Decides what each batch of messages gets and records the outcome in one transaction."""

    def __init__(
        self,
        store: Store,
        agent: Agent,
        commands: Commands,
        *,
        timezone: ZoneInfo,
        retry_s: float,
        clock: Clock,
        metrics: Metrics,
        handled: Handled,
        on_reply: Callable[[], None],
        listeners: Sequence[Listener] = (),
        recorders: Sequence[Recorder] = (),
        memory: Memory | None = None,
        screen: Screen | None = None,
        media: MediaService | None = None,
        composer: Composer | None = None,
        read_back: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store
        self.agent = agent
        self.commands = commands
        self.timezone = timezone
        self.retry_s = retry_s
        self.clock = clock
        self.metrics = metrics
        self.handled = handled
        self.on_reply = on_reply
        self.listeners = listeners
        self.recorders = recorders
        self.memory = memory
        self.screen = screen
        self.media = media
        self.composer = composer
        # Channels whose replies are delivered by being written: their clients read them back.
        self.read_back = read_back

    async def handle(self, chat: Chat, batch: list[Message]) -> None:
        """Handle the oldest command alone, or the run of plain messages before the next command."""
        role = "owner"
        if self.screen is not None:
            screened = await self.screen.screen(chat, batch)
            batch, role = screened.messages, screened.role
            if not batch:
                return
        if self.media is not None:
            try:
                batch = await self.media.prepare(chat, batch)
            except (ModelUnavailable, ModelMissing) as exc:
                # Whether the model sees images is Ollama's to say; ask again when it is back.
                turn = Turn(chat_id=chat.id or 0, kind="media", started_at=self.clock())
                await self._defer(turn, batch, exc)
                return
            if not batch:
                return
        if self.commands.matches(batch[0].text):
            await self._command(chat, batch[0], role)
            return
        group = list(takewhile(lambda m: not self.commands.matches(m.text), batch))
        await self._agent(chat, group, role)

    async def _command(self, chat: Chat, message: Message, role: str) -> None:
        started = self.clock()
        text = await self.commands.run(message.text, chat, started, role)
        turn = Turn(chat_id=chat.id or 0, kind="command", started_at=started)
        await self._close(turn, [message], [text])

    async def _context(self, chat: Chat, group: list[Message], now: datetime, role: str) -> ToolContext:
        """The turn's context: its chat, its key (the first message), and whom it acts for. A turn of
        scheduled tasks alone is unattended: it may use only the effects its jobs were approved for."""
        tz = ZoneInfo(chat.timezone) if chat.timezone else self.timezone
        trust = Trust(role=role)
        if all(m.kind == "job" for m in group):
            job_ids = [int(m.meta.get("job_id") or 0) for m in group]
            granted = await jobs.approved_tools(self.store, job_ids)
            trust = Trust(role=role, unattended=True, approved_tools=frozenset.intersection(*granted))
        key = f"{chat.channel}:{chat.address}"
        return ToolContext(chat.id or 0, key, tz, now, trust=trust, turn_key=f"m{group[0].id}")

    async def _input(self, chat: Chat, group: list[Message], now: datetime, role: str) -> TurnInput:
        assert chat.id is not None
        new, context = [m.text for m in group], await self._context(chat, group, now, role)
        images = await self.media.images(group) if self.media is not None else []
        untrusted = any(m.meta.get(UNTRUSTED_META) for m in group)
        if self.memory is not None:
            specs = self.agent.offered(context, new)
            history, remembered = await self.memory.prepare(chat, new, context, specs)
            return TurnInput(history, new, context, remembered, images, untrusted, specs)
        after = views.After(chat.history_from_at)
        history = await views.history(self.store, chat.id, after, HISTORY_LIMIT)
        return TurnInput(history, new, context, images=images, untrusted=untrusted)

    async def _agent(self, chat: Chat, group: list[Message], role: str) -> None:
        started = self.clock()
        model = self.agent.model.name
        turn = rows.new_row(Turn, chat_id=chat.id or 0, kind="agent", model=model, started_at=started)
        begun = time.perf_counter()
        try:
            data = await self._input(chat, group, started, role)
            result = await self.agent.answer(data)
            composed = await self._compose(chat, group, result.text, data)
        except (ModelUnavailable, ModelMissing) as exc:
            await self._defer(turn, group, exc)
            return
        except Exception:
            logger.exception("turn for chat %s failed", chat.id)
            turn.error = "internal error"
            self.metrics.turn_failures.inc()
            await self._close(turn, group, [SORRY], status="failed")
            return
        self.metrics.model_seconds.observe(time.perf_counter() - begun)
        _record(turn, result)
        carried = inbox.Carried(composed.files, composed.meta)
        await self._close(turn, group, [composed.text], result=result, carried=carried)

    async def _compose(self, chat: Chat, group: list[Message], text: str, data: TurnInput) -> Composed:
        """The reply with the files the turn's tools attached and, when asked for, its voice."""
        if self.composer is None:
            return Composed(text)
        return await self.composer.compose(chat, group, text, data.context.files)

    async def _tell(self, end: TurnEnd) -> None:
        """Every listener hears of the turn; a listener's failure never fails the turn."""
        for listener in self.listeners:
            try:
                await listener(end)
            except Exception:
                logger.exception("a turn listener failed for turn %s", end.turn.id)

    async def _defer(self, turn: Turn, group: list[Message], exc: Exception) -> None:
        attempts = max(m.attempts for m in group) + 1
        delay_s = backoff_s(attempts, self.retry_s)
        turn.error = _reason(exc)
        logger.warning("%s; retrying chat %s in %.1f s", turn.error, turn.chat_id, delay_s)
        self.metrics.turn_failures.inc()
        turn.finished_at = self.clock()
        notice = MODEL_DOWN if any(m.attempts == 0 for m in group) else None
        ids = [m.id for m in group if m.id is not None]
        await inbox.defer(self.store, turn, ids, turn.finished_at + timedelta(seconds=delay_s), notice)
        if notice:
            self.on_reply()
        await self._tell(TurnEnd(turn, group, "deferred"))

    async def _close(
        self,
        turn: Turn,
        group: Sequence[Message],
        replies: list[str],
        status: str = "handled",
        result: TurnResult | None = None,
        carried: inbox.Carried = inbox.Carried(),  # noqa: B008 (frozen, so one shared default is safe)
    ) -> None:
        turn.finished_at = self.clock()
        turn.duration_ms = int((turn.finished_at - turn.started_at).total_seconds() * 1000)
        ids = [m.id for m in group if m.id is not None]
        end = TurnEnd(turn, group, status, result)
        delivered = bool(replies) and all(m.channel in self.read_back for m in group)
        carried = dataclasses.replace(carried, delivered=delivered)

        def record(session: Session) -> None:
            for recorder in self.recorders:
                recorder(session, end)

        await inbox.finish_turn(self.store, turn, ids, replies, status, carried, record)
        self.metrics.turns.inc()
        self.metrics.handled.inc(len(ids))
        self.metrics.turn_seconds.observe(turn.duration_ms / 1000)
        if delivered:
            self.metrics.sent.inc(len(replies))
        else:
            self.on_reply()
        await self._tell(end)
        self.handled.fire(ids)


def _reason(exc: Exception) -> str:
    """Why a turn waits, for the log and the dashboard: a missing model says how to get it back."""
    if isinstance(exc, ModelMissing):
        return f"model missing: Ollama does not have {exc}; run `hearth pull`"
    return f"model unavailable: {exc}"


def _record(turn: Turn, result: TurnResult) -> None:
    turn.steps = result.steps
    turn.prompt_tokens = result.prompt_tokens
    turn.eval_tokens = result.eval_tokens
