"""Queries on the pairing table: strangers' pending codes and the addresses the owner has approved."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from assistant.store import Store
from assistant.store.prepared import Prepared
from assistant.store.tables import Chat, Job, Pairing, Reply

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8
CODE_VALID = timedelta(hours=1)
# Live requests per channel: strangers on one channel cannot crowd out those on another, and each
# sender holds at most one (asking again gives the same code).
MAX_PENDING_PER_CHANNEL = 10


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


def _newest_policy(matches: Callable[[Any], sa.ColumnElement[bool]]) -> sa.Select[str]:
    """The policy of the newest approval whose address or other address `matches`."""
    either = sa.or_(matches(col(Pairing.address)), matches(col(Pairing.other_address)))
    query = sa.select(col(Pairing.policy)).where(col(Pairing.status) == "approved", either)
    return query.order_by(col(Pairing.id).desc()).limit(1)


# Built once: access control asks for every batch a provider's chat sends; one address (the usual
# case) prepared.
_POLICY = _newest_policy(lambda column: column.in_(sa.bindparam("addresses", expanding=True)))
_POLICY_ONE = Prepared(_newest_policy(lambda column: column == sa.bindparam("address")))


def _policy_of(session: Session, addresses: Sequence[str]) -> str | None:
    if len(addresses) == 1:
        found = _POLICY_ONE.first(session.connection(), {"address": addresses[0]})
        return None if found is None else str(found[0])
    policy: str | None = session.connection().execute(_POLICY, {"addresses": list(addresses)}).scalar()
    return policy


async def policy_of(store: Store, addresses: Sequence[str]) -> str | None:
    """The policy of the newest approval (not revoked since) of any of `addresses`; None for none."""
    return await store.read(lambda s: _policy_of(s, addresses))


async def set_policy(store: Store, pairing_id: int, policy: str) -> Pairing | None:
    """Give the approved person `pairing_id` the policy `policy` (the caller checks it is a member
    policy; `owner` never is); None when no approved person has that id."""
    if policy == "owner":
        raise ValueError("a member's policy cannot be the owner's")

    def change(session: Session) -> Pairing | None:
        row = session.get(Pairing, pairing_id)
        if row is None or row.status != "approved":
            return None
        row.policy = policy
        return row

    return await store.write(change)


async def request(store: Store, chat_id: int, addresses: Sequence[str], now: datetime) -> Request:
    """A stranger's code: the live one they have, a new one, or none when the chat's channel
    already has MAX_PENDING_PER_CHANNEL live requests."""
    live = (col(Pairing.expires_at) > now, Pairing.status == "pending")

    def ask(session: Session) -> Request:
        mine = select(Pairing).where(
            *live,
            sa.or_(col(Pairing.address).in_(addresses), col(Pairing.other_address).in_(addresses)),
        )
        existing = session.exec(mine).first()
        if existing is not None:
            return Request(existing.code, new=False)
        chat = session.get(Chat, chat_id)
        channel = chat.channel if chat is not None else ""
        same_channel = (
            select(func.count())
            .select_from(Pairing)
            .join(Chat, col(Chat.id) == Pairing.chat_id)
            .where(*live, Chat.channel == channel)
        )
        if session.exec(same_channel).one() >= MAX_PENDING_PER_CHANNEL:
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
    """Revoke every approval or pending request for `address`, and pause the jobs of their chats
    (they would act for someone who no longer has access); the number of requests changed."""
    query = select(Pairing).where(
        col(Pairing.status).in_(("approved", "pending")),
        sa.or_(col(Pairing.address) == address, col(Pairing.other_address) == address),
    )

    def take_back(session: Session) -> int:
        rows = list(session.exec(query))
        for row in rows:
            row.status, row.decided_at, row.code = "revoked", now, None
        chat_ids = [row.chat_id for row in rows if row.chat_id is not None]
        session.exec(
            sa.update(Job)
            .where(col(Job.chat_id).in_(chat_ids), col(Job.cancelled_at).is_(None))
            .values(paused=True)
        )
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
