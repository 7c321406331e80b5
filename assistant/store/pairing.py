"""The pairing table: strangers' pending codes and the addresses the owner has approved."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, func, select

from assistant.store.models import Chat, Reply, _instant
from assistant.store.store import Store

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8
CODE_VALID = timedelta(hours=1)
MAX_PENDING = 3


class Pairing(SQLModel, table=True):
    """One stranger's request to talk to Hearth: `pending` with a code, then `approved` or `revoked`."""

    __table_args__ = (sa.Index("ix_pairing_status_address", "status", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int | None = Field(default=None, foreign_key="chat.id")
    address: str = Field(max_length=255)
    other_address: str | None = Field(default=None, max_length=255)
    code: str | None = Field(default=None, max_length=16, index=True)
    status: str = Field(default="pending", max_length=16)
    created_at: datetime = _instant()
    expires_at: datetime | None = _instant(nullable=True)
    decided_at: datetime | None = _instant(nullable=True)


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
    async with store.session() as session:
        return (await session.exec(query)).one() > 0


async def request(store: Store, chat_id: int, addresses: Sequence[str], now: datetime) -> Request:
    """A stranger's code: the live one they have, a new one, or none when MAX_PENDING are live."""
    live = (col(Pairing.expires_at) > now, Pairing.status == "pending")
    async with store.transaction() as session:
        mine = select(Pairing).where(*live, col(Pairing.address).in_(addresses))
        existing = (await session.exec(mine)).first()
        if existing is not None:
            return Request(existing.code, new=False)
        count = (await session.exec(select(func.count()).select_from(Pairing).where(*live))).one()
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


async def approve(store: Store, code: str, now: datetime, welcome: str | None = None) -> Pairing | None:
    """Approve the live request with `code`; None when there is none. `welcome` is queued for the
    person, and their chat's history starts afresh, so nothing said before approval reaches the model."""
    query = select(Pairing).where(
        Pairing.code == normalise_code(code), Pairing.status == "pending", col(Pairing.expires_at) > now
    )
    async with store.transaction() as session:
        row = (await session.exec(query)).first()
        if row is None:
            return None
        row.status, row.decided_at, row.code = "approved", now, None
        chat = await session.get(Chat, row.chat_id) if row.chat_id is not None else None
        if chat is not None and chat.id is not None:
            chat.history_from_at = now
            if welcome:
                session.add(Reply(chat_id=chat.id, text=welcome, created_at=now))
        return row


async def revoke(store: Store, address: str, now: datetime) -> int:
    """Revoke every approval or pending request for `address`; the number of rows changed."""
    query = select(Pairing).where(
        col(Pairing.status).in_(("approved", "pending")),
        sa.or_(col(Pairing.address) == address, col(Pairing.other_address) == address),
    )
    async with store.transaction() as session:
        rows = list(await session.exec(query))
        for row in rows:
            row.status, row.decided_at, row.code = "revoked", now, None
        return len(rows)


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
    async with store.session() as session:
        return list(await session.exec(query))
