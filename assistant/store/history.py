"""A chat's history as the prompt sees it: what the running summary does not yet cover."""

from __future__ import annotations

from assistant.store.memory import Summary
from assistant.store.models import Chat
from assistant.store.store import Store
from assistant.store.views import After, Entry, history


async def unsummarised(store: Store, chat: Chat, marker: Summary, limit: int) -> list[Entry]:
    """The chat's history after the summary markers and the last /reset, the newest `limit` of each
    side, in the order they were written."""
    assert chat.id is not None
    after = After(chat.history_from_at, marker.through_message_id, marker.through_reply_id)
    return await history(store, chat.id, after, limit)
