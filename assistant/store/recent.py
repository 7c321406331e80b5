"""The history a turn read last, kept per chat so that the next turn reads only what came after.

A turn reads its chat's unsummarised history, up to hundreds of rows, and the next turn reads the
same rows again and one or two more. `Recent` keeps what was read for the chats used lately and
reads only the rows past two marks: the newest message that is settled (no longer accepted, as
every message before it) and the newest reply. Rows at or below a mark never change: messages and
replies are not deleted, and a message's text changes only while it is still accepted. A reply's
status may change after it was read (sent, failed); the history does not look at it.

Only for SQLite: there an id is given inside the transaction that holds the database's one write
lock, so rows commit in the order of their ids and none can appear later below a mark. On
PostgreSQL a transaction holding a lower id can commit after one holding a higher id.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from sqlmodel import Session

from assistant.store.views import After, Entry, in_order, sides

# Chats whose history is kept; each holds at most `limit` messages and `limit` replies.
RECENT_CHATS = 32


@dataclass(frozen=True)
class _Kept:
    after: After
    limit: int
    said: list[Entry]
    answered: list[Entry]
    said_mark: int
    answered_mark: int


class Recent:
    """What `views.sides` last gave for each of the chats used lately, and the marks past which
    their next read starts."""

    def __init__(self, chats: int = RECENT_CHATS) -> None:
        self.chats = chats
        self._kept: OrderedDict[int, _Kept] = OrderedDict()

    def __len__(self) -> int:
        """How many chats are kept."""
        return len(self._kept)

    def entries(self, session: Session, chat_id: int, after: After, limit: int) -> list[Entry]:
        """The same as `views.sides` then `views.in_order`, reading only rows it has not kept."""
        kept = self._kept.pop(chat_id, None)
        if kept is None or kept.after != after or kept.limit != limit:
            kept = _Kept(after, limit, [], [], after.message_id, after.reply_id)
        since = After(after.at, kept.said_mark, kept.answered_mark)
        new_said, new_answered = sides(session, chat_id, since, limit)
        said = (kept.said + new_said)[-limit:]
        answered = (kept.answered + new_answered)[-limit:]
        # A message still accepted becomes history once answered: the next read starts below it.
        still_open = [e.id for e in said if e.status == "accepted"]
        said_mark = still_open[0] - 1 if still_open else (said[-1].id if said else kept.said_mark)
        answered_mark = answered[-1].id if answered else kept.answered_mark
        settled = [e for e in said if e.id <= said_mark]
        self._kept[chat_id] = _Kept(after, limit, settled, answered, said_mark, answered_mark)
        while len(self._kept) > self.chats:
            self._kept.popitem(last=False)
        return in_order(said, answered)
