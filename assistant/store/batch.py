"""Group commit for the inbox: messages accepted at the same moment share one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, Executable, Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from assistant.store import Store
from assistant.store.prepared import Prepared, each_of
from assistant.store.tables import Chat, Message
from assistant.types import Inbound


@dataclass(frozen=True)
class Accepted:
    """What the inbox did with one inbound message; `new` is False for a redelivery (one that two
    replicas store at the same moment counts as new on both)."""

    message_id: int
    chat_id: int
    new: bool


Item = tuple[Inbound, datetime]
MAX_BATCH = 1000


CHAT = Chat.__table__  # type: ignore[attr-defined]
MESSAGE = Message.__table__  # type: ignore[attr-defined]


def _once(table: Table, *unique: str) -> dict[str, Executable]:
    """An insert, by dialect, that skips a row another transaction stored first. Replicas on one
    database can both be given the same webhook (or the first messages of one new chat) at once:
    a plain insert would fail the unique index, and the whole group commit with it."""
    return {
        "postgresql": postgresql.insert(table).on_conflict_do_nothing(index_elements=list(unique)),
        "sqlite": sqlite.insert(table).on_conflict_do_nothing(index_elements=list(unique)),
    }


# Core statements on the transaction's connection: the ORM's per-row bookkeeping is most of the cost.
_INSERT_CHATS = _once(CHAT, "channel", "address")
_INSERT_MESSAGES = _once(MESSAGE, "channel", "provider_id")
_SET_LAST_INBOUND = (
    update(CHAT).where(CHAT.c.id == bindparam("chat_id")).values(last_inbound_at=bindparam("at"))
)


# By channel and address, the (channel, address) index's order: a look-up, not a scan. Built once,
# as the API's accepts run it for every message.
_CHATS = select(CHAT.c.channel, CHAT.c.address, CHAT.c.id).where(
    CHAT.c.channel.in_(bindparam("channels", expanding=True)),
    CHAT.c.address.in_(bindparam("addresses", expanding=True)),
)


def _insert(statements: Mapping[str, Executable], conn: Connection, table: Table) -> Executable:
    found = statements.get(conn.dialect.name)
    return insert(table) if found is None else found


def _chat_ids(
    conn: Connection, items: Sequence[Item], known: Mapping[tuple[str, str], int]
) -> dict[tuple[str, str], int]:
    """Chat ids for every (channel, address) in `items`, creating the missing chats; `known` ids
    (chats are never deleted) save the look-up."""
    wanted = {(i.channel, str(i.sender)): now for i, now in items}
    cached = {key: known[key] for key in wanted if key in known}
    if len(cached) == len(wanted):
        return cached
    values = {"channels": list({c for c, _ in wanted}), "addresses": list({a for _, a in wanted})}
    found = {(c, a): i for c, a, i in conn.execute(_CHATS, values) if (c, a) in wanted}
    # In one order, so that two transactions inserting the same new chats cannot wait on each other.
    missing = [
        {"channel": c, "address": a, "created_at": now}
        for (c, a), now in sorted(wanted.items())
        if (c, a) not in found
    ]
    if missing:
        # Plain executemany, then read back: RETURNING with many rows costs a round trip per row.
        conn.execute(_insert(_INSERT_CHATS, conn, CHAT), missing)
        made = conn.execute(_CHATS, {**values, "addresses": [m["address"] for m in missing]})
        found.update({(c, a): i for c, a, i in made if (c, a) in wanted})
    return found


# The channel too, so that the look-up uses the (channel, provider_id) index instead of a scan.
_EXISTING = select(MESSAGE.c.channel, MESSAGE.c.provider_id, MESSAGE.c.id).where(
    MESSAGE.c.channel.in_(bindparam("channels", expanding=True)),
    MESSAGE.c.provider_id.in_(bindparam("ids", expanding=True)),
)


# On SQLite the ids go as one JSON array: rendering an IN list afresh for each group commit cost
# more than the look-up itself.
_EXISTING_SQLITE = Prepared(
    select(MESSAGE.c.provider_id, MESSAGE.c.id).where(
        MESSAGE.c.channel == bindparam("channel"), MESSAGE.c.provider_id.in_(each_of("ids"))
    )
)


def _existing(conn: Connection, items: Sequence[Item]) -> dict[tuple[str, str], int]:
    if conn.dialect.name == "sqlite":
        by_channel: dict[str, set[str]] = {}
        for inbound, _ in items:
            by_channel.setdefault(inbound.channel, set()).add(inbound.provider_id)
        return {
            (channel, provider_id): message_id
            for channel, ids in by_channel.items()
            for provider_id, message_id in _EXISTING_SQLITE.rows(
                conn, {"channel": channel, "ids": json.dumps(sorted(ids))}
            )
        }
    values = {"ids": list({i.provider_id for i, _ in items}), "channels": list({i.channel for i, _ in items})}
    return {(c, p): i for c, p, i in conn.execute(_EXISTING, values)}


# The columns `_row` gives a value.
_ROW_NAMES = ("chat_id", "channel", "provider_id", "kind", "text", "meta", "status", "attempts", "created_at")


def _row(inbound: Inbound, chat_id: int, now: datetime) -> dict[str, object]:
    return {
        "chat_id": chat_id,
        "channel": inbound.channel,
        "provider_id": inbound.provider_id,
        "kind": inbound.kind,
        "text": inbound.text,
        "meta": dict(inbound.meta),
        "status": "accepted",
        "attempts": 0,
        "created_at": now,
    }


# One message on SQLite, the common case (the API, the console, a webhook on a quiet evening): four
# prepared statements on the driver instead of five through SQLAlchemy, about a sixth of the time.
_CHAT_ID = Prepared(
    select(CHAT.c.id).where(CHAT.c.channel == bindparam("channel"), CHAT.c.address == bindparam("address"))
)
_ADD_CHAT = Prepared(
    sqlite.insert(CHAT)
    .values(channel=bindparam("channel"), address=bindparam("address"), created_at=bindparam("at"))
    .on_conflict_do_nothing(index_elements=["channel", "address"])
)
_MESSAGE_ID = Prepared(
    select(MESSAGE.c.id).where(
        MESSAGE.c.channel == bindparam("channel"), MESSAGE.c.provider_id == bindparam("provider_id")
    )
)
_ADD_MESSAGE = Prepared(
    sqlite.insert(MESSAGE)
    .values({name: bindparam(name) for name in _ROW_NAMES})
    .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
)
_LAST_INBOUND = Prepared(_SET_LAST_INBOUND)


def _accept_one(
    conn: Connection, inbound: Inbound, now: datetime, chat_ids: Mapping[tuple[str, str], int]
) -> Accepted:
    key = {"channel": inbound.channel, "address": str(inbound.sender)}
    chat_id = chat_ids.get((inbound.channel, key["address"]))
    if chat_id is None:
        found = _CHAT_ID.first(conn, key)
        if found is None:
            _ADD_CHAT.run(conn, {**key, "at": now})
            found = _CHAT_ID.first(conn, key)
        assert found is not None
        chat_id = found[0]
    message = {"channel": inbound.channel, "provider_id": inbound.provider_id}
    existing = _MESSAGE_ID.first(conn, message)
    if existing is not None:
        return Accepted(existing[0], chat_id, False)
    added = _ADD_MESSAGE.insert(conn, _row(inbound, chat_id, now))
    if added is None:  # another program stored it since the look-up
        existing = _MESSAGE_ID.first(conn, message)
        assert existing is not None
        return Accepted(existing[0], chat_id, False)
    if inbound.kind != "job":
        _LAST_INBOUND.run(conn, {"chat_id": chat_id, "at": inbound.received_at})
    return Accepted(added, chat_id, True)


def _insert_rows(conn: Connection, rows: Sequence[Mapping[str, object]]) -> None:
    if conn.dialect.name == "sqlite":
        # The compiled statement on the driver: SQLAlchemy's executemany builds every row's
        # parameters again, about a quarter of a group commit.
        _ADD_MESSAGE.run_many(conn, rows)
    else:
        conn.execute(_insert(_INSERT_MESSAGES, conn, MESSAGE), rows)


def accept_many(
    conn: Connection, items: Sequence[Item], chat_ids: Mapping[tuple[str, str], int] | None = None
) -> list[Accepted]:
    """The same as `inbox.accept` for many messages at once, in a handful of statements."""
    if len(items) == 1 and conn.dialect.name == "sqlite":
        return [_accept_one(conn, *items[0], chat_ids or {})]
    chats = _chat_ids(conn, items, chat_ids or {})
    known = _existing(conn, items)
    fresh: dict[tuple[str, str], tuple[Inbound, datetime]] = {}
    for inbound, now in items:
        key = (inbound.channel, inbound.provider_id)
        if key not in known and key not in fresh:
            fresh[key] = (inbound, now)
    # In the order they came: a chat's messages are answered in the order of their ids.
    rows = [_row(i, chats[(i.channel, str(i.sender))], now) for i, now in fresh.values()]
    if rows:
        # A row another transaction stored meanwhile is read back below as if this one had: its
        # message counts as new on both (in the accepted metric too), and both routers look.
        _insert_rows(conn, rows)
        new_ids = _existing(conn, list(fresh.values()))
        last = {
            chats[(i.channel, str(i.sender))]: i.received_at for i, _ in fresh.values() if i.kind != "job"
        }
        if last:
            _LAST_INBOUND.run_many(conn, [{"chat_id": c, "at": at} for c, at in last.items()])
    else:
        new_ids = {}
    results, seen = [], set()
    for inbound, _ in items:
        key = (inbound.channel, inbound.provider_id)
        chat_id = chats[(inbound.channel, str(inbound.sender))]
        new = key in new_ids and key not in seen
        seen.add(key)
        results.append(Accepted(new_ids.get(key) or known[key], chat_id, new))
    return results


def _accept_on(
    items: Sequence[Item], chat_ids: Mapping[tuple[str, str], int], session: Session
) -> list[Accepted]:
    return accept_many(session.connection(), items, chat_ids)


class AcceptBatcher:
    """Collects the accepts that arrive while a transaction is being written and commits them
    together in the next one: one commit serves many webhook requests under load, and a lone
    request still goes straight through."""

    def __init__(self, store: Callable[[], Store]) -> None:
        self.store = store
        self._queue: list[tuple[Sequence[Item], asyncio.Future[list[Accepted]]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._chat_ids: dict[tuple[str, str], int] = {}

    async def accept(self, inbounds: Sequence[Inbound], now: datetime) -> list[Accepted]:
        """Store `inbounds` durably (with whatever else is waiting); what became of each."""
        future: asyncio.Future[list[Accepted]] = asyncio.get_running_loop().create_future()
        self._queue.append(([(i, now) for i in inbounds], future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="inbox-group-commit")
        # Not shielded: the items are queued already, so a handler cancelled meanwhile cancels only
        # its wait (the batch is still written, and the provider's redelivery is found stored).
        return await future

    async def _write(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            items = [item for items, _ in batch for item in items]
            try:
                # Alongside the loop: it reads the next requests while this batch is written.
                work = partial(_accept_on, items, self._chat_ids)
                results = await self.store().write(work, alongside=True)
            except Exception as exc:
                for _, future in batch:
                    with contextlib.suppress(asyncio.InvalidStateError):
                        future.set_exception(exc)
                continue
            # Only committed chats are remembered.
            self._chat_ids.update(
                ((i.channel, str(i.sender)), r.chat_id) for (i, _), r in zip(items, results, strict=True)
            )
            start = 0
            for items_of, future in batch:
                if not future.done():
                    future.set_result(results[start : start + len(items_of)])
                start += len(items_of)
