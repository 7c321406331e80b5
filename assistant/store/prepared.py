"""Statements of the hot path, compiled once and run on SQLite's own cursor.

SQLAlchemy spends about a hundred microseconds around each statement it runs (building the
execution context, processing parameters and rows), where SQLite itself takes a tenth of that; a
message meets some fifteen statements on its way through. A `Prepared` statement is an ordinary
Core statement, so it means the same on every database: on SQLite it is compiled to SQL once and
run on the driver's connection, with the same type processing SQLAlchemy would apply; elsewhere it
goes through SQLAlchemy as usual. Parameters are plain (no expanding `IN` lists).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None
Statement = sa.Select[*tuple[Any, ...]] | sa.Insert | sa.Update | sa.Delete


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    binds: tuple[Processor, ...]
    # The statement's own values (literals in it), processed once.
    fixed: Mapping[str, Any]
    # The result columns that need processing, by position, with their processors.
    steps: tuple[tuple[int, Callable[[Any], Any]], ...]


def _result_types(statement: Statement) -> list[sa.types.TypeEngine[Any]]:
    """The types of what the statement gives back: its columns, or what it RETURNS."""
    return [column.type for column in statement.exported_columns]


def _bind_processor(bind: sa.BindParameter[Any], dialect: sa.Dialect) -> Processor:
    return bind.type.dialect_impl(dialect).bind_processor(dialect)


def _plan(statement: Statement, dialect: sa.Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    names = tuple(compiled.positiontup or ())
    binds = {name: compiled.binds[name] for name in names}
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("a prepared statement takes no expanding parameters")
    processors = {name: _bind_processor(bind, dialect) for name, bind in binds.items()}
    fixed = {}
    for name, bind in binds.items():
        if not bind.required:
            processor = processors[name]
            fixed[name] = processor(bind.value) if processor else bind.value
    results = [t.dialect_impl(dialect).result_processor(dialect, None) for t in _result_types(statement)]
    steps = tuple((i, p) for i, p in enumerate(results) if p is not None)
    return _Plan(str(compiled), names, tuple(processors[name] for name in names), fixed, steps)


def _args(plan: _Plan, values: Mapping[str, Any]) -> list[Any]:
    """The statement's parameters in order, processed as SQLAlchemy would process them."""
    args = []
    for name, process in zip(plan.names, plan.binds, strict=True):
        if name not in values and name not in plan.fixed:
            message = f"A value is required for bind parameter {name!r}"
            raise sa.exc.StatementError(message, plan.sql, values, None)
        if name not in values:
            args.append(plan.fixed[name])
            continue
        try:
            args.append(process(values[name]) if process else values[name])
        except (TypeError, ValueError) as exc:  # as SQLAlchemy reports a value its type refuses
            raise sa.exc.StatementError(str(exc), plan.sql, values, exc) from exc
    return args


def _sqlite_connection(conn: sa.Connection) -> sqlite3.Connection:
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def each_of(name: str) -> sa.Select[tuple[Any]]:
    """The values of the JSON array given as parameter `name`, for an `IN` on SQLite (json_each):
    the list goes as one parameter (`json.dumps` of it), so the statement is compiled once, where
    an expanding IN list is rendered afresh every time it runs."""
    return sa.select(sa.func.json_each(sa.bindparam(name)).table_valued("value").c.value)


class Prepared:
    """A Core statement run by its compiled SQL on SQLite, and by SQLAlchemy anywhere else."""

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._plan: _Plan | None = None

    def _sqlite(self, conn: sa.Connection) -> _Plan | None:
        if conn.dialect.name != "sqlite":
            return None
        if self._plan is None:
            self._plan = _plan(self.statement, conn.dialect)
        return self._plan

    def _cursor(self, conn: sa.Connection, plan: _Plan, values: Mapping[str, Any]) -> sqlite3.Cursor:
        args = _args(plan, values)
        try:
            return _sqlite_connection(conn).execute(plan.sql, args)
        except sqlite3.Error as exc:
            raise sa.exc.DBAPIError.instance(plan.sql, args, exc, sqlite3.Error) from exc

    def rows(self, conn: sa.Connection, values: Mapping[str, Any]) -> list[Sequence[Any]]:
        """Every row the statement selects, as tuples of processed values."""
        plan = self._sqlite(conn)
        if plan is None:
            return [tuple(row) for row in conn.execute(self.statement, values)]
        found = self._cursor(conn, plan, values).fetchall()
        if not plan.steps:
            return found
        processed: list[Sequence[Any]] = []
        for row in found:
            values_of = list(row)
            for i, process in plan.steps:
                values_of[i] = process(values_of[i])
            processed.append(tuple(values_of))
        return processed

    def first(self, conn: sa.Connection, values: Mapping[str, Any]) -> Sequence[Any] | None:
        found = self.rows(conn, values)
        return found[0] if found else None

    def run(self, conn: sa.Connection, values: Mapping[str, Any]) -> int:
        """Run an UPDATE or DELETE; the number of rows it matched."""
        plan = self._sqlite(conn)
        if plan is None:
            return int(conn.execute(self.statement, values).rowcount)
        return self._cursor(conn, plan, values).rowcount

    def run_many(self, conn: sa.Connection, values: Sequence[Mapping[str, Any]]) -> int:
        """Run an INSERT, UPDATE or DELETE once for each of `values`; the number of rows they
        matched in all: one `executemany`, on SQLite of the compiled statement."""
        plan = self._sqlite(conn)
        if plan is None:
            return int(conn.execute(self.statement, list(values)).rowcount)
        args = [_args(plan, one) for one in values]
        try:
            return _sqlite_connection(conn).executemany(plan.sql, args).rowcount
        except sqlite3.Error as exc:
            raise sa.exc.DBAPIError.instance(plan.sql, args, exc, sqlite3.Error) from exc

    def insert(self, conn: sa.Connection, values: Mapping[str, Any]) -> int | None:
        """Run an INSERT of one row; the new row's id, or None when it inserted none (an INSERT
        that does nothing on a conflict). No RETURNING, which SQLite has only from 3.35."""
        plan = self._sqlite(conn)
        if plan is None:
            result = conn.execute(self.statement, values)
            inserted = result.inserted_primary_key
            return None if result.rowcount == 0 or inserted is None else int(inserted[0])
        cursor = self._cursor(conn, plan, values)
        # After an insert that did nothing, lastrowid still holds an earlier insert's id.
        return cursor.lastrowid if cursor.rowcount == 1 else None
