"""The vocabulary shared by every part of Hearth: messages, replies, addresses, tool calls."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

MessageKind = Literal["text", "media", "job"]
# On a message's meta: it carries content someone else may have written (a document, a photo).
UNTRUSTED_META = "untrusted"


@dataclass(frozen=True)
class Address:
    """Who a person is on one kind of network: `whatsapp:+15551234567`, `sms:+1…`, `api:alice`."""

    kind: str
    id: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Address:
        """Read `kind:id`; raise ValueError when either part is missing."""
        kind, sep, ident = text.strip().partition(":")
        if not sep or not kind or not ident:
            raise ValueError(f"{text!r} is not an address of the form kind:id")
        return cls(kind.lower(), ident)


@dataclass(frozen=True)
class Inbound:
    """One message as a channel received it, before it is stored."""

    channel: str
    provider_id: str
    sender: Address
    text: str
    received_at: datetime
    kind: MessageKind = "text"
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outbound:
    """One reply ready to be delivered by its channel."""

    reply_id: int
    channel: str
    to: Address
    text: str
    attempts: int = 0
    meta: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """A file that goes out with a reply, such as one a skill wrote to its outbox."""

    name: str
    data: bytes


@dataclass(frozen=True)
class ToolCall:
    """A request from the model to run one tool."""

    name: str
    arguments: Mapping[str, Any]
