"""Durable state: every table, the queries on them, and migrations. One way in: `Store.read(fn)` and
`Store.write(fn)` with plain functions of a Session."""

from assistant.store.database import Store

__all__ = ["Store"]
