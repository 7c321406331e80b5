"""Who may talk to Hearth: owners, members approved through pairing, strangers, the rate limit, the
daily token allowance, and the PIN an SMS owner adds. Every batch passes here before commands and
the agent, and leaves with the role its chat acts with."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from assistant.access.policy import DEFAULT_POLICY, Policy
from assistant.access.roles import PROVIDER_CHANNELS, Admission, role_of, role_of_chat, sender_addresses
from assistant.channels import Starting
from assistant.pipeline import Screened
from assistant.store import Store, inbox, jobs, pairing, rows, runs
from assistant.store.tables import Chat, Message, Reply, Turn

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(minutes=1)
TOKEN_WINDOW = timedelta(days=1)

PAIRING_REPLY = (
    "Hi! I only talk to people my owner has approved. I've passed your request on; "
    "your code is {code} (valid for one hour)."
)
OWNER_NOTICE = "{address} would like to talk to me. Send /approve {code} to let them in (valid for one hour)."
SLOW_DOWN = "You're sending messages faster than I can answer, so I'm skipping some. Please wait a minute."
ALLOWANCE = "You have used today's allowance of the assistant's model; I'll answer again tomorrow."
PIN_NEEDED = "End owner messages sent by SMS with your PIN."

Clock = Callable[[], datetime]


def over_limit(times: Sequence[datetime], limit: int, window: timedelta = RATE_WINDOW) -> list[bool]:
    """For messages arriving at `times` (in order): is each one beyond `limit` in the `window` up to it?"""
    flags: list[bool] = []
    start = 0
    for index, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        flags.append(index - start + 1 > limit)
    return flags


def first_of_runs(flags: Sequence[bool]) -> list[bool]:
    """True where a run of limited messages begins: the one message whose sender is told."""
    return [flag and (index == 0 or not flags[index - 1]) for index, flag in enumerate(flags)]


def without_pin(text: str, pin: str) -> str | None:
    """`text` with the trailing PIN removed, or None when it does not end with the PIN."""
    stripped = text.rstrip()
    if not pin or not stripped.endswith(pin):
        return None
    return stripped[: -len(pin)].rstrip()


@dataclass
class Gate:
    """Screens each batch before commands and the agent; refused messages are closed here."""

    store: Store
    admission: Admission
    clock: Clock
    on_reply: Callable[[], None] = lambda: None
    starting: Mapping[str, Starting] = field(default_factory=dict)
    owner_chats: set[int] = field(default_factory=set)
    policy: Policy = DEFAULT_POLICY

    async def screen(self, chat: Chat, batch: list[Message]) -> Screened:
        """The messages that go on to commands and the agent, with their chat's role."""
        assert chat.id is not None
        people = [m for m in batch if m.kind != "job"]
        if people:
            role = await role_of(self.store, chat, people, self.admission.owners)
        else:
            role = await role_of_chat(self.store, chat, self.admission.owners)
        if role is None:
            await self._no_access(chat, batch)
            return Screened([])
        if role == "owner":
            self.owner_chats.add(chat.id)
            batch = await self._pin(chat, batch)
        if chat.channel in PROVIDER_CHANNELS:
            batch = await self._rate_limit(chat, batch)
        passed = await self._allowance(chat, batch, role)
        if chat.channel in self.starting and (latest := [m for m in passed if m.kind != "job"]):
            await self.starting[chat.channel](latest[-1])
        return Screened(passed, role)

    async def _no_access(self, chat: Chat, batch: list[Message]) -> None:
        """A stranger's messages never reach the model; the jobs of a chat that lost access pause."""
        people = [m for m in batch if m.kind != "job"]
        if people:
            await self._stranger(chat, people, sender_addresses(chat, people))
        runs_of_jobs = [m for m in batch if m.kind == "job"]
        if runs_of_jobs:
            paused = await jobs.pause_chat(self.store, chat.id or 0)
            logger.warning("chat %s has no access any more; paused its %d jobs", chat.id, paused)
            await self._close(chat, runs_of_jobs, [], "refused")

    async def _stranger(self, chat: Chat, batch: list[Message], addresses: Sequence[str]) -> None:
        replies: list[str] = []
        if self.admission.strangers == "pairing":
            asked = await pairing.request(self.store, chat.id or 0, addresses, self.clock())
            if asked.new and asked.code:
                replies.append(PAIRING_REPLY.format(code=asked.code))
                await self.tell_owners(OWNER_NOTICE.format(address=chat.address, code=asked.code))
                # The code is a credential: the log says only that one was made.
                logger.warning("%s asked to talk to Hearth; the owners were told", chat.address)
            elif asked.code is None:
                logger.warning("pairing request from %s dropped: its channel has too many", chat.address)
        logger.info("message from stranger %s not answered by the model", chat.address)
        await self._close(chat, batch, replies, "refused")

    async def _pin(self, chat: Chat, batch: list[Message]) -> list[Message]:
        """With HEARTH_SMS_OWNER_PIN set, an owner's SMS counts only if it ends with the PIN, which
        is removed before anything else reads the message (the model never sees it)."""
        pin = self.admission.sms_owner_pin
        if not pin or not chat.address.startswith("sms:"):
            return batch
        kept: list[Message] = []
        for message in batch:
            if message.kind == "job":
                kept.append(message)
            elif (text := without_pin(message.text, pin)) is None:
                logger.warning("an SMS from owner address %s without the PIN was refused", chat.address)
                await self._close(chat, [message], [PIN_NEEDED], "refused")
            else:
                message.text = text
                await inbox.set_text(self.store, message.id or 0, text)
                kept.append(message)
        return kept

    async def _rate_limit(self, chat: Chat, batch: list[Message]) -> list[Message]:
        if not batch:
            return batch
        earliest = min(m.created_at for m in batch) - RATE_WINDOW
        query = (
            select(Message.id, Message.created_at)
            .where(Message.chat_id == chat.id, Message.kind != "job", col(Message.created_at) > earliest)
            .order_by(col(Message.id))
        )
        rows = await self.store.read(lambda s: list(s.exec(query)))
        flags = over_limit([at for _, at in rows], self.admission.rate_limit_per_min)
        limited = {row_id for (row_id, _), flag in zip(rows, flags, strict=True) if flag}
        told = {row_id for (row_id, _), first in zip(rows, first_of_runs(flags), strict=True) if first}
        dropped = [m for m in batch if m.id in limited]
        if dropped:
            tell = [SLOW_DOWN] if any(m.id in told for m in dropped) else []
            logger.info("rate limit: %d messages from chat %s not answered", len(dropped), chat.id)
            await self._close(chat, dropped, tell, "limited")
        return [m for m in batch if m.id not in limited]

    async def _allowance(self, chat: Chat, batch: list[Message], role: str) -> list[Message]:
        """The role's model tokens per day hold for people and jobs alike (0: no limit)."""
        cap = self.policy.role(role).tokens_per_day
        if not cap or not batch:
            return batch
        used = await runs.tokens_since(self.store, chat.id or 0, self.clock() - TOKEN_WINDOW)
        if used < cap:
            return batch
        logger.info("chat %s used %d model tokens in a day (allowance %d)", chat.id, used, cap)
        await self._close(chat, batch, [ALLOWANCE], "limited")
        return []

    async def _close(self, chat: Chat, messages: list[Message], replies: list[str], status: str) -> None:
        now = self.clock()
        turn = rows.new_row(
            Turn, chat_id=chat.id or 0, kind="access", started_at=now, finished_at=now, duration_ms=0
        )
        await inbox.finish_turn(
            self.store, turn, [m.id for m in messages if m.id is not None], replies, status
        )
        if replies:
            self.on_reply()

    async def tell_owners(self, text: str, about: str = "a pairing request") -> None:
        """Queue `text` to every owner chat: chats at an owner's address, and chats owners wrote from
        since Hearth started; `about` names it in the log."""
        query = select(Chat).where(
            col(Chat.channel).in_(PROVIDER_CHANNELS),
            col(Chat.address).in_(self.admission.owners) | col(Chat.id).in_(self.owner_chats),
        )
        now = self.clock()

        def tell(session: Session) -> int:
            chats = list(session.exec(query))
            session.add_all(Reply(chat_id=c.id or 0, text=text, created_at=now) for c in chats)
            return len(chats)

        told = await self.store.write(tell)
        logger.info("told %d owner chats of %s", told, about)
        self.on_reply()
