"""Read-only views: a message with its replies, a chat's transcript, its history, queue sizes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Literal, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, and_, col, func, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from assistant.store import Store
from assistant.store.columns import UTCDateTime
from assistant.store.inbox import NO_LIMIT
from assistant.store.prepared import Prepared
from assistant.store.tables import Chat, Message, Reply


class Entry(NamedTuple):
    """One line of a chat: a person's message or the assistant's reply. A named tuple, since a
    turn builds hundreds of them and a tuple is made in a third of a frozen dataclass's time."""

    id: int
    role: Literal["user", "assistant"]
    text: str
    status: str
    created_at: datetime
    notice: bool = False


@dataclass(frozen=True)
class ReplyView:
    text: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class MessageView:
    """A message's channel and status, and the replies of the turn that handled it, in order."""

    channel: str
    status: str
    replies: list[ReplyView]


@dataclass(frozen=True)
class Counts:
    pending_messages: int
    pending_replies: int


# One statement, built once: an API client long-polling a message reads it twice per message.
_VIEW = Prepared(
    sa.select(col(Message.channel), col(Message.status))
    .add_columns(col(Reply.text), col(Reply.status), col(Reply.created_at))
    .select_from(Message)
    .outerjoin(Reply, col(Reply.turn_id) == col(Message.turn_id))
    .where(col(Message.id) == sa.bindparam("id"))
    .order_by(col(Reply.id))
)


def _message_view(session: Session, message_id: int) -> MessageView | None:
    rows = _VIEW.rows(session.connection(), {"id": message_id})
    if not rows:
        return None
    replies = [ReplyView(text, status, at) for _, _, text, status, at in rows if text is not None]
    return MessageView(rows[0][0], rows[0][1], replies)


async def message_view(store: Store, message_id: int) -> MessageView | None:
    """The message and the replies of the turn that handled it."""
    return await store.read(lambda s: _message_view(s, message_id))


async def find_chat(store: Store, channel: str, address: str) -> Chat | None:
    query = select(Chat).where(Chat.channel == channel, Chat.address == address)
    return await store.read(lambda s: s.exec(query).first())


def _is_notice(reply: Reply) -> bool:
    return reply.meta.get("kind") == "notice"


@dataclass(frozen=True)
class After:
    """Where a chat's history starts: after a /reset, and after what a summary already covers."""

    at: datetime | None = None
    message_id: int = 0
    reply_id: int = 0


def _key(entry: Entry) -> tuple[datetime, bool, int]:
    """The transcript's order: by time; at one instant a message before a reply, then by id."""
    return entry.created_at, entry.role == "assistant", entry.id


# Messages the model never sees: not yet answered, or refused by access control or the rate limit.
NOT_HISTORY = frozenset({"accepted", "refused", "limited"})


@cache
def _entry_queries(since: bool) -> tuple[Prepared, Prepared]:
    """A chat's messages and replies after a marker (and after an instant, with `since`), newest
    first: built once per shape, since building them cost more than running them."""
    messages = sa.select(
        col(Message.id), col(Message.text), col(Message.status), col(Message.created_at)
    ).where(
        col(Message.chat_id) == sa.bindparam("chat_id"),
        col(Message.kind) != "job",
        col(Message.id) > sa.bindparam("message_id"),
    )
    kind = sa.type_coerce(Reply.meta, sa.JSON)["kind"].as_string()
    replies = sa.select(col(Reply.id), col(Reply.text), col(Reply.status), col(Reply.created_at), kind).where(
        col(Reply.chat_id) == sa.bindparam("chat_id"), col(Reply.id) > sa.bindparam("reply_id")
    )
    if since:
        messages = messages.where(col(Message.created_at) > sa.bindparam("since", type_=UTCDateTime()))
        replies = replies.where(col(Reply.created_at) > sa.bindparam("since", type_=UTCDateTime()))
    messages = messages.order_by(col(Message.id).desc()).limit(sa.bindparam("limit"))
    replies = replies.order_by(col(Reply.id).desc()).limit(sa.bindparam("limit"))
    return Prepared(messages), Prepared(replies)


def sides(session: Session, chat_id: int, after: After, limit: int | None) -> tuple[list[Entry], list[Entry]]:
    """The chat's messages and its replies after `after`, the newest `limit` of each, oldest first."""
    # Plain column rows on the session's connection, not ORM objects: a turn reads up to hundreds
    # of these, and building a tracked instance per row cost more than the queries themselves.
    messages, replies = _entry_queries(after.at is not None)
    values = {
        "chat_id": chat_id,
        "message_id": after.message_id,
        "reply_id": after.reply_id,
        "since": after.at,
        "limit": NO_LIMIT if limit is None else limit,
    }
    connection = session.connection()
    said = [Entry(i, "user", text, status, at) for i, text, status, at in messages.rows(connection, values)]
    answered = [
        Entry(i, "assistant", text, status, at, kind == "notice")
        for i, text, status, at, kind in replies.rows(connection, values)
    ]
    said.reverse()
    answered.reverse()
    return said, answered


