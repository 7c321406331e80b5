"""What the dashboard reads and changes in the store: chats and their roles, a transcript page by page,
the outbox, recent failures."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from assistant.store import Store
from assistant.store.tables import Chat, Job, Message, Pairing, Reply, Turn

# Chats on these channels belong to the outside world; API and terminal chats are the owner's.
PROVIDER_CHANNELS = frozenset({"whatsapp", "twilio"})
PAGE_SIZE = 50
FAILURES = 10


@dataclass(frozen=True)
class ChatRow:
    chat: Chat
    role: str
    last_at: datetime | None
    messages: int
    policy: str = ""  # a member's policy, when it is not the plain member one


@dataclass(frozen=True)
class Line:
    """One line of a transcript: a person's (or a job's) message, or a reply."""

    side: str
    row: Message | Reply

    @property
    def at(self) -> datetime:
        return self.row.created_at


@dataclass(frozen=True)
class Page:
    lines: list[Line]
    number: int
    pages: int


@dataclass(frozen=True)
class Failure:
    at: datetime
    what: str
    detail: str
    link: str


def role_of(chat: Chat, owners: Collection[str], members: Collection[str], pending: Collection[str]) -> str:
    if chat.channel not in PROVIDER_CHANNELS or chat.address in owners:
        return "owner"
    if chat.address in members:
        return "member"
    return "pending" if chat.address in pending else "stranger"


def _pairing_addresses(session: Session, status: str) -> set[str]:
    rows = session.exec(select(Pairing).where(Pairing.status == status))
    return {a for row in rows for a in (row.address, row.other_address) if a}


def _member_policies(session: Session) -> dict[str, str]:
    """Each approved address's policy; the newest approval wins, as it does for access."""
    rows = session.exec(select(Pairing).where(Pairing.status == "approved").order_by(col(Pairing.id)))
    return {a: row.policy for row in rows for a in (row.address, row.other_address) if a}


def _chats(session: Session, owners: Collection[str]) -> list[ChatRow]:
    policies, pending = _member_policies(session), _pairing_addresses(session, "pending")
    by_message, by_reply = col(Message.chat_id), col(Reply.chat_id)
    last_in = dict(session.exec(select(by_message, func.max(Message.created_at)).group_by(by_message)).all())
    last_out = dict(session.exec(select(by_reply, func.max(Reply.created_at)).group_by(by_reply)).all())
    counts = dict(session.exec(select(by_message, func.count()).group_by(by_message)).all())
    rows = []
    for chat in session.exec(select(Chat)):
        chat_id = chat.id or 0
        times = [t for t in (last_in.get(chat_id), last_out.get(chat_id)) if t is not None]
        last = max(times) if times else None
        role = role_of(chat, owners, policies, pending)
        policy = policies.get(chat.address, "") if role == "member" else ""
        rows.append(ChatRow(chat, role, last, counts.get(chat_id, 0), "" if policy == "member" else policy))
    rows.sort(key=lambda r: r.last_at or r.chat.created_at, reverse=True)
    return rows


async def chats(store: Store, owners: Collection[str]) -> list[ChatRow]:
    """Every chat with its role and last activity, the most recently active first."""
    return await store.read(lambda s: _chats(s, owners))


async def chat_row(store: Store, chat_id: int, owners: Collection[str]) -> ChatRow | None:
    return next((row for row in await chats(store, owners) if row.chat.id == chat_id), None)


