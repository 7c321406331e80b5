"""Runs: what each team member (and the lead, once its turn closes) did, for `hearth runs` and /status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, or_, select

from assistant.store.models import Message, Turn, UTCDateTime, utcnow
from assistant.store.store import Store

LEAD = "lead"


class Run(SQLModel, table=True):
    """One agent run. A member belongs to the turn its lead runs in: the chat's turn started at
    `turn_started_at` (the turn row is written when it closes, so `turn_id` is filled in then)."""

    __table_args__ = (sa.Index("ix_run_chat_turn_started", "chat_id", "turn_started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    turn_id: int | None = Field(default=None, foreign_key="turn.id", index=True)
    chat_id: int = Field(foreign_key="chat.id")
    turn_started_at: datetime = Field(sa_column=sa.Column(UTCDateTime(), nullable=False))
    parent_id: int | None = Field(default=None, foreign_key="run.id")
    depth: int = 0
    role: str = Field(max_length=32)
    task: str = ""
    model: str = Field(default="", max_length=128)
    status: str = Field(default="running", max_length=16)
    error: str | None = None
    started_at: datetime = Field(default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=True))
    duration_ms: int | None = None
    steps: int = 0
    prompt_tokens: int = 0
    eval_tokens: int = 0
    tool_calls: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False)
    )


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
    async with store.transaction() as session:
        session.add(run)
        await session.flush()
        assert run.id is not None
        return run.id


async def add(store: Store, rows: list[Run]) -> None:
    """Insert finished runs in one transaction (nothing to do for none)."""
    if rows:
        async with store.transaction() as session:
            session.add_all(rows)


async def finish(store: Store, run_id: int, **values: Any) -> None:
    """Record how a run ended: status, error, tokens, tool calls, finished_at and duration_ms."""
    async with store.transaction() as session:
        run = await session.get(Run, run_id)
        if run is not None:
            for name, value in values.items():
                setattr(run, name, value)


def _belongs(turn: Turn) -> Any:
    by_key = (col(Run.chat_id) == turn.chat_id) & (col(Run.turn_started_at) == turn.started_at)
    return or_(col(Run.turn_id) == turn.id, by_key & col(Run.turn_id).is_(None))


async def close_turn(store: Store, turn: Turn, tool_calls: list[dict[str, Any]]) -> None:
    """Once the turn row exists: record the lead's run and attach the turn's members to it."""
    if turn.id is None:
        return
    lead = Run(
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
    async with store.transaction() as session:
        members = list(await session.exec(select(Run).where(_belongs(turn))))
        session.add(lead)
        await session.flush()
        for run in members:
            run.turn_id = turn.id
            if run.parent_id is None:
                run.parent_id = lead.id


async def for_turn(store: Store, turn_id: int) -> TurnRuns | None:
    """The turn with its runs, or None when there is no such turn."""
    async with store.session() as session:
        turn = await session.get(Turn, turn_id)
        if turn is None:
            return None
        texts = select(Message.text).where(Message.turn_id == turn_id).order_by(col(Message.id))
        runs = select(Run).where(_belongs(turn)).order_by(col(Run.id))
        return TurnRuns(turn, list(await session.exec(texts)), list(await session.exec(runs)))


async def recent(store: Store, limit: int = 20) -> list[TurnSummary]:
    """The newest agent turns, newest first, each with how many team members it ran."""
    async with store.session() as session:
        query = select(Turn).where(Turn.kind == "agent").order_by(col(Turn.id).desc()).limit(limit)
        turns = list(await session.exec(query))
        summaries = []
        for turn in turns:
            count = select(sa.func.count()).select_from(Run).where(_belongs(turn), Run.role != LEAD)
            summaries.append(TurnSummary(turn, (await session.exec(count)).one()))
        return summaries
