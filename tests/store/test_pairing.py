"""Pending pairing requests are limited per sender and per channel, never across channels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from assistant.store import Store, pairing
from assistant.store.inbox import chat_for
from assistant.store.pairing import MAX_PENDING_PER_CHANNEL

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


async def test_a_full_channel_leaves_the_other_channel_room(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")

    async def ask(channel: str, address: str) -> pairing.Request:
        chat = await store.write(lambda s: chat_for(s, channel, address, NOW))
        return await pairing.request(store, chat.id or 0, [address], NOW)

    first = [await ask("whatsapp", f"whatsapp:+4917{n:04}") for n in range(MAX_PENDING_PER_CHANNEL)]
    assert all(asked.new and asked.code for asked in first)
    assert (await ask("whatsapp", "whatsapp:+49179999")).code is None
    again = await ask("whatsapp", "whatsapp:+49170000")
    assert (again.code, again.new) == (first[0].code, False)
    assert (await ask("twilio", "sms:+15550001")).new
    await store.close()
