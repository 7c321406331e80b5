"""Media files on messages and replies: recording them, finding them, and letting old ones go."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, delete, select

from assistant.store import Store
from assistant.store.tables import MediaFile


async def add(store: Store, rows: Sequence[MediaFile]) -> list[MediaFile]:
    """Record files; the rows come back with their ids."""

    def write(session: Session) -> list[MediaFile]:
        session.add_all(rows)
        session.flush()
        for row in rows:
            session.refresh(row)
            session.expunge(row)
        return list(rows)

    return await store.write(write)


async def get(store: Store, file_id: int) -> MediaFile | None:
    return await store.read(lambda s: s.get(MediaFile, file_id))


async def for_reply(store: Store, reply_id: int) -> list[MediaFile]:
    """The files a reply carries, in the order they were attached."""
    query = select(MediaFile).where(MediaFile.reply_id == reply_id).order_by(col(MediaFile.id))
    return await store.read(lambda s: list(s.exec(query)))


async def for_messages(store: Store, message_ids: Sequence[int]) -> list[MediaFile]:
    """The files people sent with these messages, oldest first."""
    query = select(MediaFile).where(col(MediaFile.message_id).in_(message_ids)).order_by(col(MediaFile.id))
    return await store.read(lambda s: list(s.exec(query)))


async def older_than(store: Store, before: datetime) -> list[MediaFile]:
    query = select(MediaFile).where(col(MediaFile.created_at) < before)
    return await store.read(lambda s: list(s.exec(query)))


async def remove(store: Store, file_ids: Sequence[int]) -> None:
    if file_ids:
        await store.write(lambda s: s.exec(delete(MediaFile).where(col(MediaFile.id).in_(file_ids))))
