"""The 24-hour window decision and the fixed replies for what Hearth cannot use yet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.channels.base import StatusUpdate
from assistant.channels.replies import unsupported_reply
from assistant.channels.window import Delivery, delivery_for, needs_template, within_window
from assistant.types import Address

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WA = Address("whatsapp", "US.1349")


@pytest.mark.parametrize(
    ("last", "inside"),
    [
        (None, False),
        (NOW - timedelta(minutes=1), True),
        (NOW - timedelta(hours=23, minutes=54), True),
        (NOW - timedelta(hours=23, minutes=56), False),
        (NOW - timedelta(days=3), False),
    ],
)
def test_within_window(last: datetime | None, inside: bool) -> None:
    assert within_window(last, NOW) is inside


@pytest.mark.parametrize(
    ("to", "last", "has_template", "delivery"),
    [
        (WA, NOW - timedelta(hours=1), False, "text"),
        (WA, NOW - timedelta(days=2), True, "template"),
        (WA, NOW - timedelta(days=2), False, "outside_window"),
        (WA, None, True, "template"),
        (Address("sms", "+1555"), NOW - timedelta(days=30), False, "text"),
    ],
)
def test_delivery_for(to: Address, last: datetime | None, has_template: bool, delivery: Delivery) -> None:
    assert delivery_for(to, last, NOW, has_template=has_template) == delivery


@pytest.mark.parametrize(
    ("update", "needed"),
    [
        (StatusUpdate("w", "failed", error_code="131047"), True),
        (StatusUpdate("SM", "undelivered", error_code="63016"), True),
        (StatusUpdate("SM", "failed", error_code="30003"), False),
        (StatusUpdate("w", "read"), False),
    ],
)
def test_needs_template(update: StatusUpdate, needed: bool) -> None:
    assert needs_template(update) is needed


@pytest.mark.parametrize(
    ("mtype", "fragment"),
    [
        ("image", "pictures"),
        ("audio", "voice messages"),
        ("video", "videos"),
        ("document", "documents"),
        ("sticker", "stickers"),
        ("location", "locations"),
        ("contacts", "contacts"),
        ("unsupported", "only read text"),
        ("order", "only read text"),
    ],
)
def test_unsupported_reply_is_specific(mtype: str, fragment: str) -> None:
    reply = unsupported_reply({"type": mtype})
    assert reply is not None
    assert fragment in reply


@pytest.mark.parametrize("mtype", ["reaction", "system"])
def test_unsupported_reply_stays_quiet_for_reactions_and_notices(mtype: str) -> None:
    assert unsupported_reply({"type": mtype}) is None
