"""What every provider channel shares: parse results, status updates and the two errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from assistant.errors import HearthError
from assistant.types import Address, Inbound


class PayloadError(ValueError):
    """A webhook body that is not the JSON or form the provider documents (answer 400)."""


class SendError(HearthError):
    """A send the provider refused or could not take.

    `retryable` says a later attempt may succeed (rate limits, 5xx, network, timeouts);
    `template_needed` says the person is outside the 24-hour window and only a template
    may reach them; otherwise the failure is permanent. `code` is the provider's error code
    when it gave one, `reason` its message (for logs and `/status`, never for a person).
    """

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        code: str | None = None,
        status: int | None = None,
        template_needed: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.code = code
        self.status = status
        self.template_needed = template_needed
        # Set by split sending: how many parts of a long reply went out before this failure.
        self.delivered_parts = 0

    def __repr__(self) -> str:
        return (
            f"SendError(reason={self.reason!r}, retryable={self.retryable}, code={self.code!r}, "
            f"status={self.status!r}, template_needed={self.template_needed})"
        )


@dataclass(frozen=True)
class StatusUpdate:
    """The provider's news about a message we sent: sent, delivered, read, failed..."""

    provider_id: str
    status: str
    at: datetime | None = None
    error_code: str | None = None
    error_title: str | None = None


@dataclass(frozen=True)
class WebhookBatch:
    """Everything one webhook delivery carried, plus notes on the parts that were skipped."""

    messages: tuple[Inbound, ...] = ()
    statuses: tuple[StatusUpdate, ...] = ()
    skipped: tuple[str, ...] = ()


class TextSender(Protocol):
    """A provider client able to deliver one text of at most `limit` characters."""

    limit: int

    async def send_text(self, to: Address, text: str) -> str:
        """Deliver `text` to `to` and return the provider's message id; raise SendError."""
        ...
