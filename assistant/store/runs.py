"""Runs: what each team member (and the lead, once its turn closes) did, for `hearth runs` and /status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, or_, select

from assistant.store import Store, rows
from assistant.store.tables import Message, Run, Turn

LEAD = "lead"


@dataclass(frozen=True)
class TurnRuns:
    """A turn, the texts it answered, and every run that belongs to it (ordered by id)."""

    turn: Turn
    texts: list[str]
    runs: list[Run]


@dataclass(frozen=True)
class TurnSummary:
    turn: Turn
    members: int


async def start(store: Store, run: Run) -> int:
    """Insert a run (status `running`) and return its id."""

    def insert(session: Session) -> int:
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id

    return await store.write(insert)


async def add(store: Store, rows: list[Run]) -> None:
    """Insert finished runs in one transaction (nothing to do for none)."""
    if rows:
        await store.write(lambda s: s.add_all(rows))


async def finish(store: Store, run_id: int, **values: Any) -> None:
    """Record how a run ended: status, error, tokens, tool calls, finished_at and duration_ms."""

    def record(session: Session) -> None:
        run = session.get(Run, run_id)
        if run is not None:
            for name, value in values.items():
                setattr(run, name, value)

    await store.write(record)


# The runs that belong to a turn, built once (every agent turn closes with it): members written
# before the turn had an id carry its chat and start instead.
_BELONGS = or_(
    col(Run.turn_id) == sa.bindparam("turn_id"),
    (col(Run.chat_id) == sa.bindparam("chat_id"))
    & (col(Run.turn_started_at) == sa.bindparam("at"))
    & col(Run.turn_id).is_(None),
)
_MEMBERS = sa.select(col(Run.id)).where(_BELONGS)


def _belonging(turn: Turn) -> dict[str, Any]:
    return {"turn_id": turn.id, "chat_id": turn.chat_id, "at": turn.started_at}


def close_turn(
    session: Session, turn: Turn, tool_calls: list[dict[str, Any]], *, members: bool = True
) -> None:
    """Inside the transaction that writes the turn: record the lead's run and attach the turn's
    members to it (`members` False: the caller knows there are none, and none are looked for)."""
    assert turn.id is not None
    lead = rows.row_values(
        Run,
        turn_id=turn.id,
        chat_id=turn.chat_id,
        turn_started_at=turn.started_at,
        role=LEAD,
        model=turn.model or "",
        status="failed" if turn.error else "done",
        error=turn.error,
        started_at=turn.started_at,
        finished_at=turn.finished_at,
        duration_ms=turn.duration_ms,
        steps=turn.steps,
        prompt_tokens=turn.prompt_tokens,
        eval_tokens=turn.eval_tokens,
        tool_calls=tool_calls,
    )
    connection = session.connection()
    found = connection.execute(_MEMBERS, _belonging(turn)) if members else ()
    member_ids = [run_id for (run_id,) in found]
    lead_id = rows.insert_values(session, Run.__table__, lead)  # type: ignore[attr-defined]
    if member_ids:
        joined = col(Run.id).in_(member_ids)
        connection.execute(sa.update(Run).where(joined).values(turn_id=turn.id))
        orphans = joined & col(Run.parent_id).is_(None)
        connection.execute(sa.update(Run).where(orphans).values(parent_id=lead_id))


def _for_turn(session: Session, turn_id: int) -> TurnRuns | None:
    turn = session.get(Turn, turn_id)
    if turn is None:
        return None
    texts = select(Message.text).where(Message.turn_id == turn_id).order_by(col(Message.id))
    runs = select(Run).where(_BELONGS).order_by(col(Run.id))
    return TurnRuns(turn, list(session.exec(texts)), list(session.exec(runs, params=_belonging(turn))))


async def for_turn(store: Store, turn_id: int) -> TurnRuns | None:
    """The turn with its runs, or None when there is no such turn."""
    return await store.read(lambda s: _for_turn(s, turn_id))


def _recent(session: Session, limit: int) -> list[TurnSummary]:
    query = select(Turn).where(Turn.kind == "agent").order_by(col(Turn.id).desc()).limit(limit)
    summaries = []
    for turn in session.exec(query).all():
        count = select(sa.func.count()).select_from(Run).where(_BELONGS, Run.role != LEAD)
        summaries.append(TurnSummary(turn, session.exec(count, params=_belonging(turn)).one()))
    return summaries


async def recent(store: Store, limit: int = 20) -> list[TurnSummary]:
    """The newest agent turns, newest first, each with how many team members it ran."""
    return await store.read(lambda s: _recent(s, limit))


async def tokens_since(store: Store, chat_id: int, since: datetime) -> int:
    """Model tokens the chat's turns and their team members spent since `since`."""
    turns = select(func.coalesce(func.sum(Turn.prompt_tokens + Turn.eval_tokens), 0)).where(
        Turn.chat_id == chat_id, col(Turn.started_at) >= since
    )
    members = select(func.coalesce(func.sum(Run.prompt_tokens + Run.eval_tokens), 0)).where(
        Run.chat_id == chat_id, col(Run.depth) > 0, col(Run.started_at) >= since
    )

    def total(session: Session) -> int:
        return int(session.exec(turns).one()) + int(session.exec(members).one())

    return await store.read(total)
