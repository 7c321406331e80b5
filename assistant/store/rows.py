"""Rows written and made without the ORM's unit of work: one prepared INSERT per table, and
instances made as the ORM makes them, without their validating constructor."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import Session, SQLModel

from assistant.store.prepared import Prepared

M = TypeVar("M", bound=SQLModel)

_INSERTS: dict[str, Prepared] = {}
_DEFAULTS: dict[str, dict[str, Any]] = {}


def columns(model: type[SQLModel]) -> list[sa.Column[Any]]:
    """The columns of `model`'s table, in order."""
    return list(model.__table__.columns)  # type: ignore[attr-defined]


def _statement(table: sa.Table) -> Prepared:
    # Built once per table: every column but the id, whose values go as parameters.
    statement = _INSERTS.get(table.name)
    if statement is None:
        columns = {c.name: sa.bindparam(c.name, type_=c.type) for c in table.columns if c.name != "id"}
        statement = _INSERTS[table.name] = Prepared(sa.insert(table).values(columns))
    return statement


def insert(session: Session, row: SQLModel) -> int:
    """Insert `row` with one Core statement on the session's connection (no unit of work), set its
    id and return it. The row stays outside the session."""
    table = row.__table__  # type: ignore[attr-defined]
    row_id = insert_values(session, table, {c.name: getattr(row, c.name) for c in table.columns})
    row.id = row_id
    return row_id


def insert_values(session: Session, table: sa.Table, values: Mapping[str, Any]) -> int:
    """Insert one row of `table` from all its column values (any `id` left out); its id."""
    values = {name: value for name, value in values.items() if name != "id"}
    row_id = _statement(table).insert(session.connection(), values)
    assert row_id is not None
    return row_id


def row_values(model: type[SQLModel], /, **given: Any) -> dict[str, Any]:
    """The column values of a `model` row made with `given`, the rest at their fields' defaults,
    without making the row: building a table model instance costs about 0.1 ms, which a turn paid
    for each of its rows."""
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    defaults = _DEFAULTS.get(table.name)
    if defaults is None:
        empty = model()
        defaults = _DEFAULTS[table.name] = {c.name: getattr(empty, c.name) for c in table.columns}
    values = {k: copy.copy(v) if isinstance(v, dict | list) else v for k, v in defaults.items()}
    # A default made by a factory (an instant, say) is made afresh, not the first row's again.
    for name, field in model.model_fields.items():
        if name in values and name not in given and field.default_factory is not None:
            values[name] = field.default_factory()  # type: ignore[call-arg]
    unknown = set(given) - set(values)
    if unknown:
        raise TypeError(f"{table.name} has no column {sorted(unknown)}")
    values.update(given)
    return values


def new_row(model: type[M], /, **given: Any) -> M:
    """A new `model` row (not yet stored) with `given` and the rest at their defaults, made without
    the model's validating constructor: the ORM's own way of making an instance, a seventh of the time."""
    row: M = sa.orm.class_mapper(model).class_manager.new_instance()
    row.__dict__.update(row_values(model, **given))
    return row


def loaded(model: type[M], names: Sequence[str], values: Sequence[Any]) -> M:
    """A row as an instance of `model`, as though a session had loaded it and then closed: its
    constructor (about 0.1 ms, validating) is skipped, which is what the ORM's loading does too."""
    instance: M = sa.orm.class_mapper(model).class_manager.new_instance()
    instance.__dict__.update(zip(names, values, strict=True))
    sa.orm.make_transient_to_detached(instance)
    return instance
