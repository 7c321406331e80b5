"""Fake provider servers for the channel tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.channels.webhooks import GRAPH_TOKEN, TWILIO_SID, TWILIO_TOKEN
from tests.fakes.graph import GraphFake
from tests.fakes.twilio import TwilioFake


@pytest.fixture
async def graph() -> AsyncIterator[GraphFake]:
    async with GraphFake(token=GRAPH_TOKEN) as server:
        yield server


@pytest.fixture
async def twilio_api() -> AsyncIterator[TwilioFake]:
    async with TwilioFake(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN) as server:
        yield server
