"""The outbox: replies waiting to be delivered, and what became of each attempt."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, or_, select

from assistant.store import Store, locks
from assistant.store.leases import Replica
from assistant.store.tables import Chat, Reply

# Set on a reply still being sent when the provider reports one of its parts failed (see
# store.sent); applied when the reply settles, so the news is not lost while parts go out.
LATE_FAILURE = "late_failure"
LATE_TEMPLATE = "late_template"


@dataclass(frozen=True)
class Due:
    reply: Reply
    chat: Chat


@cache
def _due_query(shared: bool) -> Any:
    """The due replies' statement, built once (the sender reads it every round); `shared` leaves
    out chats whose replies another replica is sending."""
    waiting = select(Reply.chat_id).where(
        Reply.status == "pending", col(Reply.next_attempt_at) > sa.bindparam("now")
    )
    query = (
        select(Reply, Chat)
        .join(Chat, col(Chat.id) == Reply.chat_id)
        .where(
            Reply.status == "pending",
            col(Chat.channel).in_(sa.bindparam("served", expanding=True)),
            or_(col(Reply.next_attempt_at).is_(None), col(Reply.next_attempt_at) <= sa.bindparam("now")),
            col(Reply.chat_id).not_in(waiting),
        )
        .order_by(col(Reply.id))
        .limit(sa.bindparam("limit"))
    )
    if shared:
        # A chat whose replies another replica is sending waits for it, so they stay in order.
        theirs = select(Reply.chat_id).where(
            Reply.status == "pending",
            col(Reply.claimed_by) != sa.bindparam("mine"),
            col(Reply.claimed_until) > func.now(),
        )
        query = query.where(col(Reply.chat_id).not_in(theirs))
    return query


def _due(session: Session, now: datetime, limit: int, served: Collection[str], mine: str | None) -> list[Due]:
    values = {"now": now, "served": list(served), "limit": limit, "mine": mine}
    return [Due(reply, chat) for reply, chat in session.exec(_due_query(mine is not None), params=values)]


def _claim_due(
    session: Session, now: datetime, limit: int, served: Collection[str], replica: Replica
) -> list[Due]:
    # Claims are taken one replica at a time (a lock for this transaction only), so each sees the
    # claims before it and no two replicas take replies of one chat.
    session.execute(select(func.pg_advisory_xact_lock(*locks.CLAIM)))
    found = _due(session, now, limit, served, replica.name)
    if found:
        ids = [d.reply.id for d in found]
        claim = (
            sa.update(Reply)
            .where(col(Reply.id).in_(ids))
            .values(claimed_by=replica.name, claimed_until=replica.until())
        )
        session.execute(claim, execution_options={"synchronize_session": False})
    return found


async def due(
    store: Store, now: datetime, served: Collection[str], limit: int = 200, replica: Replica | None = None
) -> list[Due]:
    """Pending replies of the `served` channels whose next attempt is due, oldest first, leaving out
    every chat that has an earlier reply waiting for a retry (a chat's replies go out in order).
    Replies for other channels never take a place here, however many there are.

    With `replica` (a database shared by replicas) the replies are claimed for it, and chats whose
    replies another live replica claimed are left out."""
    if replica is not None:
        return await store.write(lambda s: _claim_due(s, now, limit, served, replica))
    return await store.read(lambda s: _due(s, now, limit, served, None))


_NEXT_ATTEMPT = (
    select(func.min(Reply.next_attempt_at))
    .join(Chat, col(Chat.id) == Reply.chat_id)
    .where(
        Reply.status == "pending",
        col(Chat.channel).in_(sa.bindparam("served", expanding=True)),
        col(Reply.next_attempt_at) > sa.bindparam("after"),
    )
)


def _next_attempt_at(session: Session, served: Collection[str], after: datetime) -> datetime | None:
    """When the earliest pending reply of a served channel that waits to be retried after `after`
    becomes due."""
    return session.exec(_NEXT_ATTEMPT, params={"served": list(served), "after": after}).one()


@dataclass(frozen=True)
class Round:
    """A page of due replies (see `due`), and when the earliest retry after the round's start falls
    due: what one round of the sender reads, in one transaction."""

    due: list[Due]
    next_attempt_at: datetime | None


async def due_round(
    store: Store,
    now: datetime,
    served: Collection[str],
    started_at: datetime,
    limit: int = 200,
    replica: Replica | None = None,
) -> Round:
    """`due`, and the earliest retry due after `started_at`, in one transaction."""

    def take(session: Session) -> Round:
        if replica is None:
            found = _due(session, now, limit, served, None)
        else:
            found = _claim_due(session, now, limit, served, replica)
        return Round(found, _next_attempt_at(session, served, started_at))

    return await (store.read(take) if replica is None else store.write(take))


@dataclass(frozen=True)
class Held:
    """Pending replies for one channel this process does not serve."""

    channel: str
    count: int
    oldest_at: datetime


def _held(session: Session, served: Collection[str]) -> list[Held]:
    query = (
        select(Chat.channel, func.count(), func.min(Reply.created_at))
        .join(Chat, col(Chat.id) == Reply.chat_id)
        .where(Reply.status == "pending", col(Chat.channel).not_in(served))
        .group_by(Chat.channel)
        .order_by(Chat.channel)
    )
    return [Held(channel, count, oldest) for channel, count, oldest in session.exec(query)]


async def held(store: Store, served: Collection[str]) -> list[Held]:
    """Pending replies for channels not in `served`, by channel: they wait until a process that
    serves their channel runs, or until they are given up."""
    return await store.read(lambda s: _held(s, served))


def _give_up_held(session: Session, served: Collection[str], created_before: datetime, why: str) -> int:
    query = (
        select(Reply, Chat.channel)
        .join(Chat, col(Chat.id) == Reply.chat_id)
        .where(
            Reply.status == "pending",
            col(Chat.channel).not_in(served),
            col(Reply.created_at) <= created_before,
        )
    )
    count = 0
    for reply, channel in session.exec(query):
        reply.status, reply.next_attempt_at = "failed", None
        reply.error = why.format(channel=channel)
        count += 1
    return count


async def give_up_held(store: Store, served: Collection[str], created_before: datetime, why: str) -> int:
    """Fail every pending reply for a channel not in `served` written at or before `created_before`,
    with `why` (formatted with `channel`) as its error; how many there were."""
    return await store.write(lambda s: _give_up_held(s, served, created_before, why))


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt changes on its reply row."""

    reply_id: int
    values: dict[str, Any]


def retry(reply_id: int, attempts: int, next_at: datetime, error: str) -> Outcome:
    values = {"attempts": attempts, "next_attempt_at": next_at, "error": error, "claimed_by": None}
    return Outcome(reply_id, values)


def failed(reply_id: int, attempts: int, error: str) -> Outcome:
    values = {
        "status": "failed",
        "attempts": attempts,
        "error": error,
        "next_attempt_at": None,
        "claimed_by": None,
    }
    return Outcome(reply_id, values)


def _record(session: Session, outcomes: Sequence[Outcome], by: str | None) -> None:
    for outcome in outcomes:
        # Locked, and only while the attempt is still this sender's: a replica that stalled past its
        # claim may hear of its failed send after another replica claimed the reply, or sent it.
        reply = session.get(Reply, outcome.reply_id, with_for_update=True)
        if reply is not None and reply.status == "pending" and reply.claimed_by == by:
            for name, value in outcome.values.items():
                setattr(reply, name, value)


async def record(store: Store, outcomes: Sequence[Outcome], replica: Replica | None = None) -> None:
    """Write what became of several delivery attempts in one transaction; with `replica`, only for
    the replies it still has claimed."""
    if outcomes:
        by = None if replica is None else replica.name
        await store.write(lambda s: _record(s, outcomes, by))


def _settle(session: Session, reply_id: int, provider_id: str | None, at: datetime) -> str:
    # Locked, so a status callback handled by another replica waits for this to commit.
    reply = session.get(Reply, reply_id, with_for_update=True)
    if reply is None:
        return "failed"
    meta = dict(reply.meta)
    late, template = meta.pop(LATE_FAILURE, None), meta.pop(LATE_TEMPLATE, None)
    reply.meta, reply.next_attempt_at, reply.claimed_by = meta, None, None
    reply.provider_id, reply.sent_at = provider_id, at
    if late is None:
        reply.status = "sent"
    elif template and meta.get("via") != "template":
        reply.meta = {**meta, "via": "template", "parts_sent": "0"}
    else:
        reply.status, reply.error = "failed", late
    return reply.status


async def settle(store: Store, reply_id: int, provider_id: str | None, at: datetime) -> str:
    """Mark a reply whose every part the provider took as sent, unless a part's failure was reported
    while it went out: then it fails with that reason, or stays pending to go again as the template
    when the failure asked for one. Returns the status it ends with."""
    return await store.write(lambda s: _settle(s, reply_id, provider_id, at))
