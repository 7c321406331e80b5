"""Channels: how messages arrive from a provider and how replies go back to it."""

from __future__ import annotations

from typing import Protocol

from assistant.errors import HearthError
from assistant.types import Outbound


class SendError(HearthError):
    """A reply could not be delivered. `retryable` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code


class Channel(Protocol):
    """Delivers replies for the chats whose `channel` column carries its name."""

    @property
    def name(self) -> str: ...

    async def send(self, reply: Outbound) -> str | None:
        """Deliver one reply; return the provider's id for it. Raise SendError on failure."""
        ...
