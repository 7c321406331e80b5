"""WhatsApp's 24-hour customer service window: when a reply must go out as a template."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from assistant.channels.base import StatusUpdate
from assistant.types import Address

WINDOW = timedelta(hours=24)
# Leave room for the send itself and for clocks that disagree a little.
MARGIN = timedelta(minutes=5)
# Codes that mean "free-form refused: outside the window" (Cloud API, Twilio).
TEMPLATE_CODES = frozenset({"131047", "63016"})

Delivery = Literal["text", "template", "outside_window"]


def within_window(last_inbound_at: datetime | None, now: datetime) -> bool:
    """True while a free-form message may still reach the person."""
    if last_inbound_at is None:
        return False
    return now - last_inbound_at < WINDOW - MARGIN


def delivery_for(
    to: Address, last_inbound_at: datetime | None, now: datetime, *, has_template: bool
) -> Delivery:
    """How to send a reply: as text, as the configured template, or not at all.

    Only WhatsApp has the window; SMS and other kinds always go as text.
    """
    if to.kind != "whatsapp" or within_window(last_inbound_at, now):
        return "text"
    return "template" if has_template else "outside_window"


def needs_template(update: StatusUpdate) -> bool:
    """True when a status update reports a free-form send refused for the window."""
    return update.status in ("failed", "undelivered") and update.error_code in TEMPLATE_CODES
