"""Queries on the pairing table: strangers' pending codes and the addresses the owner has approved."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from assistant.store import Store
from assistant.store.tables import Chat, Pairing, Reply

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8
CODE_VALID = timedelta(hours=1)
MAX_PENDING = 3


@dataclass(frozen=True)
class Request:
    """What happened when a stranger asked: a new code, the code they already have, or no room."""

    code: str | None
    new: bool


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return "".join(text.split()).upper()


async def approved(store: Store, addresses: Sequence[str]) -> bool:
    """True when any of `addresses` was approved and not revoked since."""
    query = (
        select(func.count())
        .select_from(Pairing)
        .where(
            Pairing.status == "approved",
            sa.or_(col(Pairing.address).in_(addresses), col(Pairing.other_address).in_(addresses)),
        )
    )
    return await store.read(lambda s: s.exec(query).one() > 0)


async def request(store: Store, chat_id: int, addresses: Sequence[str], now: datetime) -> Request:
    """A stranger's code: the live one they have, a new one, or none when MAX_PENDING are live."""
    live = (col(Pairing.expires_at) > now, Pairing.status == "pending")

    def ask(session: Session) -> Request:
        mine = select(Pairing).where(*live, col(Pairing.address).in_(addresses))
        existing = session.exec(mine).first()
        if existing is not None:
            return Request(existing.code, new=False)
        count = session.exec(select(func.count()).select_from(Pairing).where(*live)).one()
        if count >= MAX_PENDING:
            return Request(None, new=False)
        row = Pairing(
            chat_id=chat_id,
            address=addresses[0],
            other_address=addresses[1] if len(addresses) > 1 else None,
            code=new_code(),
            created_at=now,
            expires_at=now + CODE_VALID,
        )
        session.add(row)
        return Request(row.code, new=True)

    return await store.write(ask)


async def approve(store: Store, code: str, now: datetime, welcome: str | None = None) -> Pairing | None:
    """Approve the live request with `code`; None when there is none. `welcome` is queued for the
    person, and their chat's history starts afresh, so nothing said before approval reaches the model."""
    query = select(Pairing).where(
        Pairing.code == normalise_code(code), Pairing.status == "pending", col(Pairing.expires_at) > now
    )

    def decide(session: Session) -> Pairing | None:
        row = session.exec(query).first()
        if row is None:
            return None
        row.status, row.decided_at, row.code = "approved", now, None
        chat = session.get(Chat, row.chat_id) if row.chat_id is not None else None
        if chat is not None and chat.id is not None:
            chat.history_from_at = now
            if welcome:
                session.add(Reply(chat_id=chat.id, text=welcome, created_at=now))
        return row

    return await store.write(decide)


async def revoke(store: Store, address: str, now: datetime) -> int:
    """Revoke every approval or pending request for `address`; the number of rows changed."""
    query = select(Pairing).where(
        col(Pairing.status).in_(("approved", "pending")),
        sa.or_(col(Pairing.address) == address, col(Pairing.other_address) == address),
    )

    def take_back(session: Session) -> int:
        rows = list(session.exec(query))
        for row in rows:
            row.status, row.decided_at, row.code = "revoked", now, None
        return len(rows)

    return await store.write(take_back)


async def listing(store: Store, now: datetime) -> list[Pairing]:
    """Live pending requests and current approvals, oldest first."""
    query = (
        select(Pairing)
        .where(
            sa.or_(
                col(Pairing.status) == "approved",
                sa.and_(col(Pairing.status) == "pending", col(Pairing.expires_at) > now),
            )
        )
        .order_by(col(Pairing.id))
    )
    return await store.read(lambda s: list(s.exec(query)))
