"""Prepared statements: on SQLite they run on the driver and must give exactly what SQLAlchemy gives
(the same types, the same errors); on PostgreSQL they are SQLAlchemy's own execution."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from assistant.store import Store, inbox, rows, views
from assistant.store.database import locked
from assistant.store.prepared import Prepared, each_of
from assistant.store.rows import loaded
from assistant.store.tables import Chat, Message, Reply, Turn
from assistant.types import Address, Inbound
from tests.postgres import postgres_url

__all__ = ["postgres_url"]

NOW = datetime(2026, 12, 1, 9, 30, 15, 250000, tzinfo=UTC)
REPLIES = (
    sa.select(col(Reply.id), col(Reply.text), col(Reply.created_at), col(Reply.meta), col(Reply.sent_at))
    .add_columns(sa.type_coerce(Reply.meta, sa.JSON)["kind"].as_string())
    .where(col(Reply.chat_id) == sa.bindparam("chat_id"), col(Reply.status) != "dropped")
    .where(col(Reply.created_at) > sa.bindparam("since", type_=Reply.__table__.c.created_at.type))  # type: ignore[attr-defined]
    .order_by(col(Reply.id))
    .limit(sa.bindparam("limit"))
)


def fill(session: Session) -> int:
    chat = Chat(channel="api", address="api:owner", created_at=NOW)
    session.add(chat)
    session.flush()
    assert chat.id is not None
    for n, meta in enumerate([{}, {"kind": "notice"}, {"kind": "file", "name": "é.png"}]):
        at = NOW + timedelta(seconds=n)
        session.add(Reply(chat_id=chat.id, text=f"reply {n} ✓", meta=meta, created_at=at, sent_at=at))
    session.add(Reply(chat_id=chat.id, text="gone", status="dropped", created_at=NOW))
    return chat.id


async def both_ways(url: str, statement: Any, values: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    store = await Store.open(url)
    chat_id = await store.write(fill)

    def read(session: Session) -> tuple[list[Any], list[Any]]:
        connection = session.connection()
        given = {**values, "chat_id": chat_id}
        return [tuple(r) for r in connection.execute(statement, given)], list(
            Prepared(statement).rows(connection, given)
        )

    found = await store.read(read)
    await store.close()
    return found


@pytest.mark.parametrize("since", [NOW - timedelta(days=1), NOW])
async def test_rows_are_what_sqlalchemy_gives_on_sqlite(tmp_path: Path, since: datetime) -> None:
    expected, ours = await both_ways(f"sqlite:///{tmp_path / 'h.db'}", REPLIES, {"since": since, "limit": 10})
    assert ours == expected
    assert [row[1] for row in ours] == [f"reply {n} ✓" for n in range(3)][3 - len(ours) :]
    assert len(ours) == (3 if since < NOW else 2)
    assert all(row[2].tzinfo is UTC for row in ours)
    assert [row[5] for row in ours][-2:] == ["notice", "file"]


async def test_rows_are_what_sqlalchemy_gives_on_postgres(postgres_url: str) -> None:
    expected, ours = await both_ways(postgres_url, REPLIES, {"since": NOW - timedelta(days=1), "limit": 10})
    assert ours == expected
    assert len(ours) == 3


async def test_an_insert_reads_back_as_the_orm_would_write_it(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    chat_id = await store.write(fill)

    def write(session: Session) -> int:
        values = rows.row_values(Reply, chat_id=chat_id, text="new", meta={"a": "b"}, created_at=NOW)
        return rows.insert_values(session, Reply.__table__, values)  # type: ignore[attr-defined]

    reply_id = await store.write(write)
    reply = await store.read(lambda s: s.get(Reply, reply_id))
    raw = sqlite3.connect(tmp_path / "h.db").execute(
        "SELECT created_at, meta FROM reply WHERE id = ?", (reply_id,)
    )
    await store.close()
    assert reply is not None
    assert (reply.text, reply.meta, reply.created_at, reply.status) == ("new", {"a": "b"}, NOW, "pending")
    assert raw.fetchone() == ("2026-12-01 09:30:15.250000", '{"a": "b"}')


async def test_bad_values_are_sqlalchemys_statement_errors_and_a_skipped_insert_has_no_id(
    tmp_path: Path,
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    add = Prepared(
        sqlite_insert(Chat)
        .values(
            channel=sa.bindparam("channel"), address=sa.bindparam("address"), created_at=sa.bindparam("at")
        )
        .on_conflict_do_nothing(index_elements=["channel", "address"])
    )

    def write(session: Session) -> list[int | None]:
        connection = session.connection()
        with pytest.raises(sa.exc.StatementError, match="required for bind parameter 'at'"):
            add.insert(connection, {"channel": "api", "address": "x"})
        with pytest.raises(sa.exc.StatementError, match="naive"):
            add.insert(connection, {"channel": "api", "address": "x", "at": datetime(2026, 1, 1)})
        return [add.insert(connection, {"channel": "api", "address": a, "at": NOW}) for a in ("x", "x", "y")]

    ids = await store.write(write)
    await store.close()
    assert ids[0] is not None
    assert ids[1] is None
    assert ids[2] == ids[0] + 1


def test_an_expanding_parameter_is_refused_when_first_run(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'h.db'}")
    statement = Prepared(
        sa.select(sa.literal(1)).where(sa.literal(1).in_(sa.bindparam("ids", expanding=True)))
    )
    with engine.connect() as conn, pytest.raises(ValueError, match="expanding"):
        statement.rows(conn, {"ids": [1]})
    engine.dispose()


async def test_a_held_lock_is_sqlalchemys_locked_error_and_a_write_waits_it_out(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    store = await Store.open(f"sqlite:///{db}")
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    message = Inbound("api", "m1", Address("api", "owner"), "hello", NOW)
    engine = sa.create_engine(f"sqlite:///{db}", connect_args={"timeout": 0})
    with engine.connect() as conn, pytest.raises(sa.exc.OperationalError) as caught:
        Prepared(sa.update(Chat).values(timezone="UTC")).run(conn, {})
    engine.dispose()
    accepting = asyncio.create_task(inbox.accept(store, [message], NOW))
    asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
    accepted = await accepting
    count = await store.read(lambda s: len(s.exec(select(Message.id)).all()))
    await store.close()
    other.close()
    assert locked(caught.value)
    assert accepted[0].new
    assert count == 1


async def test_loaded_rows_are_detached_instances(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    message = Inbound("api", "m1", Address("api", "owner"), "hello", NOW, meta={"x": "y"})
    (accepted,) = await inbox.accept(store, [message], NOW)
    found = await inbox.pending(store, accepted.chat_id)
    assert found is not None
    (pending,) = found.messages
    assert (pending.id, pending.text, pending.meta, pending.created_at) == (
        accepted.message_id,
        "hello",
        {"x": "y"},
        NOW,
    )
    assert sa.inspect(pending).detached
    assert sa.inspect(found.chat).detached
    assert found.chat.last_inbound_at == NOW
    # A loaded row written back is an update of that row, not a second row.
    pending.text = "edited"
    await store.write(lambda s: s.merge(pending) and None)
    stored = await store.read(lambda s: s.exec(select(Message)).all())
    turn = Turn(chat_id=accepted.chat_id, started_at=NOW, finished_at=NOW)
    await inbox.finish_turn(store, turn, [accepted.message_id], ["hi"])
    history = await views.history(store, accepted.chat_id, views.After(), 10)
    await store.close()
    assert [(m.id, m.text) for m in stored] == [(accepted.message_id, "edited")]
    assert [(e.role, e.text) for e in history] == [("user", "edited"), ("assistant", "hi")]
    assert sa.inspect(loaded(Chat, ["id", "channel"], [7, "api"])).key == (Chat, (7,), None)


async def run_many_on(url: str) -> tuple[int, list[str]]:
    store = await Store.open(url)
    chat_id = await store.write(fill)
    statement = (
        sa.update(Reply)
        .where(col(Reply.chat_id) == sa.bindparam("chat"), col(Reply.text) == sa.bindparam("old"))
        .values(text=sa.bindparam("new"))
    )
    # Three rows named, one of them twice and one missing: the count is of rows matched, in all.
    values = [
        {"chat": chat_id, "old": old, "new": f"{old}!"} for old in ("reply 0 ✓", "reply 1 ✓", "nothing")
    ]
    values.append({"chat": chat_id, "old": "reply 1 ✓!", "new": "twice"})
    matched = await store.write(lambda s: Prepared(statement).run_many(s.connection(), values))
    texts = await store.read(lambda s: list(s.exec(select(Reply.text).order_by(col(Reply.id)))))
    await store.close()
    return matched, texts


async def test_run_many_counts_the_rows_every_run_matched_on_sqlite(tmp_path: Path) -> None:
    matched, texts = await run_many_on(f"sqlite:///{tmp_path / 'h.db'}")
    assert matched == 3
    assert texts == ["reply 0 ✓!", "twice", "reply 2 ✓", "gone"]


async def test_run_many_counts_the_rows_every_run_matched_on_postgres(postgres_url: str) -> None:
    assert await run_many_on(postgres_url) == (3, ["reply 0 ✓!", "twice", "reply 2 ✓", "gone"])


async def test_an_in_over_each_of_finds_what_an_expanding_in_finds(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    await store.write(fill)
    wanted = ["reply 2 ✓", "gone", "reply 0 ✓", "no such text", "gone"]
    expanding = sa.select(col(Reply.id)).where(col(Reply.text).in_(sa.bindparam("texts", expanding=True)))
    prepared = Prepared(sa.select(col(Reply.id)).where(col(Reply.text).in_(each_of("texts"))))

    def read(session: Session) -> tuple[list[int], list[int]]:
        connection = session.connection()
        one = sorted(int(i or 0) for i in connection.execute(expanding, {"texts": wanted}).scalars())
        other = sorted(int(row[0]) for row in prepared.rows(connection, {"texts": json.dumps(wanted)}))
        return one, other

    one, other = await store.read(read)
    await store.close()
    assert one == other
    assert len(one) == 3


async def test_a_turn_closing_messages_another_turn_closed_is_superseded_on_sqlite(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    now = datetime.now(UTC)
    sender = Address("whatsapp", "+7")
    inbounds = [Inbound("whatsapp", f"w/{t}", sender, t, now) for t in ("one", "two", "three")]
    found = await inbox.accept(store, inbounds, now)
    chat_id, ids = found[0].chat_id, [a.message_id for a in found]
    # The same id twice is one message closed, not a conflict.
    await inbox.finish_turn(store, Turn(chat_id=chat_id, started_at=now), [ids[0], ids[0]], ["first"])
    with pytest.raises(inbox.Superseded):
        await inbox.finish_turn(store, Turn(chat_id=chat_id, started_at=now), ids[:2], ["again"])
    pending = await inbox.pending(store, chat_id)
    texts = await store.read(lambda s: list(s.exec(select(Reply.text))))
    await store.close()
    assert pending is not None
    assert [m.text for m in pending.messages] == ["two", "three"]
    assert texts == ["first"]
