"""Queries on the approval table: calls held back for the person's answer, and what became of them."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from assistant.store import Store
from assistant.store.tables import Approval, Reply

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 6
PENDING = "pending"
APPROVED = "approved"
# What a request can end as.
FINAL = ("done", "failed", "denied", "expired")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return "".join(text.split()).upper()


async def request(store: Store, row: Approval, prompt: Reply) -> tuple[Approval, bool]:
    """Store `row` and its `prompt` to the person in one transaction; when a request with the same
    call key exists (a replayed turn), that one comes back instead and nothing is written."""

    def ask(session: Session) -> tuple[Approval, bool]:
        existing = session.exec(select(Approval).where(Approval.call_key == row.call_key)).first()
        if existing is not None:
            return existing, False
        session.add(row)
        session.add(prompt)
        session.flush()
        return row, True

    return await store.write(ask)


async def in_turn(store: Store, turn_key: str) -> int:
    """How many requests the turn `turn_key` has made."""
    query = (
        select(func.count()).select_from(Approval).where(col(Approval.call_key).startswith(f"{turn_key}:"))
    )
    return await store.read(lambda s: s.exec(query).one())


async def find(store: Store, code: str, chat_id: int | None) -> Approval | None:
    """The newest request with `code`, in `chat_id` when given."""
    query = select(Approval).where(Approval.code == normalise_code(code)).order_by(col(Approval.id).desc())
    if chat_id is not None:
        query = query.where(Approval.chat_id == chat_id)
    return await store.read(lambda s: s.exec(query).first())


async def decide(
    store: Store, approval_id: int, from_status: str, to_status: str, now: datetime, by: str
) -> Approval | None:
    """Move a request from `from_status` to `to_status`, only if it is still in `from_status` (and,
    leaving `pending`, not yet expired); the row, or None when someone else got there first."""

    def move(session: Session) -> Approval | None:
        conditions = [col(Approval.id) == approval_id, col(Approval.status) == from_status]
        if from_status == PENDING:
            conditions.append(col(Approval.expires_at) > now)
        query = sa.update(Approval).where(*conditions).values(status=to_status, decided_at=now, decided_by=by)
        if session.exec(query).rowcount != 1:
            return None
        return session.get(Approval, approval_id)

    return await store.write(move)


async def finish(store: Store, approval_id: int, status: str, outcome: str, notice: Reply | None) -> None:
    """Record how an approved call ended, and any notice for the person, together."""

    def write(session: Session) -> None:
        row = session.get(Approval, approval_id)
        if row is not None:
            row.status, row.outcome = status, outcome
        if notice is not None:
            session.add(notice)

    await store.write(write)


async def expire(store: Store, now: datetime, notice: str) -> list[Approval]:
    """Mark every pending request whose time ran out as expired, telling each chat with `notice`
    (formatted with the request's `code` and `tool`); the requests expired."""

    def sweep(session: Session) -> list[Approval]:
        query = select(Approval).where(Approval.status == PENDING, col(Approval.expires_at) <= now)
        # Replicas sweeping at once on PostgreSQL: each request is expired (and told) by one of them.
        rows = list(session.exec(query.with_for_update(skip_locked=True)))
        for row in rows:
            row.status, row.decided_at, row.decided_by = "expired", now, "timeout"
            text = notice.format(code=row.code, tool=row.tool)
            session.add(Reply(chat_id=row.chat_id, text=text, meta={"kind": "notice"}, created_at=now))
        return rows

    return await store.write(sweep)


async def next_expiry(store: Store) -> datetime | None:
    """When the earliest pending request runs out."""
    query = select(func.min(Approval.expires_at)).where(Approval.status == PENDING)
    return await store.read(lambda s: s.exec(query).one())


async def listing(
    store: Store, limit: int = 50, chat_ids: Sequence[int] | None = None, status: str | None = None
) -> list[Approval]:
    """The newest requests first, optionally of some chats or in one status."""
    query = select(Approval).order_by(col(Approval.id).desc()).limit(limit)
    if chat_ids is not None:
        query = query.where(col(Approval.chat_id).in_(chat_ids))
    if status is not None:
        query = query.where(Approval.status == status)
    return await store.read(lambda s: list(s.exec(query)))