def in_order(said: list[Entry], answered: list[Entry]) -> list[Entry]:
    """Messages and replies as one transcript, in the order they were written."""
    found = said + answered
    found.sort(key=_key)
    return found


def for_model(found: list[Entry]) -> list[Entry]:
    """What the model may see of them: answered messages and real replies (no notices)."""
    return [e for e in found if e.status not in NOT_HISTORY and not e.notice]


def _entries(session: Session, chat_id: int, after: After, limit: int | None) -> list[Entry]:
    return in_order(*sides(session, chat_id, after, limit))


async def entries(
    store: Store, chat_id: int, since: datetime | None = None, limit: int | None = None
) -> list[Entry]:
    """The chat's messages and replies in the order they were written, the newest `limit` of each."""
    return await store.read(lambda s: _entries(s, chat_id, After(since), limit))


def history_in(session: Session, chat_id: int, after: After, limit: int) -> list[Entry]:
    """`history`, inside a read the caller already holds."""
    return for_model(_entries(session, chat_id, after, limit))


async def history(store: Store, chat_id: int, after: After, limit: int) -> list[Entry]:
    """What the model may see of a chat's past: answered messages and real replies (no notices)."""
    return await store.read(lambda s: history_in(s, chat_id, after, limit))


@dataclass(frozen=True)
class Mark:
    """A place in a chat's transcript: a person's message ("user") or a reply ("assistant"), by id."""

    role: Literal["user", "assistant"]
    id: int


@dataclass(frozen=True)
class Page:
    """Entries of a transcript in order, and whether older ones come before the first."""

    entries: list[Entry]
    more: bool


def _marked(session: Session, chat_id: int, mark: Mark) -> Entry | None:
    if mark.role == "user":
        message = session.get(Message, mark.id)
        if message is None or message.chat_id != chat_id or message.kind == "job":
            return None
        return Entry(mark.id, "user", message.text, message.status, message.created_at)
    reply = session.get(Reply, mark.id)
    if reply is None or reply.chat_id != chat_id:
        return None
    return Entry(mark.id, "assistant", reply.text, reply.status, reply.created_at, _is_notice(reply))


MessageQuery = SelectOfScalar[Message]
ReplyQuery = SelectOfScalar[Reply]


def _before(messages: MessageQuery, replies: ReplyQuery, edge: Entry) -> tuple[MessageQuery, ReplyQuery]:
    """The queries narrowed to what comes before `edge` in the transcript's order (`_key`)."""
    at = edge.created_at
    if edge.role == "user":
        same = and_(col(Message.created_at) == at, col(Message.id) < edge.id)
        messages = messages.where(or_(col(Message.created_at) < at, same))
        return messages, replies.where(col(Reply.created_at) < at)
    same = and_(col(Reply.created_at) == at, col(Reply.id) < edge.id)
    replies = replies.where(or_(col(Reply.created_at) < at, same))
    return messages.where(col(Message.created_at) <= at), replies


def _page(session: Session, chat_id: int, limit: int, before: Mark | None) -> Page | None:
    messages = select(Message).where(Message.chat_id == chat_id, Message.kind != "job")
    replies = select(Reply).where(Reply.chat_id == chat_id)
    if before is not None:
        edge = _marked(session, chat_id, before)
        if edge is None:
            return None
        messages, replies = _before(messages, replies, edge)
    # One more than asked for from each side says whether anything older is left.
    messages = messages.order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(limit + 1)
    replies = replies.order_by(col(Reply.created_at).desc(), col(Reply.id).desc()).limit(limit + 1)
    found = [Entry(m.id or 0, "user", m.text, m.status, m.created_at) for m in session.exec(messages)]
    found += [
        Entry(r.id or 0, "assistant", r.text, r.status, r.created_at, _is_notice(r))
        for r in session.exec(replies)
    ]
    found.sort(key=_key)
    return Page(found[-limit:], len(found) > limit)


async def page(store: Store, chat_id: int, limit: int, before: Mark | None = None) -> Page | None:
    """The newest `limit` entries of the chat's transcript (before `before`, when given), in order;
    None when `before` is not an entry of this chat."""
    return await store.read(lambda s: _page(s, chat_id, limit, before))


def _counts(session: Session) -> Counts:
    accepted = select(func.count()).select_from(Message).where(Message.status == "accepted")
    pending = select(func.count()).select_from(Reply).where(Reply.status == "pending")
    return Counts(session.exec(accepted).one(), session.exec(pending).one())


async def counts(store: Store) -> Counts:
    return await store.read(_counts)
