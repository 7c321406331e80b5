"""Who may talk to Hearth: owners, approved strangers, pairing codes, and a per-sender rate limit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, select

from assistant.channels import Starting
from assistant.commands import CommandContext, Commands
from assistant.store import Store, inbox, pairing
from assistant.store.tables import Chat, Message, Reply, Turn
from assistant.types import Address

logger = logging.getLogger(__name__)

# Chats on these channels come from the outside world; every other chat (API, terminal) is the owner's.
PROVIDER_CHANNELS = frozenset({"whatsapp", "twilio"})
RATE_WINDOW = timedelta(minutes=1)

PAIRING_REPLY = (
    "Hi! I only talk to people my owner has approved. I've passed your request on; "
    "your code is {code} (valid for one hour)."
)
OWNER_NOTICE = "{address} would like to talk to me. Send /approve {code} to let them in (valid for one hour)."
WELCOME = "You're approved: you can talk to me now."
SLOW_DOWN = "You're sending messages faster than I can answer, so I'm skipping some. Please wait a minute."
NOT_OWNER = "Only my owner can do that."

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Policy:
    owners: frozenset[str]
    strangers: Literal["pairing", "ignore"] = "pairing"
    rate_limit_per_min: int = 20


def sender_addresses(chat: Chat, messages: Iterable[Message]) -> tuple[str, ...]:
    """Every address the chat's person goes by: the chat's own, then WhatsApp user id and phone."""
    found = [chat.address]
    if chat.channel == "whatsapp":
        for message in messages:
            for value in (message.meta.get("user_id"), message.meta.get("wa_id")):
                if value:
                    text = str(Address("whatsapp", value if "." in value else f"+{value}"))
                    found.append(text)
    return tuple(dict.fromkeys(found))


def is_owner(addresses: Iterable[str], owners: frozenset[str]) -> bool:
    return any(address in owners for address in addresses)


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


@dataclass
class Gate:
    """Screens each batch before commands and the agent; refused messages are closed here."""

    store: Store
    policy: Policy
    clock: Clock
    on_reply: Callable[[], None] = lambda: None
    starting: Mapping[str, Starting] = field(default_factory=dict)
    owner_chats: set[int] = field(default_factory=set)

    async def screen(self, chat: Chat, batch: list[Message]) -> list[Message]:
        """The messages that go on to commands and the agent; the rest are answered or dropped."""
        assert chat.id is not None
        if chat.channel not in PROVIDER_CHANNELS:
            self.owner_chats.add(chat.id)
            return batch
        people = [m for m in batch if m.kind != "job"]
        if not people:
            return batch  # jobs were scheduled by someone who had access at the time
        addresses = sender_addresses(chat, people)
        if is_owner(addresses, self.policy.owners):
            self.owner_chats.add(chat.id)
        elif not await pairing.approved(self.store, addresses):
            await self._stranger(chat, people, addresses)
            return [m for m in batch if m.kind == "job"]
        passed = await self._rate_limit(chat, batch)
        if chat.channel in self.starting and (latest := [m for m in passed if m.kind != "job"]):
            await self.starting[chat.channel](latest[-1])
        return passed

    async def _stranger(self, chat: Chat, batch: list[Message], addresses: Sequence[str]) -> None:
        replies: list[str] = []
        if self.policy.strangers == "pairing":
            asked = await pairing.request(self.store, chat.id or 0, addresses, self.clock())
            if asked.new and asked.code:
                replies.append(PAIRING_REPLY.format(code=asked.code))
                await self._tell_owners(OWNER_NOTICE.format(address=chat.address, code=asked.code))
            elif asked.code is None:
                logger.warning("pairing request from %s dropped: too many pending", chat.address)
        logger.info("message from stranger %s not answered by the model", chat.address)
        await self._close(chat, batch, replies, "refused")

    async def _rate_limit(self, chat: Chat, batch: list[Message]) -> list[Message]:
        earliest = min(m.created_at for m in batch) - RATE_WINDOW
        query = (
            select(Message.id, Message.created_at)
            .where(Message.chat_id == chat.id, Message.kind != "job", col(Message.created_at) > earliest)
            .order_by(col(Message.id))
        )
        rows = await self.store.read(lambda s: list(s.exec(query)))
        flags = over_limit([at for _, at in rows], self.policy.rate_limit_per_min)
        limited = {row_id for (row_id, _), flag in zip(rows, flags, strict=True) if flag}
        told = {row_id for (row_id, _), first in zip(rows, first_of_runs(flags), strict=True) if first}
        dropped = [m for m in batch if m.id in limited]
        if dropped:
            tell = [SLOW_DOWN] if any(m.id in told for m in dropped) else []
            logger.info("rate limit: %d messages from chat %s not answered", len(dropped), chat.id)
            await self._close(chat, dropped, tell, "limited")
        return [m for m in batch if m.id not in limited]

    async def _close(self, chat: Chat, messages: list[Message], replies: list[str], status: str) -> None:
        now = self.clock()
        turn = Turn(chat_id=chat.id or 0, kind="access", started_at=now, finished_at=now, duration_ms=0)
        await inbox.finish_turn(
            self.store, turn, [m.id for m in messages if m.id is not None], replies, status
        )
        if replies:
            self.on_reply()

    async def _tell_owners(self, text: str) -> None:
        query = select(Chat).where(
            col(Chat.channel).in_(PROVIDER_CHANNELS),
            col(Chat.address).in_(self.policy.owners) | col(Chat.id).in_(self.owner_chats),
        )
        now = self.clock()

        def tell(session: Session) -> int:
            chats = list(session.exec(query))
            session.add_all(Reply(chat_id=c.id or 0, text=text, created_at=now) for c in chats)
            return len(chats)

        told = await self.store.write(tell)
        logger.warning("%s (told %d owner chats)", text, told)
        self.on_reply()

    def add_commands(self, commands: Commands) -> None:
        commands.add("approve", "let a person in with their pairing code (owner only)", self._approve)
        commands.add(
            "revoke", "take back a person's access: /revoke whatsapp:+1555… (owner only)", self._revoke
        )

    async def _approve(self, ctx: CommandContext) -> str:
        if ctx.chat.id not in self.owner_chats:
            return NOT_OWNER
        row = await pairing.approve(self.store, ctx.args, ctx.now, WELCOME)
        if row is None:
            return "No request has that code (codes last one hour). Send /approve CODE."
        return f"Approved: {row.address} can talk to me now."

    async def _revoke(self, ctx: CommandContext) -> str:
        if ctx.chat.id not in self.owner_chats:
            return NOT_OWNER
        try:
            address = str(Address.parse(ctx.args))
        except ValueError:
            return "Send /revoke followed by an address, such as /revoke whatsapp:+15551234567."
        count = await pairing.revoke(self.store, address, ctx.now)
        return f"Revoked: {address} can no longer talk to me." if count else f"{address} had no access."


def policy_from(owners: Iterable[Address], strangers: str, rate_limit_per_min: int) -> Policy:
    mode: Literal["pairing", "ignore"] = "ignore" if strangers == "ignore" else "pairing"
    return Policy(frozenset(str(a) for a in owners), mode, rate_limit_per_min)
