"""The inbox: accepting messages durably, finding what is pending, and closing turns."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from assistant.errors import HearthError
from assistant.store import Store, leases, rows
from assistant.store.batch import Accepted, accept_many
from assistant.store.prepared import Prepared, each_of
from assistant.store.rows import loaded
from assistant.store.tables import Chat, MediaFile, Message, Reply, Turn
from assistant.types import Inbound

NOTICE = {"kind": "notice"}


def chat_for(session: Session, channel: str, address: str, now: datetime) -> Chat:
    """The chat for (channel, address), created on first sight."""
    query = select(Chat).where(Chat.channel == channel, Chat.address == address)
    chat = session.exec(query).first()
    if chat is None:
        chat = Chat(channel=channel, address=address, created_at=now)
        session.add(chat)
        session.flush()
    return chat


async def accept(store: Store, inbounds: Sequence[Inbound], now: datetime) -> list[Accepted]:
    """Store every message in one transaction; a message already stored is not stored again."""
    items = [(inbound, now) for inbound in inbounds]
    return await store.write(lambda s: accept_many(s.connection(), items))


async def closed(store: Store, message_ids: Sequence[int]) -> list[int]:
    """Those of the messages no longer accepted (a turn handled them)."""
    query = select(Message.id).where(col(Message.id).in_(message_ids), Message.status != "accepted")
    return await store.read(lambda s: [i for i in s.exec(query) if i is not None])


async def get_chat(store: Store, chat_id: int) -> Chat:
    """The chat with this id; LookupError when there is none."""
    chat = await store.read(lambda s: s.get(Chat, chat_id))
    if chat is None:
        raise LookupError(f"no chat {chat_id}")
    return chat


async def pending_chat_ids(store: Store) -> list[int]:
    """Chats with accepted messages not yet handled."""
    query = select(Message.chat_id).where(Message.status == "accepted").distinct()
    return await store.read(lambda s: list(s.exec(query)))


async def latest_from_person(store: Store, chat_id: int) -> Message | None:
    """The chat's newest message from its person (not from a job), if any."""
    query = (
        select(Message)
        .where(Message.chat_id == chat_id, Message.kind != "job")
        .order_by(col(Message.id).desc())
        .limit(1)
    )
    return await store.read(lambda s: s.exec(query).first())


async def set_text(store: Store, message_id: int, text: str) -> None:
    """Replace a message's stored text (access control removing an SMS owner's PIN)."""

    def write(session: Session) -> None:
        message = session.get(Message, message_id)
        if message is not None:
            message.text = text

    await store.write(write)


@dataclass(frozen=True)
class Pending:
    chat: Chat
    messages: list[Message]


# One statement, built once: a lane asks after every turn, and most of those rounds find nothing.
_CHAT_COLUMNS, _MESSAGE_COLUMNS = rows.columns(Chat), rows.columns(Message)
_CHAT_NAMES, _MESSAGE_NAMES = [c.name for c in _CHAT_COLUMNS], [c.name for c in _MESSAGE_COLUMNS]
_PENDING = Prepared(
    sa.select(*_CHAT_COLUMNS, *_MESSAGE_COLUMNS)
    .join_from(Chat, Message, col(Message.chat_id) == col(Chat.id))
    .where(col(Chat.id) == sa.bindparam("chat_id"), col(Message.status) == "accepted")
    .order_by(col(Message.id))
    .limit(sa.bindparam("limit"))
)
# No limit: more rows than any chat holds (LIMIT takes a 64-bit integer on every database).
NO_LIMIT = 2**62


def _pending(session: Session, chat_id: int, limit: int | None) -> Pending | None:
    values = {"chat_id": chat_id, "limit": NO_LIMIT if limit is None else limit}
    found = _PENDING.rows(session.connection(), values)
    if not found:
        return None
    split = len(_CHAT_COLUMNS)
    chat = loaded(Chat, _CHAT_NAMES, found[0][:split])
    return Pending(chat, [loaded(Message, _MESSAGE_NAMES, row[split:]) for row in found])


async def pending(store: Store, chat_id: int, limit: int | None = None) -> Pending | None:
    """The chat and its oldest `limit` accepted messages (all of them without a limit), oldest
    first; None when the chat has none (or there is no such chat)."""
    return await store.read(lambda s: _pending(s, chat_id, limit))


class Superseded(HearthError):
    """A turn's messages were closed by another turn meanwhile (a replica whose lease ran out while
    it worked, and another took the chat over): this turn's outcome is dropped, not written twice."""


_CLOSE = sa.update(Message).where(
    col(Message.id).in_(sa.bindparam("ids", expanding=True)), col(Message.status) == "accepted"
)


