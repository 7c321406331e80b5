"""Channels: how messages arrive from a provider and how replies go back to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from assistant.channels.base import SendError
from assistant.types import Outbound

if TYPE_CHECKING:
    from assistant.store.tables import Message

__all__ = ["Channel", "SendError", "Starting"]

# What a channel does when a turn starts on a message of its own (WhatsApp marks it read).
Starting = Callable[["Message"], Awaitable[None]]


class Channel(Protocol):
    """Delivers replies for the chats whose `channel` column carries its name."""

    @property
    def name(self) -> str: ...

    async def send(self, reply: Outbound) -> str | None:
        """Deliver one reply; return the provider's id for it. Raise SendError on failure."""
        ...
