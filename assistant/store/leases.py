"""Leases on a PostgreSQL database shared by several replicas: a chat's messages are handled by the
replica holding its lease, and a reply is sent by the replica that claimed it.

Times are the database's own (`now()`), so replicas on hosts whose clocks differ still agree on
when a lease runs out. A lease is renewed while its replica lives; one whose replica died runs out
after `lease_s` and is then free to take.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, func, or_, select

from assistant.store import Store, locks
from assistant.store.tables import Lease, Message, Reply

# The LISTEN/NOTIFY channel replicas wake one another on (see assistant.replicas.bus).
CHANNEL = "hearth"


def shared(session: Session) -> bool:
    """Whether the session's database is one several replicas may share (PostgreSQL)."""
    return session.get_bind().dialect.name == "postgresql"


def wake(session: Session, kind: str, ids: Iterable[int]) -> None:
    """Tell every replica, when the caller's transaction commits, that `kind` happened to `ids`."""
    payload = f"{kind}:{','.join(str(i) for i in ids)}"
    session.execute(select(func.pg_notify(CHANNEL, payload)))


@dataclass(frozen=True)
class Replica:
    """This process as the other replicas see it: its name on leases and claims, and their length."""

    name: str
    lease_s: float

    def until(self) -> sa.ColumnElement[datetime]:
        """When a lease or claim taken now runs out, in the database's time."""
        return func.now() + timedelta(seconds=self.lease_s)


def _take(session: Session, chat_id: int, replica: Replica) -> bool:
    query = (
        postgresql.insert(Lease)
        .values(chat_id=chat_id, owner=replica.name, expires_at=replica.until())
        .on_conflict_do_update(
            index_elements=["chat_id"],
            set_={"owner": replica.name, "expires_at": replica.until()},
            where=or_(col(Lease.owner) == replica.name, col(Lease.expires_at) < func.now()),
        )
        .returning(col(Lease.chat_id))
    )
    return session.execute(query).first() is not None


async def take(store: Store, chat_id: int, replica: Replica) -> bool:
    """Hold the chat's lease (taking it when free or run out, renewing it when ours); False when
    another replica holds it."""
    return await store.write(lambda s: _take(s, chat_id, replica))


def _give_back(session: Session, chat_id: int, replica: Replica) -> None:
    query = sa.delete(Lease).where(col(Lease.chat_id) == chat_id, col(Lease.owner) == replica.name)
    session.execute(query)


async def give_back(store: Store, chat_id: int, replica: Replica) -> None:
    """Let the chat's lease go, if it is still ours."""
    await store.write(lambda s: _give_back(s, chat_id, replica))


def _renew(session: Session, replica: Replica, chat_ids: Sequence[int]) -> int:
    # Run-out leases are no one's: gone, so a dead replica's hold on a quiet chat does not linger.
    session.execute(sa.delete(Lease).where(col(Lease.expires_at) < func.now()))
    leases = (
        sa.update(Lease)
        .where(col(Lease.owner) == replica.name, col(Lease.chat_id).in_(chat_ids))
        .values(expires_at=replica.until())
    )
    claims = (
        sa.update(Reply)
        .where(col(Reply.claimed_by) == replica.name, col(Reply.status) == "pending")
        .values(claimed_until=replica.until())
    )
    session.execute(claims, execution_options={"synchronize_session": False})
    result = session.exec(leases, execution_options={"synchronize_session": False})
    return int(result.rowcount)


async def renew(store: Store, replica: Replica, chat_ids: Sequence[int]) -> int:
    """Push back the end of the replica's leases on `chat_ids` (the chats its lanes run) and of
    every claim it holds; how many of those leases it still held."""
    return await store.write(lambda s: _renew(s, replica, chat_ids))


def _release(session: Session, replica: Replica) -> None:
    session.execute(sa.delete(Lease).where(col(Lease.owner) == replica.name))
    claims = (
        sa.update(Reply)
        .where(col(Reply.claimed_by) == replica.name)
        .values(claimed_by=None, claimed_until=None)
    )
    session.execute(claims, execution_options={"synchronize_session": False})


async def release(store: Store, replica: Replica) -> None:
    """Let every lease and claim of the replica go (it is stopping), for others to take at once."""
    await store.write(lambda s: _release(s, replica))


def _due_at(now: datetime) -> sa.ColumnElement[bool]:
    """A message waits for no retry, or its retry's time (the app's clock's, as the router reads it)
    has come by `now`."""
    return or_(col(Message.next_attempt_at).is_(None), col(Message.next_attempt_at) <= now)


def _unleased(session: Session, now: datetime) -> list[int]:
    live = select(Lease.chat_id).where(col(Lease.expires_at) >= func.now())
    query = (
        select(Message.chat_id)
        .where(
            Message.status == "accepted",
            _due_at(now),
            col(Message.chat_id).not_in(live),
        )
        .distinct()
    )
    return list(session.exec(query))


async def unleased(store: Store, now: datetime) -> list[int]:
    """Chats with messages due at `now` that no replica holds a live lease on (free, or their
    replica died)."""
    return await store.read(lambda s: _unleased(s, now))


@dataclass(frozen=True)
class Holding:
    """What one replica holds: how many chats, and how long ago its earliest lease ran out (0 while
    all are live)."""

    owner: str
    chats: int
    overdue_s: float


def _holdings(session: Session) -> list[Holding]:
    overdue = func.greatest(func.extract("epoch", func.now() - func.min(Lease.expires_at)), 0)
    query = select(Lease.owner, func.count(), overdue).group_by(Lease.owner).order_by(Lease.owner)
    return [Holding(owner, n, float(s)) for owner, n, s in session.exec(query)]


async def holdings(store: Store) -> list[Holding]:
    """The leases held, by replica (for `hearth doctor`)."""
    return await store.read(_holdings)


def _listening(session: Session) -> list[str]:
    query = sa.text(
        "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'hearth bus %'"
        " ORDER BY application_name"
    )
    return [str(name).removeprefix("hearth bus ") for name in session.execute(query).scalars()]


async def listening(store: Store) -> list[str]:
    """The replicas connected now, by the name each listens under."""
    return await store.read(_listening)


def _due(session: Session, chat_id: int, now: datetime) -> bool:
    query = select(Message.id).where(Message.chat_id == chat_id, Message.status == "accepted", _due_at(now))
    return session.exec(query.limit(1)).first() is not None


async def due(store: Store, chat_id: int, now: datetime) -> bool:
    """Whether the chat has a message due at `now` (checked after giving its lease back)."""
    return await store.read(lambda s: _due(s, chat_id, now))


def _leader(session: Session) -> str | None:
    query = sa.text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :ns AND l.objid = :key"
        " AND l.objsubid = 2"
    )
    namespace, key = locks.LEADER
    name = session.execute(query, {"ns": namespace, "key": key}).scalar()
    return None if name is None else str(name).removeprefix("hearth leader ")


async def leader(store: Store) -> str | None:
    """The name of the replica that runs the scheduler now, None when none does."""
    return await store.read(_leader)