_CLOSE_EACH = Prepared(
    sa.update(Message)
    .where(col(Message.id).in_(each_of("ids")), col(Message.status) == "accepted")
    .values(
        status=sa.bindparam("new_status"),
        turn_id=sa.bindparam("by_turn"),
        handled_at=sa.bindparam("at"),
        next_attempt_at=None,
    )
)


def _close_messages(
    session: Session, message_ids: Sequence[int], status: str, turn_id: int, at: datetime
) -> None:
    # One UPDATE rather than loading each message to change it; only messages still accepted, so of
    # two turns answering the same message only the first to commit writes its replies.
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        ids = json.dumps(list(message_ids))
        closed = _CLOSE_EACH.run(connection, {"ids": ids, "new_status": status, "by_turn": turn_id, "at": at})
    else:
        values = {"ids": list(message_ids), "status": status, "turn_id": turn_id, "handled_at": at}
        closed = connection.execute(_CLOSE, {**values, "next_attempt_at": None}).rowcount
    if closed != len(set(message_ids)):
        raise Superseded(f"messages {sorted(message_ids)} were already handled")
    if message_ids and leases.shared(session):
        # An HTTP API request waiting for one of them may be on another replica.
        leases.wake(session, "handled", message_ids)


@dataclass(frozen=True)
class Carried:
    """What the last reply of a turn carries besides its text: files, and meta for its channel."""

    files: Sequence[MediaFile] = ()
    meta: Mapping[str, str] = field(default_factory=dict)
    # The replies are delivered by being written (a channel whose client reads them back): they
    # are stored as sent and the outbox never holds them.
    delivered: bool = False


def _finish(
    session: Session,
    turn: Turn,
    message_ids: Sequence[int],
    replies: Sequence[str],
    status: str,
    carried: Carried,
) -> list[int]:
    turn_id = rows.insert(session, turn)
    # Written at the turn's end by the app's clock, which is what a reply's age is measured by.
    at = turn.finished_at or turn.started_at
    sent = {"status": "sent", "sent_at": at} if carried.delivered else {}
    made = [
        rows.row_values(Reply, chat_id=turn.chat_id, turn_id=turn_id, text=text, created_at=at, **sent)
        for text in replies
    ]
    if made:
        made[-1]["meta"] = dict(carried.meta)
    table = Reply.__table__  # type: ignore[attr-defined]
    ids = [rows.insert_values(session, table, row) for row in made]
    _close_messages(session, message_ids, status, turn_id, at)
    for file in carried.files if ids else ():
        file.reply_id = ids[-1]
        session.add(file)
    return ids


async def finish_turn(
    store: Store,
    turn: Turn,
    message_ids: Sequence[int],
    replies: Sequence[str],
    status: str = "handled",
    carried: Carried = Carried(),
    also: Callable[[Session], None] | None = None,
) -> list[int]:
    """Record the turn, put its replies in the outbox (the last one with what it carries) and close
    its messages, in one transaction; `also` writes more in it, once the turn has its id."""

    def finish(session: Session) -> list[int]:
        ids = _finish(session, turn, message_ids, replies, status, carried)
        if also is not None:
            also(session)
        return ids

    return await store.write(finish)


def _defer(
    session: Session,
    turn: Turn,
    message_ids: Sequence[int],
    next_attempt_at: datetime,
    notice: str | None,
) -> None:
    session.add(turn)
    session.flush()
    if notice:
        at = turn.finished_at or turn.started_at
        session.add(
            Reply(chat_id=turn.chat_id, turn_id=turn.id, text=notice, meta=dict(NOTICE), created_at=at)
        )
    query = (
        sa.update(Message)
        .where(col(Message.id).in_(message_ids), col(Message.status) == "accepted")
        .values(attempts=col(Message.attempts) + 1, next_attempt_at=next_attempt_at)
    )
    result = session.exec(query, execution_options={"synchronize_session": False})
    if result.rowcount != len(set(message_ids)):
        raise Superseded(f"messages {sorted(message_ids)} were already handled")


async def defer(
    store: Store,
    turn: Turn,
    message_ids: Sequence[int],
    next_attempt_at: datetime,
    notice: str | None,
) -> None:
    """Keep the messages pending until `next_attempt_at`; record the failed turn and any notice."""
    await store.write(lambda s: _defer(s, turn, message_ids, next_attempt_at, notice))


def _reset(session: Session, chat_id: int, at: datetime) -> None:
    chat = session.get(Chat, chat_id)
    if chat is not None:
        chat.history_from_at = at


async def reset_chat(store: Store, chat_id: int, at: datetime) -> None:
    """Forget the chat's history for the model; the rows themselves stay."""
    await store.write(lambda s: _reset(s, chat_id, at))
