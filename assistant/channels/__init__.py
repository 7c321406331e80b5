"""Channels: how messages arrive from a provider and how replies go back to it."""

from __future__ import annotations

from typing import Protocol

from assistant.channels.base import SendError
from assistant.types import Outbound

__all__ = ["Channel", "SendError"]


class Channel(Protocol):
    """Delivers replies for the chats whose `channel` column carries its name."""

    @property
    def name(self) -> str: ...

    async def send(self, reply: Outbound) -> str | None:
        """Deliver one reply; return the provider's id for it. Raise SendError on failure."""
        ...