def _transcript(session: Session, chat_id: int, number: int, size: int) -> Page:
    sides = sa.union_all(
        sa.select(sa.literal("in").label("side"), col(Message.id), col(Message.created_at).label("at")).where(
            col(Message.chat_id) == chat_id
        ),
        sa.select(sa.literal("out").label("side"), col(Reply.id), col(Reply.created_at).label("at")).where(
            col(Reply.chat_id) == chat_id
        ),
    ).subquery()
    total = session.execute(sa.select(func.count()).select_from(sides)).scalar_one()
    pages = max((total + size - 1) // size, 1)
    number = min(max(number, 1), pages)
    # Page 1 is the newest; at one instant a message comes before the reply to it.
    newest_first = sa.select(sides).order_by(sides.c.at.desc(), sides.c.side.desc(), sides.c.id.desc())
    picked = list(session.execute(newest_first.offset((number - 1) * size).limit(size)))
    ids = {side: [row.id for row in picked if row.side == side] for side in ("in", "out")}
    found: dict[tuple[str, int], Message | Reply] = {}
    for message in session.exec(select(Message).where(col(Message.id).in_(ids["in"]))):
        found["in", message.id or 0] = message
    for reply in session.exec(select(Reply).where(col(Reply.id).in_(ids["out"]))):
        found["out", reply.id or 0] = reply
    lines = [Line(row.side, found[row.side, row.id]) for row in reversed(picked)]
    return Page(lines, number, pages)


async def transcript(store: Store, chat_id: int, number: int, size: int = PAGE_SIZE) -> Page:
    """Page `number` of the chat's messages and replies (1 is the newest), oldest first on the page."""
    return await store.read(lambda s: _transcript(s, chat_id, number, size))


def _outbox(session: Session) -> list[tuple[Reply, Chat]]:
    query = (
        select(Reply, Chat)
        .join(Chat, col(Chat.id) == Reply.chat_id)
        .where(col(Reply.status).in_(("pending", "failed")))
        .order_by(col(Reply.id).desc())
        .limit(200)
    )
    return list(session.exec(query).all())


async def outbox(store: Store) -> list[tuple[Reply, Chat]]:
    """Replies not delivered: waiting or being retried, and those that failed for good; newest first."""
    return await store.read(_outbox)


async def change_reply(store: Store, reply_id: int, action: str) -> Reply | None:
    """`retry`: send again now (a failed reply goes back to pending); `drop`: never send it.
    None when there is no such reply or it was already delivered or dropped."""

    def change(session: Session) -> Reply | None:
        reply = session.get(Reply, reply_id)
        if reply is None or reply.status not in ("pending", "failed"):
            return None
        if action == "retry":
            reply.status, reply.next_attempt_at = "pending", None
        else:
            reply.status, reply.next_attempt_at = "dropped", None
            reply.error = f"dropped from the dashboard ({reply.error})" if reply.error else "dropped"
        return reply

    return await store.write(change)


def _failures(session: Session, limit: int) -> list[Failure]:
    replies = select(Reply).where(Reply.status == "failed").order_by(col(Reply.id).desc()).limit(limit)
    turns = select(Turn).where(col(Turn.error).is_not(None)).order_by(col(Turn.id).desc()).limit(limit)
    jobs = select(Job).where(Job.last_outcome == "failed").order_by(col(Job.id).desc()).limit(limit)
    found = [
        Failure(r.created_at, f"reply {r.id}", r.error or "", "/ui/outbox") for r in session.exec(replies)
    ]
    found += [
        Failure(t.started_at, f"turn {t.id}", t.error or "", f"/ui/runs/{t.id}") for t in session.exec(turns)
    ]
    found += [
        Failure(j.last_run_at or j.created_at, f"job {j.id}", f"{j.kind} failed", "/ui/jobs")
        for j in session.exec(jobs)
    ]
    found.sort(key=lambda f: f.at, reverse=True)
    return found[:limit]


async def failures(store: Store, limit: int = FAILURES) -> list[Failure]:
    """The newest failed replies, failed turns and failed jobs, together."""
    return await store.read(lambda s: _failures(s, limit))


def _jobs(session: Session, cancelled: bool) -> list[tuple[Job, Chat]]:
    query = select(Job, Chat).join(Chat, col(Chat.id) == Job.chat_id).order_by(col(Job.id))
    if not cancelled:
        query = query.where(col(Job.cancelled_at).is_(None))
    return list(session.exec(query).all())


async def jobs(store: Store, cancelled: bool = False) -> list[tuple[Job, Chat]]:
    """Every job with its chat, oldest first; cancelled ones only when asked."""
    return await store.read(lambda s: _jobs(s, cancelled))


async def pairings(store: Store, now: datetime) -> tuple[list[Pairing], list[Pairing]]:
    """(approved people, live pending requests), oldest first."""

    def read(session: Session) -> tuple[list[Pairing], list[Pairing]]:
        rows = list(session.exec(select(Pairing).order_by(col(Pairing.id))))
        approved = [r for r in rows if r.status == "approved"]
        live = [r for r in rows if r.status == "pending" and r.expires_at is not None and r.expires_at > now]
        return approved, live

    return await store.read(read)


async def pairing_row(store: Store, pairing_id: int) -> Pairing | None:
    return await store.read(lambda s: s.get(Pairing, pairing_id))


def media_of(meta: dict[str, Any]) -> str:
    """What a media message held, in words: `image (image/jpeg)`."""
    kind, mime = meta.get("type", "media"), meta.get("mime_type", "")
    return f"{kind} ({mime})" if mime else str(kind)


async def chats_by_id(store: Store, ids: Collection[int]) -> dict[int, Chat]:
    """The chats with these ids, by id (ids with no chat are left out)."""
    query = select(Chat).where(col(Chat.id).in_(list(ids)))
    return await store.read(lambda s: {c.id or 0: c for c in s.exec(query)})
