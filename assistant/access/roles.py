"""Which role a chat acts with: `owner`, `member`, or none (a stranger, or someone revoked).

The HTTP API and the terminal are the owner's. On WhatsApp and Twilio the sender's addresses
decide: one listed in HEARTH_OWNERS is the owner, one approved through pairing is a member, and
acts with the policy the owner gave them (`member` unless a named one). A job has no sender, so its
chat's latest message from its person stands in, checked at fire time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from assistant.store import Store, inbox, pairing
from assistant.store.tables import Chat, Message
from assistant.types import Address

# Chats on these channels come from the outside world; every other chat (API, terminal) is the owner's.
PROVIDER_CHANNELS = frozenset({"whatsapp", "twilio"})


@dataclass(frozen=True)
class Admission:
    """Who may talk to Hearth, and how much: the settings access control reads."""

    owners: frozenset[str]
    strangers: Literal["pairing", "ignore"] = "pairing"
    rate_limit_per_min: int = 20
    sms_owner_pin: str = ""


def admission_from(
    owners: Iterable[Address], strangers: str, rate_limit_per_min: int, sms_owner_pin: str = ""
) -> Admission:
    mode: Literal["pairing", "ignore"] = "ignore" if strangers == "ignore" else "pairing"
    return Admission(frozenset(str(a) for a in owners), mode, rate_limit_per_min, sms_owner_pin)


def sender_addresses(chat: Chat, messages: Iterable[Message]) -> tuple[str, ...]:
    """Every address the chat's person goes by: the chat's own, then WhatsApp user id and phone."""
    if chat.channel != "whatsapp":
        return (chat.address,)
    # A batch is mostly one person's messages: each id is made an address once.
    values = dict.fromkeys(
        value for message in messages for key in ("user_id", "wa_id") if (value := message.meta.get(key))
    )
    found = [chat.address]
    found.extend(str(Address("whatsapp", v if "." in v else f"+{v}")) for v in values)
    return tuple(dict.fromkeys(found))


def is_owner(addresses: Iterable[str], owners: frozenset[str]) -> bool:
    return any(address in owners for address in addresses)


async def role_of(
    store: Store, chat: Chat, messages: Iterable[Message], owners: frozenset[str]
) -> str | None:
    """The role of the person behind `messages` in `chat`: `owner`, the member's policy (`member`
    or a named one), or None for no access."""
    if chat.channel not in PROVIDER_CHANNELS:
        return "owner"
    addresses = sender_addresses(chat, messages)
    if is_owner(addresses, owners):
        return "owner"
    policy = await pairing.policy_of(store, addresses)
    # Stored by the dashboard, which never offers `owner`; should a row say so anyway, it is a member.
    return "member" if policy == "owner" else policy


async def role_of_chat(store: Store, chat: Chat, owners: frozenset[str]) -> str | None:
    """The role a job of `chat` acts with now (its person's latest message tells their addresses)."""
    assert chat.id is not None
    latest = await inbox.latest_from_person(store, chat.id)
    return await role_of(store, chat, [latest] if latest else [], owners)
